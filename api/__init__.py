"""The HTTP API: Open311 GeoReport v2 and the open-data downloads (FastAPI).

Route handlers are thin: they parse the request, call :mod:`sesizari.open311`
or :mod:`sesizari.opendata`, and render the result with :mod:`api.render`.
"""

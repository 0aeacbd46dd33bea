"""The API's documentation pages (``/docs``, ``/redoc``), served with their own files.

FastAPI's default pages load Swagger UI and ReDoc from cdn.jsdelivr.net and a
favicon from fastapi.tiangolo.com: on a city hall's closed network (or any
machine without the internet) they are blank, and online every reader of the
docs is announced to a third party.  The same files come from the
``fastapi-offline`` package (MIT, pinned in ``requirements.txt``); only its
``static`` folder is used, mounted at :data:`ASSETS_URL`.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the Swagger UI and ReDoc files are served from.
ASSETS_URL = "/docs-assets"
_ASSETS = Path(fastapi_offline.__file__).parent / "static"

#: Swagger UI's own defaults would send the spec to validator.swagger.io for a
#: badge: no validator, no outside request.
_SWAGGER_PARAMETERS = {"validatorUrl": None}


def add_docs(app: FastAPI) -> None:
    """Mount the files and the two pages on ``app`` (made with ``docs_url=None``
    and ``redoc_url=None``)."""
    app.mount(ASSETS_URL, StaticFiles(directory=_ASSETS), name="docs-assets")

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", ""))

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = base(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=_SWAGGER_PARAMETERS,
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = base(request)
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

"""The FastAPI application: Open311 GeoReport v2 and open-data downloads.

``create_app(engine)`` builds the app around an engine (the tests pass their
own database); without one it uses the configured database on first request.
Errors follow the GeoReport v2 shape, in the format the URL asked for.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa
from fastapi import FastAPI, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, create_model
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.docs import add_docs
from api.head import HeadAsGet
from api.render import Format, errors, respond
from sesizari import open311, opendata
from sesizari.errors import NotFoundError, PermissionDeniedError, RateLimitError, SesizariError

API_VERSION = "0.1.0"

#: Largest open-data download one request may ask for (rows).
MAX_EXPORT_ROWS = 1_000_000


def _error_doc(description: str) -> dict:
    return {"description": description, "content": {"application/json": {}, "application/xml": {}}}


#: Documented responses of the Open311 routes: the URL's extension picks the format.
OPEN311_RESPONSES: dict[int | str, dict] = {
    200: {"content": {"application/json": {}, "application/xml": {}}},
    400: _error_doc("Bad input: [{code, description}], the description starts with the field"),
    404: _error_doc("Unknown city, service or request"),
}
POST_RESPONSES: dict[int | str, dict] = {
    **OPEN311_RESPONSES,
    403: _error_doc("Missing, invalid or revoked api_key"),
    415: _error_doc("The body is not a form (application/x-www-form-urlencoded or"
                    " multipart/form-data)"),
    429: _error_doc("The api_key's hourly budget is spent (SESIZARI_API_RATE_LIMIT)"),
}
#: The bodies ``POST /requests`` reads, as Open311 GeoReport v2 defines it.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NotAFormError(SesizariError):
    """A ``POST /requests`` whose body is not a form (JSON, say): its fields
    would all read as missing, and the answer would name the first one."""
DATA_RESPONSES: dict[int | str, dict] = {
    200: {
        "content": {
            "application/geo+json": {},
            "text/csv": {},
            "application/vnd.apache.parquet": {},
        }
    },
    400: _error_doc("Bad filter"),
    404: _error_doc("Unknown city"),
}

JurisdictionId = Annotated[
    str | None,
    Query(description="The city's slug (e.g. lugoj); required when the server has several."),
]


class DataFormat(StrEnum):
    """Open-data file formats (the URL's extension)."""

    GEOJSON = "geojson"
    CSV = "csv"
    PARQUET = "parquet"


_DATA_TYPES = {
    DataFormat.GEOJSON: ("application/geo+json", opendata.to_geojson),
    DataFormat.CSV: ("text/csv; charset=utf-8", opendata.to_csv),
    DataFormat.PARQUET: ("application/vnd.apache.parquet", opendata.to_geoparquet),
}


#: Form fields of ``POST /requests`` (``application/x-www-form-urlencoded``),
#: built from :class:`open311.ServiceRequestForm` (every field optional text),
#: so the HTTP form and the domain function cannot disagree on a field.
ServiceRequestFields: type[BaseModel] = create_model(
    "ServiceRequestFields",
    __doc__="Form fields of ``POST /requests`` (``application/x-www-form-urlencoded``).",
    **{f.name: (str | None, None) for f in dataclasses.fields(open311.ServiceRequestForm)},
)


def _format_of(request: Request) -> Format:
    """The format an error should use: the one the URL asked for, else JSON."""
    return Format.XML if request.url.path.endswith(".xml") else Format.JSON


def language_of(request: Request) -> str:
    """``"ro"`` when the client prefers Romanian (``Accept-Language: ro``, e.g. a
    city's own app), else ``"en"``: the language of the errors' descriptions."""
    return stated_language(request) or "en"


def stated_language(request: Request) -> str | None:
    """The one of ``ro``/``en`` the client's ``Accept-Language`` prefers, or
    None when it names neither: the language a reporter's e-mails are
    written in (None: both)."""
    best, best_q = None, 0.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            continue
        lang = tag.strip().lower().split("-", 1)[0]
        if lang in ("ro", "en") and q > best_q:
            best, best_q = lang, q
    return best


def _status_of(exc: SesizariError) -> int:
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, RateLimitError):
        return 429
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, NotAFormError):
        return 415
    return 400


def _check_ro(error: dict) -> str:
    """A parameter check of the framework's (pydantic's), said in Romanian:
    the usual kinds by name, any other with the English words after it."""
    ctx = error.get("ctx") or {}
    said = {
        "enum": f"folosiți una dintre: {str(ctx.get('expected')).replace(' or ', ' sau ')}",
        "int_parsing": "dați un număr întreg",
        "greater_than_equal": f"trebuie să fie cel puțin {ctx.get('ge')}",
        "less_than_equal": f"trebuie să fie cel mult {ctx.get('le')}",
        "missing": "este obligatoriu",
    }.get(error.get("type", ""))
    return said or f"valoare nevalidă ({error.get('msg')})"


def create_app(engine: Engine | None = None, reader: Engine | None = None) -> FastAPI:
    """The API application, on ``engine`` (default: the configured database).

    Its GET endpoints, public and open to any input, read through ``reader``
    (default: ``engine`` when one is given, else ``db.get_read_engine()``, a
    login that can write nothing); only ``POST /requests`` uses ``engine``.
    """
    app = FastAPI(
        title="Sesizari API",
        version=API_VERSION,
        docs_url=None,  # served by api/docs.py, with its own files
        redoc_url=None,
        description=(
            "Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) for citizen "
            f"reports, and open-data downloads. Open data licence: {opendata.LICENCE}"
        ),
    )
    add_docs(app)
    app.add_middleware(HeadAsGet)
    from sesizari import db as databases

    state: dict[str, Engine | None] = {"engine": engine, "reader": reader or engine}
    # Handlers run in a thread pool: the first requests must not all start and
    # migrate the database at once (they would queue on the migration lock).
    engine_lock = threading.Lock()

    def first_use(name: str, make: Callable[[], Engine]) -> Callable[[], Engine]:
        def get() -> Engine:
            with engine_lock:
                if state[name] is None:
                    state[name] = make()
                return state[name]

        return get

    db = first_use("engine", databases.get_engine)
    reads = first_use("reader", databases.get_read_engine)

    @app.exception_handler(SesizariError)
    def domain_error(request: Request, exc: SesizariError) -> Response:
        lang = language_of(request)
        # An English client reads the inputs by the API's own names (``lat``).
        said = exc.says(lang) if lang == "ro" else str(exc)
        response = errors(_format_of(request), _status_of(exc), [said])
        response.headers["Content-Language"] = lang
        return response

    @app.exception_handler(sa.exc.OperationalError)
    @app.exception_handler(psycopg.OperationalError)
    def unavailable(request: Request, exc: Exception) -> Response:
        # No detail: the address is public; `python -m sesizari check` says why.
        lang = language_of(request)
        said = ("baza de date nu este disponibilă; încercați din nou peste puțin timp"
                if lang == "ro" else "the database is unavailable; try again shortly")
        response = errors(_format_of(request), 503, [said])
        response.headers.update({"Content-Language": lang, "Retry-After": "30",
                                 "Cache-Control": "no-store"})
        return response

    @app.exception_handler(RequestValidationError)
    def bad_request(request: Request, exc: RequestValidationError) -> Response:
        lang = language_of(request)
        messages = [
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}:"
            f" {_check_ro(e) if lang == 'ro' else e.get('msg')}"
            for e in exc.errors()
        ]
        response = errors(_format_of(request), 400, messages or ["bad request"])
        response.headers["Content-Language"] = lang
        return response

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = errors(_format_of(request), exc.status_code, [str(exc.detail)])
        response.headers.update(exc.headers or {})  # e.g. Allow on 405
        return response

    @app.get(
        "/health",
        summary="Whether the API can read its database (for a load balancer or a monitor)",
        responses={503: {"description": "The database cannot be read; try again later"}},
    )
    def health() -> JSONResponse:
        try:
            with reads().connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except (sa.exc.SQLAlchemyError, psycopg.Error, SesizariError):
            # No detail: the address is public; `python -m sesizari check` says why.
            return JSONResponse({"status": "unavailable"}, status_code=503,
                                headers={"Cache-Control": "no-store", "Retry-After": "30"})
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    @app.get(
        "/services.{fmt}",
        summary="List the services (report categories)",
        responses=OPEN311_RESPONSES,
    )
    def get_services(fmt: Format, jurisdiction_id: JurisdictionId = None) -> Response:
        with reads().connect() as conn:
            city = open311.resolve_city(conn, jurisdiction_id)
            services = open311.list_services(conn, city)
        return respond(fmt, services, "services", "service")

    @app.get(
        "/services/{service_code}.{fmt}",
        summary="A service's definition (attributes)",
        responses=OPEN311_RESPONSES,
    )
    def get_service_definition(
        service_code: str, fmt: Format, jurisdiction_id: JurisdictionId = None
    ) -> Response:
        with reads().connect() as conn:
            city = open311.resolve_city(conn, jurisdiction_id)
            definition = open311.service_definition(conn, city, service_code)
        return respond(fmt, definition, "service_definition", None)

    @app.post(
        "/requests.{fmt}",
        summary="Create a service request (needs an api_key)",
        description=(
            "The reporter's `first_name`, `last_name`, `email` and `phone` are stored apart"
            " and never published. An `email` receives the registration number and each"
            " step of the request (taken up, resolved, rejected...), where the city has set"
            " up its mail server, in the language the request's `Accept-Language` prefers"
            " (`ro` or `en`; both when it names neither). The answer's `pin` (an"
            " extension of GeoReport v2) is the reporter's, shown once and stored only as"
            " a hash: the tracking page asks for it to confirm or dispute the fix and to"
            " stop the e-mails, so the app must show it to the reporter."
        ),
        responses=POST_RESPONSES,
    )
    def post_request(
        fmt: Format, fields: Annotated[ServiceRequestFields, Form()], request: Request
    ) -> Response:
        sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if sent not in FORM_TYPES:
            raise NotAFormError(
                f"send the fields as a form ({' or '.join(FORM_TYPES)}), as Open311"
                f" GeoReport v2 asks; this body is {sent or 'of no stated type'}",
                ro=f"trimiteți câmpurile ca formular ({' sau '.join(FORM_TYPES)}), cum cere"
                f" Open311 GeoReport v2; corpul primit este {sent or 'fără tip declarat'}",
            )
        created = open311.submit(db(), open311.ServiceRequestForm(**fields.model_dump()),
                                 lang=stated_language(request))  # fmt: skip
        return respond(fmt, [created], "service_requests", "request")

    @app.get(
        "/requests.{fmt}",
        summary="Search service requests (newest first, max 1000)",
        responses=OPEN311_RESPONSES,
    )
    def get_requests(
        fmt: Format,
        jurisdiction_id: JurisdictionId = None,
        service_request_id: Annotated[
            str | None, Query(description="Comma-separated ids; other filters then ignored.")
        ] = None,
        service_code: Annotated[str | None, Query(description="Comma-separated codes.")] = None,
        start_date: Annotated[str | None, Query(description="W3C date/time.")] = None,
        end_date: Annotated[str | None, Query(description="W3C date/time.")] = None,
        status: Annotated[str | None, Query(description="open or closed.")] = None,
    ) -> Response:
        with reads().connect() as conn:
            city = open311.resolve_city(conn, jurisdiction_id)
            found = open311.find_requests(
                conn,
                city,
                service_request_id=service_request_id,
                service_code=service_code,
                start_date=start_date,
                end_date=end_date,
                status=status,
            )
        return respond(fmt, found, "service_requests", "request")

    @app.get(
        "/requests/{service_request_id}.{fmt}",
        summary="One service request",
        responses=OPEN311_RESPONSES,
    )
    def get_request(
        service_request_id: str, fmt: Format, jurisdiction_id: JurisdictionId = None
    ) -> Response:
        with reads().connect() as conn:
            city = open311.resolve_city(conn, jurisdiction_id)
            found = open311.get_request(conn, city, service_request_id)
        return respond(fmt, [found], "service_requests", "request")

    @app.get(
        "/opendata/incidents.{fmt}",
        summary="All public incidents as an open-data file",
        responses=DATA_RESPONSES,
    )
    def get_open_data(
        fmt: DataFormat,
        jurisdiction_id: JurisdictionId = None,
        start: Annotated[str | None, Query(description="W3C date/time (inclusive).")] = None,
        end: Annotated[str | None, Query(description="W3C date/time (exclusive).")] = None,
        category: Annotated[list[str] | None, Query(description="Category codes.")] = None,
        status: Annotated[list[str] | None, Query(description="Statuses.")] = None,
        district: Annotated[list[str] | None, Query(description="District names.")] = None,
        limit: Annotated[int | None, Query(ge=1, le=MAX_EXPORT_ROWS)] = None,
    ) -> Response:
        with reads().connect() as conn:
            city = open311.resolve_city(conn, jurisdiction_id)
            tz = ZoneInfo(city.timezone)
            gdf = opendata.public_incidents(
                conn,
                city.slug,
                start=open311.parse_w3c(start, "start", tz),
                end=open311.parse_w3c(end, "end", tz),
                categories=category,
                statuses=status,
                districts=district,
                limit=limit,
            )
        media_type, writer = _DATA_TYPES[fmt]
        stamp = datetime.now(tz).strftime("%Y%m%d")  # the city's date, not the server's
        return Response(
            writer(gdf),
            media_type=media_type,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="{city.slug}-incidents-{stamp}.{fmt.value}"'
                ),
                "X-Licence": opendata.LICENCE,
            },
        )

    _document_errors_as_sent(app)
    return app


def _document_errors_as_sent(app: FastAPI) -> None:
    """The spec without FastAPI's "422 Validation Error": bad input is answered
    400 with ``[{code, description}]`` (``bad_request`` above), as Open311 does,
    and a client generated from the spec must expect that, not FastAPI's
    schema."""
    made = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = made()
            for operations in schema["paths"].values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""Open311 GeoReport v2 on top of the domain API, independent of any web framework.

The functions here speak the spec's vocabulary (``service_code``,
``service_request_id``, ``lat``/``long``...) and return plain dicts with the
spec's field names; :mod:`api` only renders them as JSON or XML.  Reports are
created through :func:`sesizari.incidents.create_incident`, and public reads
share :data:`sesizari.opendata.PUBLIC_POINT_SQL`, so the API shows exactly what
the open data shows: no personal data, sensitive points snapped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sesizari import apikeys, intake
from sesizari.catalog import City, get_city, list_city_slugs
from sesizari.errors import NotFoundError, PermissionDeniedError, ValidationError
from sesizari.incidents import Actor, Contact, NewIncident, create_incident
from sesizari.opendata import (
    PUBLIC_ADDRESS_SQL,
    PUBLIC_POINT_SQL,
    public_precision,
    unless_personal,
)
from sesizari.settings import load_settings
from sesizari.vocab import OPEN_STATUSES, Channel, ro_count

#: Window of ``GET /requests`` when no dates are given (days), per the spec.
DEFAULT_WINDOW_DAYS = 90
#: Most requests one ``GET /requests`` returns, per the spec.
MAX_REQUESTS = 1000
#: Longest free-text form value accepted before the domain checks (characters).
MAX_FIELD = 10_000

_OPEN = tuple(s.value for s in OPEN_STATUSES)

#: Domain field name -> Open311 field name, so errors name what the client sent.
_FIELD_NAMES = {
    "category": "service_code",
    "latitude": "lat",
    "longitude": "long",
    "location": "lat",
    "address": "address_string",
    "name": "first_name",
    "city": "jurisdiction_id",
}


@dataclass(frozen=True)
class ServiceRequestForm:
    """The fields of ``POST /requests`` (all optional here; checked by :func:`submit`)."""

    api_key: str | None = None
    jurisdiction_id: str | None = None
    service_code: str | None = None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = None
    media_url: str | None = None


def clean(value: str | None, field: str, max_length: int = MAX_FIELD) -> str | None:
    """Strip a text parameter; refuse what PostgreSQL cannot store or nobody would send."""
    if value is None:
        return None
    if "\x00" in value:
        raise ValidationError(
            field, "contains a NUL character", ro="conține un caracter NUL; ștergeți-l"
        )
    if len(value) > max_length:
        raise ValidationError(
            field,
            f"at most {max_length} characters",
            ro=f"scrieți cel mult {ro_count(max_length, 'caractere')}",
        )
    return value.strip() or None


# -- jurisdiction ----------------------------------------------------------------


def resolve_city(conn: Connection, jurisdiction_id: str | None) -> City:
    """The city a request is about: ``jurisdiction_id`` (a slug), or the only city."""
    slug = clean(jurisdiction_id, "jurisdiction_id", 100)
    if slug is None:
        slugs = list_city_slugs(conn)
        if len(slugs) == 1:
            return get_city(conn, slugs[0])
        if not slugs:
            raise NotFoundError(
                "No city is configured on this server",
                ro="Pe acest server nu este configurat niciun oraș",
            )
        raise ValidationError(
            "jurisdiction_id",
            f"required on this server; use one of {', '.join(slugs)}",
            ro=f"este obligatorie pe acest server; alegeți unul dintre {', '.join(slugs)}",
        )
    try:
        return get_city(conn, slug)
    except NotFoundError as exc:
        raise NotFoundError(f"jurisdiction_id: {exc}", ro=exc.ro) from None


# -- services ----------------------------------------------------------------------

_SERVICES_SQL = (
    "SELECT cat.code, cat.name_ro, cat.name_en, cat.target_hours, dep.name_ro AS department"
    " FROM categories cat JOIN departments dep"
    " ON dep.city_id = cat.city_id AND dep.department_id = cat.default_department_id"
    " WHERE cat.city_id = :c AND cat.active AND (CAST(:code AS text) IS NULL OR cat.code = :code)"
    " ORDER BY cat.code"
)


def _service(row: Any) -> dict[str, Any]:
    return {
        "service_code": row.code,
        "service_name": row.name_ro,
        "description": f"{row.name_en}. Target response time: {float(row.target_hours):g} hours.",
        "metadata": False,
        "type": "realtime",
        "keywords": row.code,
        "group": row.department,
    }


def list_services(conn: Connection, city: City) -> list[dict[str, Any]]:
    """The city's active categories as Open311 services."""
    rows = conn.execute(sa.text(_SERVICES_SQL), {"c": city.city_id, "code": None})
    return [_service(r) for r in rows]


def service_definition(conn: Connection, city: City, service_code: str) -> dict[str, Any]:
    """The service's extra attributes (none are defined yet: categories have no attributes)."""
    code = clean(service_code, "service_code", 100)
    row = conn.execute(sa.text(_SERVICES_SQL), {"c": city.city_id, "code": code}).first()
    if row is None:
        raise NotFoundError(
            f"service_code: no service {service_code!r} in {city.name_ro}",
            ro=f"Nu există categoria {service_code!r} în {city.name_ro}; alegeți alta",
        )
    return {"service_code": row.code, "attributes": []}


# -- reading requests ----------------------------------------------------------------

# PUBLIC_POINT_SQL is a constant of sesizari.opendata; every value is a bound parameter.
_REQUESTS_SQL = (
    "SELECT i.registry_number, i.status, cat.code, cat.name_ro AS service_name,"  # noqa: S608
    " CASE WHEN i.description_public THEN i.description END AS description,"
    " dep.name_ro AS department, i.created_at, i.updated_at,"
    " i.created_at + cat.target_hours * interval '1 hour' AS expected_at,"
    " " + PUBLIC_ADDRESS_SQL + " AS address,"
    # The resolution text, else the latest public update: either left out
    # when it holds an e-mail, phone, CNP or plate (migration 0027).
    " " + unless_personal("n.notes") + " AS status_notes,"
    " ST_Y(p.geom) AS lat, ST_X(p.geom) AS lon"
    " FROM incidents i"
    " JOIN categories cat ON cat.city_id = i.city_id AND cat.category_id = i.category_id"
    " JOIN departments dep ON dep.city_id = i.city_id AND dep.department_id = i.department_id"
    " CROSS JOIN LATERAL (SELECT " + PUBLIC_POINT_SQL + " AS geom) p"
    " CROSS JOIN LATERAL (SELECT COALESCE(i.resolution_text, (SELECT e.body"
    "  FROM incident_events e WHERE e.city_id = i.city_id AND e.incident_id = i.incident_id"
    "  AND e.is_public AND e.body IS NOT NULL ORDER BY e.created_at DESC, e.event_id DESC"
    "  LIMIT 1)) AS notes) n"
    " WHERE i.city_id = :c"
    " AND (CAST(:ids AS text[]) IS NULL OR i.registry_number = ANY (CAST(:ids AS text[])))"
    " AND (CAST(:codes AS text[]) IS NULL OR cat.code = ANY (CAST(:codes AS text[])))"
    " AND (CAST(:start AS timestamptz) IS NULL OR i.created_at >= :start)"
    " AND (CAST(:end AS timestamptz) IS NULL OR i.created_at <= :end)"
    " AND (CAST(:open AS boolean) IS NULL"
    "  OR (i.status = ANY (CAST(:open_statuses AS text[]))) = :open)"
    " ORDER BY i.created_at DESC, i.registry_number DESC"
    " LIMIT :lim"
)


def w3c(value: datetime | None, tz: ZoneInfo) -> str | None:
    """A W3C datetime with the city's offset (``2026-11-20T14:00:00+02:00``)."""
    return None if value is None else value.astimezone(tz).isoformat(timespec="seconds")


def parse_w3c(value: str | None, field: str, tz: ZoneInfo) -> datetime | None:
    """Parse a W3C date or datetime; a value without offset is the city's local time."""
    text = clean(value, field, 64)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValidationError(
            field,
            f"not a W3C date/time: {text!r} (e.g. 2026-11-20T14:00:00+02:00)",
            ro=f"nu este o dată/oră W3C: {text!r}; scrieți de exemplu 2026-11-20T14:00:00+02:00",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValidationError(
            field,
            f"out of range: {text!r}",
            ro=f"în afara intervalului admis: {text!r}; alegeți altă dată",
        ) from None


def _request(row: Any, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "service_request_id": row.registry_number,
        "status": "open" if row.status in _OPEN else "closed",
        "status_notes": row.status_notes,
        "service_name": row.service_name,
        "service_code": row.code,
        "description": row.description,
        "agency_responsible": row.department,
        "service_notice": None,
        "requested_datetime": w3c(row.created_at, tz),
        "updated_datetime": w3c(row.updated_at, tz),
        "expected_datetime": w3c(row.expected_at, tz),
        "address": row.address,
        "address_id": None,
        "zipcode": None,
        "lat": row.lat,
        "long": row.lon,
        "media_url": None,
    }


def _list_param(value: str | None, field: str, upper: bool = False) -> list[str] | None:
    # Room for the spec's 1000 values, each as long as a code may be (100).
    text = clean(value, field, MAX_REQUESTS * 101)
    if text is None:
        return None
    items = [v.strip().upper() if upper else v.strip() for v in text.split(",")]
    items = [v for v in items if v]
    if len(items) > MAX_REQUESTS:
        raise ValidationError(
            field,
            f"at most {MAX_REQUESTS} values",
            ro=f"trimiteți cel mult {MAX_REQUESTS} de valori",
        )
    return items or None


def find_requests(
    conn: Connection,
    city: City,
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """``GET /requests``: newest first, at most :data:`MAX_REQUESTS`.

    With ``service_request_id`` (a comma list) the other filters are ignored,
    as the spec says.  Without dates, the last :data:`DEFAULT_WINDOW_DAYS` days.
    """
    tz = ZoneInfo(city.timezone)
    ids = _list_param(service_request_id, "service_request_id", upper=True)
    codes = start = end = open_flag = None
    if ids is None:
        codes = _list_param(service_code, "service_code")
        start = parse_w3c(start_date, "start_date", tz)
        end = parse_w3c(end_date, "end_date", tz)
        state = clean(status, "status", 20)
        if state is not None:
            if state not in ("open", "closed"):
                raise ValidationError(
                    "status",
                    f"use open or closed, not {state!r}",
                    ro=f"folosiți open sau closed, nu {state!r}",
                )
            open_flag = state == "open"
        if start is not None and end is not None and start > end:
            raise ValidationError(
                "start_date",
                "is after end_date",
                ro="este după data de sfârșit; alegeți o dată mai veche",
            )
        try:
            if start is None and end is None:
                end = now or datetime.now(UTC)
                start = end - timedelta(days=DEFAULT_WINDOW_DAYS)
            elif start is None:
                start = end - timedelta(days=DEFAULT_WINDOW_DAYS)
        except OverflowError:
            raise ValidationError(
                "end_date", "out of range", ro="în afara intervalului admis; alegeți altă dată"
            ) from None
    rows = conn.execute(
        sa.text(_REQUESTS_SQL),
        {
            "c": city.city_id,
            "bnd_city": city.city_id,
            "prec": public_precision(city),
            "ids": ids,
            "codes": codes,
            "start": start,
            "end": end,
            "open": open_flag,
            "open_statuses": list(_OPEN),
            "lim": MAX_REQUESTS,
        },
    )
    return [_request(r, tz) for r in rows]


def get_request(conn: Connection, city: City, service_request_id: str) -> dict[str, Any]:
    """``GET /requests/{id}``: one request, or :class:`NotFoundError`."""
    number = clean(service_request_id, "service_request_id", 100)
    # One id only: a comma here is not the list syntax of GET /requests.
    valid = number is not None and "," not in number
    found = find_requests(conn, city, service_request_id=number) if valid else []
    if not found:
        raise NotFoundError(
            f"service_request_id: no request {service_request_id!r} in {city.name_ro}",
            ro=f"Nu există sesizarea {service_request_id!r} în {city.name_ro}",
        )
    return found[0]


# -- creating requests ---------------------------------------------------------------


def _coordinate(value: str | None, field: str) -> float:
    text = clean(value, field, 64)
    if text is None:
        raise ValidationError(
            field,
            "required (reports are placed by lat/long; addresses are not geocoded)",
            ro="este obligatorie (sesizarea se plasează după coordonate;"
            " adresa nu este căutată pe hartă)",
        )
    try:
        number = float(text)
    except ValueError:
        raise ValidationError(
            field, f"not a number: {text!r}", ro=f"scrieți un număr, nu {text!r}"
        ) from None
    if not math.isfinite(number):
        raise ValidationError(
            field, f"not a finite number: {text!r}", ro=f"scrieți un număr finit, nu {text!r}"
        )
    return number


def submit(engine: Engine, form: ServiceRequestForm, lang: str | None = None) -> dict[str, Any]:
    """``POST /requests``: check the key, create the incident, return its number.

    ``lang``: the language the reporter's e-mails are written in (the
    request's ``Accept-Language``); None writes them in Romanian and English.

    Raises :class:`PermissionDeniedError` for a missing, unknown or revoked key,
    :class:`RateLimitError` past the key's hourly budget
    (``SESIZARI_API_RATE_LIMIT``), :class:`ValidationError` (with the Open311
    field name) for bad input.
    ``media_url`` and ``device_id``/``account_id`` are accepted and ignored.
    The answer carries the reporter's ``pin`` (an extension of the standard):
    the app shows it once, and the tracking page asks for it to confirm or
    dispute the fix or stop the e-mails.
    """
    with engine.connect() as conn:
        city = resolve_city(conn, form.jurisdiction_id)
        key = apikeys.check_key(conn, city.city_id, form.api_key)
    if key is None:
        raise PermissionDeniedError(
            f"api_key: missing, invalid or revoked for {city.slug}",
            ro=f"Cheia API lipsește, nu este validă sau a fost revocată pentru {city.slug}",
        )
    # An app files for all its users: its key has an hourly budget of its own.
    intake.check_rate(engine, city.slug, f"api-key:{key.key_id}",
                      load_settings().api_rate_limit_per_hour, what="this api_key")
    service_code = clean(form.service_code, "service_code", 100)
    if service_code is None:
        raise ValidationError(
            "service_code", "required", ro="este obligatorie; alegeți o categorie"
        )
    lat = _coordinate(form.lat, "lat")
    lon = _coordinate(form.long, "long")
    description = clean(form.description, "description")
    if description is None:
        raise ValidationError(
            "description",
            "required: describe the problem",
            ro="este obligatorie: descrieți problema",
        )
    name = " ".join(
        part
        for part in (clean(form.first_name, "first_name"), clean(form.last_name, "last_name"))
        if part
    )
    email = clean(form.email, "email")
    phone = clean(form.phone, "phone")
    contact = (
        Contact(name or None, phone, email, consent=True, lang=lang)
        if name or email or phone
        else None
    )
    new = NewIncident(
        city=city.slug,
        category=service_code,
        latitude=lat,
        longitude=lon,
        description=description,
        channel=Channel.APP,
        address=clean(form.address_string, "address_string"),
        contact=contact,
        # The reporter confirms or disputes the fix, and stops the e-mails,
        # with this PIN: the app is the only one that can hand it over.
        want_pin=True,
    )
    try:
        created = create_incident(engine, new, Actor(f"open311:{key.name}", None, Channel.APP))
    except ValidationError as exc:
        # exc.ro is prefixed with the domain's field name; the API names its own.
        raise ValidationError(
            _FIELD_NAMES.get(exc.field, exc.field),
            exc.message,
            ro=exc.ro.split(": ", 1)[1] if exc.ro else None,
        ) from None
    with engine.connect() as conn:
        department = conn.execute(
            sa.text("SELECT name_ro, name_en FROM departments WHERE city_id = :c AND code = :d"),
            {"c": city.city_id, "d": created.department_code},
        ).one()
    # In the language the client asked for, as its errors are (English by default).
    notice = (
        f"Înregistrată cu numărul {created.registry_number}; răspunde: {department.name_ro}."
        if lang == "ro" else
        f"Registered as {created.registry_number}; responsible: {department.name_en}."
    )  # fmt: skip
    return {
        "service_request_id": created.registry_number,
        "service_notice": notice,
        "account_id": None,
        # An extension of GeoReport v2: shown once (only its hash is stored).
        "pin": created.pin,
    }

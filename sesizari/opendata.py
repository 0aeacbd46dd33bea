"""Open data: the public view of the incidents, and its file formats.

One query (:func:`public_incidents`) decides what is public, with an explicit
allow-list of columns; every public output (the open-data files, the Open311
API, the public map page) goes through it or through :data:`PUBLIC_POINT_SQL`,
so a new column in ``incidents`` or ``incident_contacts`` can never leak by
accident.  Personal data (reporter contacts, internal notes, assignee names)
is never selected.

Points of sensitive categories (``categories.sensitive``) are snapped to a grid
of ``cities.settings ->> 'public_precision_m'`` metres (default 100) in
EPSG:3844, the same way in every export, and kept inside the city boundary.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sesizari.catalog import City, get_city
from sesizari.csvcell import defuse
from sesizari.errors import ValidationError
from sesizari.vocab import WGS84, Status

#: Grid size (metres) for sensitive points when the city sets none.
DEFAULT_PRECISION_M = 100.0
#: Coarsest grid a city may configure (a larger value is a typo).
MAX_PRECISION_M = 10_000.0

LICENCE = (
    "Creative Commons Attribution 4.0 International (CC BY 4.0), "
    "https://creativecommons.org/licenses/by/4.0/ - reuse freely, including commercially, "
    "citing the source: the city hall, through Sesizari."
)

#: The public columns, in output order (``geometry`` is the point, EPSG:4326).
PUBLIC_COLUMNS: tuple[str, ...] = (
    "registry_number",
    "category",
    "category_name_ro",
    "category_name_en",
    "status",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "district",
    "department",
    "description",
    "resolution_text",
    "geometry",
)

_TIME_COLUMNS = ("created_at", "acknowledged_at", "resolved_at", "closed_at")

DATA_DICTIONARY: dict[str, dict[str, str]] = {
    "registry_number": {
        "ro": "Numărul de înregistrare în registrul general al primăriei (ex. LUG-2026-000123).",
        "en": "Number in the city hall's general registry (e.g. LUG-2026-000123).",
    },
    "category": {"ro": "Codul categoriei problemei.", "en": "Code of the problem category."},
    "category_name_ro": {
        "ro": "Numele categoriei, în română.",
        "en": "Category name, in Romanian.",
    },
    "category_name_en": {
        "ro": "Numele categoriei, în engleză.",
        "en": "Category name, in English.",
    },
    "status": {
        "ro": "Starea: new, acknowledged, in_progress, resolved, closed, rejected, duplicate.",
        "en": "Status: new, acknowledged, in_progress, resolved, closed, rejected, duplicate.",
    },
    "created_at": {
        "ro": "Data și ora sesizării (ISO 8601, UTC).",
        "en": "When the report was made (ISO 8601, UTC).",
    },
    "acknowledged_at": {
        "ro": "Când a fost preluată de departament (UTC); gol dacă nu încă.",
        "en": "When the department took it on (UTC); empty if not yet.",
    },
    "resolved_at": {
        "ro": "Când a fost rezolvată (UTC); gol dacă nu încă.",
        "en": "When it was resolved (UTC); empty if not yet.",
    },
    "closed_at": {
        "ro": "Când a fost închisă (UTC); gol dacă nu încă.",
        "en": "When it was closed (UTC); empty if not yet.",
    },
    "district": {
        "ro": "Cartierul în care se află punctul; gol în afara cartierelor definite.",
        "en": "District containing the point; empty outside the defined districts.",
    },
    "department": {
        "ro": "Departamentul responsabil.",
        "en": "Department responsible.",
    },
    "description": {
        "ro": "Descrierea cetățeanului; goală când personalul a ascuns-o (date personale) sau"
        " când pare să conțină un telefon, un e-mail, un CNP sau un număr de înmatriculare,"
        " până când personalul o publică.",
        "en": "The citizen's description; empty when staff hid it (personal data), or when it"
        " seems to hold a phone number, an e-mail, a CNP or a number plate, until staff"
        " publish it.",
    },
    "resolution_text": {
        "ro": "Ce s-a făcut pentru rezolvare; gol când textul pare să conțină un telefon, un"
        " e-mail, un CNP sau un număr de înmatriculare.",
        "en": "What was done to fix it; empty when the text seems to hold a phone number, an"
        " e-mail, a CNP or a number plate.",
    },
    "geometry": {
        "ro": "Punctul (WGS 84, EPSG:4326). Pentru categoriile sensibile, rotunjit la grila "
        "de precizie publică a orașului (implicit 100 m, în EPSG:3844).",
        "en": "The point (WGS 84, EPSG:4326). For sensitive categories, snapped to the city's "
        "public precision grid (100 m by default, in EPSG:3844).",
    },
    "lon": {
        "ro": "Longitudinea punctului public (doar în CSV).",
        "en": "Longitude of the public point (CSV only).",
    },
    "lat": {
        "ro": "Latitudinea punctului public (doar în CSV).",
        "en": "Latitude of the public point (CSV only).",
    },
}

#: The public point of incident ``i`` (category ``cat``): exact, or snapped for
#: sensitive categories.  Needs the bound parameters ``:prec`` (metres) and
#: ``:bnd_city`` (the city id, to read its boundary).
PUBLIC_POINT_SQL = (
    "CASE WHEN NOT cat.sensitive THEN i.geom ELSE ("
    " SELECT CASE WHEN ST_Covers(b.boundary, s.p) THEN s.p"
    "  ELSE ST_ClosestPoint(b.boundary, s.p) END"
    # 3844 = vocab.STEREO70 (metric grid), 4326 = vocab.WGS84 (stored and published)
    " FROM (SELECT ST_Transform(ST_SnapToGrid(ST_Transform(i.geom, 3844), :prec), 4326) AS p) s,"
    " (SELECT boundary FROM cities WHERE city_id = :bnd_city) b) END"
)



def unless_personal(expr: str) -> str:
    """SQL for the text ``expr`` as published: NULL when it looks like it
    holds an e-mail, phone, CNP or plate (``looks_personal``, migration 0027).
    Every public output of staff or feed text goes through it."""
    return f"CASE WHEN NOT looks_personal({expr}) THEN {expr} END"


#: SQL for an incident's address as published (``i`` the incident, ``cat``
#: its category): none for a sensitive category (its point is generalised,
#: :data:`PUBLIC_POINT_SQL`), none when the text holds an e-mail, phone, CNP
#: or plate (a reporter who wrote "Str. X 3, Ion Pop, tel. 0744 ..." there).
PUBLIC_ADDRESS_SQL = "CASE WHEN NOT cat.sensitive THEN " + unless_personal("i.address") + " END"


def public_precision(city: City) -> float:
    """The city's grid for sensitive points, in metres (default when unset or invalid)."""
    value = (city.settings or {}).get("public_precision_m", DEFAULT_PRECISION_M)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return DEFAULT_PRECISION_M
    if not math.isfinite(value) or not 0 < value <= MAX_PRECISION_M:
        return DEFAULT_PRECISION_M
    return value


def _str_list(values: Iterable[str] | str | None, field: str) -> list[str] | None:
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    cleaned = [str(v).strip() for v in items if str(v).strip()]
    for v in cleaned:
        if "\x00" in v or len(v) > 200:
            raise ValidationError(field, f"not a valid value: {v[:40]!r}",
                                  ro=f"valoare nevalidă: {v[:40]!r}")
    return cleaned or None


def _query_params(
    city: City,
    start: datetime | None,
    end: datetime | None,
    categories: Iterable[str] | str | None,
    statuses: Iterable[str] | str | None,
    districts: Iterable[str] | str | None,
    limit: int | None,
) -> dict[str, Any]:
    status_list = _str_list(statuses, "status")
    for s in status_list or ():
        if s not in Status.__members__.values():
            raise ValidationError(
                "status", f"unknown status {s!r}; use one of {[x.value for x in Status]}",
                ro=f"stare necunoscută {s!r}; folosiți una dintre {[x.value for x in Status]}",
            )
    if start is not None and end is not None and start > end:
        raise ValidationError("start", "the start is after the end",
                              ro="începutul este după sfârșit")  # fmt: skip
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValidationError("limit", "a positive whole number is required",
                              ro="dați un număr întreg pozitiv")  # fmt: skip
    return {
        "c": city.city_id,
        "bnd_city": city.city_id,
        "prec": public_precision(city),
        "start": start,
        "end": end,
        "cats": _str_list(categories, "category"),
        "sts": status_list,
        "dists": _str_list(districts, "district"),
        "lim": limit,
    }


# PUBLIC_POINT_SQL is a constant of this module; every value is a bound parameter.
_PUBLIC_SQL = (
    "SELECT i.registry_number, cat.code AS category, cat.name_ro AS category_name_ro,"  # noqa: S608
    " cat.name_en AS category_name_en, i.status, i.created_at, i.acknowledged_at,"
    " i.resolved_at, i.closed_at, d.name AS district, dep.name_ro AS department,"
    " CASE WHEN i.description_public THEN i.description END AS description,"
    # A resolution text holding an e-mail, phone, CNP or plate (migration
    # 0027) is left out: staff, or a feed's source, wrote it for the reporter.
    " " + unless_personal("i.resolution_text") + " AS resolution_text,"
    " ST_AsBinary(" + PUBLIC_POINT_SQL + ") AS geometry"
    " FROM incidents i"
    " JOIN categories cat ON cat.city_id = i.city_id AND cat.category_id = i.category_id"
    " JOIN departments dep ON dep.city_id = i.city_id AND dep.department_id = i.department_id"
    " LEFT JOIN districts d ON d.city_id = i.city_id AND d.district_id = i.district_id"
    " WHERE i.city_id = :c"
    " AND (CAST(:start AS timestamptz) IS NULL OR i.created_at >= :start)"
    " AND (CAST(:end AS timestamptz) IS NULL OR i.created_at < :end)"
    " AND (CAST(:cats AS text[]) IS NULL OR cat.code = ANY (CAST(:cats AS text[])))"
    " AND (CAST(:sts AS text[]) IS NULL OR i.status = ANY (CAST(:sts AS text[])))"
    " AND (CAST(:dists AS text[]) IS NULL OR d.name = ANY (CAST(:dists AS text[])))"
    " ORDER BY i.created_at, i.registry_number"
    " LIMIT CAST(:lim AS bigint)"
)


def public_incidents(
    engine: Engine | Connection,
    city: str,
    start: datetime | None = None,
    end: datetime | None = None,
    categories: Sequence[str] | str | None = None,
    statuses: Sequence[str] | str | None = None,
    districts: Sequence[str] | str | None = None,
    limit: int | None = None,
) -> gpd.GeoDataFrame:
    """The city's incidents as published: :data:`PUBLIC_COLUMNS`, EPSG:4326.

    ``start`` (inclusive) and ``end`` (exclusive) bound ``created_at``; the other
    filters are lists of category codes, statuses and district names.  Rows are
    ordered by creation time, so repeated exports are identical.
    """
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return _public_incidents(conn, city, start, end, categories, statuses, districts, limit)
    return _public_incidents(engine, city, start, end, categories, statuses, districts, limit)


def _known(conn: Connection, city: City, field: str, asked: list[str] | None,
           sql: str) -> None:  # fmt: skip
    """Refuse a filter value the city does not have, naming those it has: a
    typo ("potholes") gave an empty file that read as "no data"."""
    if not asked:
        return
    known = list(conn.execute(sa.text(sql), {"c": city.city_id}).scalars())
    unknown = [v for v in asked if v not in known]
    if unknown:
        raise ValidationError(
            field, f"{city.slug} has no {field} {unknown[0]!r}; it has: {', '.join(known)}",
            ro=f"{city.name_ro} nu are {unknown[0]!r}; are: {', '.join(known)}",
        )


def _public_incidents(
    conn: Connection,
    city_slug: str,
    start: datetime | None,
    end: datetime | None,
    categories: Sequence[str] | str | None,
    statuses: Sequence[str] | str | None,
    districts: Sequence[str] | str | None,
    limit: int | None,
) -> gpd.GeoDataFrame:
    city = get_city(conn, city_slug)
    params = _query_params(city, start, end, categories, statuses, districts, limit)
    _known(conn, city, "category", params["cats"],
           "SELECT code FROM categories WHERE city_id = :c ORDER BY code")  # fmt: skip
    _known(conn, city, "district", params["dists"],
           "SELECT name FROM districts WHERE city_id = :c ORDER BY name")  # fmt: skip
    rows = conn.execute(sa.text(_PUBLIC_SQL), params).all()
    columns = [c for c in PUBLIC_COLUMNS if c != "geometry"]
    # Text columns stay ``object`` with None for missing values (not NaN), so
    # "no district" reads the same in every output.
    df = pd.DataFrame(
        {
            col: (
                pd.to_datetime(pd.Series([r[i] for r in rows], dtype=object), utc=True)
                if col in _TIME_COLUMNS
                else pd.Series([r[i] for r in rows], dtype=object)
            )
            for i, col in enumerate(columns)
        }
    )
    geometry = shapely.from_wkb([bytes(r.geometry) for r in rows])
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84)


# -- writers -------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """A JSON-ready value: ISO times, None for missing values."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def to_geojson(gdf: gpd.GeoDataFrame) -> bytes:
    """A GeoJSON FeatureCollection (RFC 7946: EPSG:4326, lon/lat order), UTF-8."""
    props = [c for c in gdf.columns if c != gdf.geometry.name]
    features = []
    for row, geom in zip(gdf[props].itertuples(index=False), gdf.geometry, strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": None if geom is None else shapely.geometry.mapping(geom),
                "properties": {k: _cell(v) for k, v in zip(props, row, strict=True)},
            }
        )
    doc = {"type": "FeatureCollection", "features": features, "licence": LICENCE}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def frame_to_csv(frame: pd.DataFrame) -> bytes:
    """CSV (UTF-8, header row, CRLF) of a table, safe to open in a spreadsheet.

    Text cells starting with ``= + - @``, tab or CR get a leading quote, so the
    file cannot run formulas when opened in a spreadsheet (CSV injection):
    names typed by an administrator and descriptions typed by citizens reach
    these files.  Times are written in ISO 8601 with their offset.  Every
    CSV the platform offers goes through here (the dashboard's tables
    through ``dashboard.widgets.download_csv``).
    """
    df = pd.DataFrame(frame).copy()
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col]):
            df[col] = [None if pd.isna(v) else v.isoformat() for v in df[col]]
        elif df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            df[col] = [defuse(v) for v in df[col]]
    df.columns = [defuse(str(c)) for c in df.columns]
    # CRLF per RFC 4180; it also makes the writer quote any field holding CR or LF.
    return df.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def to_csv(gdf: gpd.GeoDataFrame) -> bytes:
    """:func:`frame_to_csv` with ``lon``/``lat`` columns instead of the geometry."""
    geom = gdf.geometry
    df = pd.DataFrame(gdf.drop(columns=geom.name))
    df["lon"] = [None if g is None else g.x for g in geom]
    df["lat"] = [None if g is None else g.y for g in geom]
    return frame_to_csv(df)


def to_geoparquet(gdf: gpd.GeoDataFrame) -> bytes:
    """GeoParquet (geometry as WKB with the GeoParquet metadata, CRS included)."""
    buf = io.BytesIO()
    gdf.to_parquet(buf, index=False)
    return buf.getvalue()

"""What is checked before a load reads any row: the file's header against
the mapping, the city's categories and departments against the codes the
mapping targets, and the coordinates' CRS against PostGIS.

A mistake found here fails the load with the fix in its message, before a
run is recorded or a row is written; found later, it would reject every
row of the file one by one.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from etl.mapping import Mapping, fold, folded
from etl.readers import Source
from sesizari.catalog import City, get_city
from sesizari.errors import ValidationError


def shown_header(columns: list[str], most: int = 30, width: int = 60) -> str:
    """A header for a message: a file that is not what the mapping expects
    (a binary file, the wrong delimiter) can have one name of megabytes."""
    names = [c if len(c) <= width else c[:width] + "…" for c in columns[:most]]
    more = f" and {len(columns) - most} more" if len(columns) > most else ""
    return f"{names}{more}"


def check_columns(source: Source, mapping: Mapping, name: str) -> list[str]:
    """The source's header has every column the mapping reads, once.  A GIS
    file (``strict_columns`` False) lists only the properties some
    feature has, a GeoPackage or Shapefile those of its export, so it needs
    only the id and creation columns; the other columns it lacks are
    returned, for the load to warn of (a misspelt name would otherwise read
    as empty on every row, in silence)."""
    needed = mapping.columns() if source.strict_columns else {
        mapping.external_id, mapping.created
    }
    missing = sorted(needed - set(source.columns))
    if missing and not source.no_rows:
        where = name
        if len(source.layers) > 1:
            where = f"{name} (sheet or layer {source.layer!r} of {list(source.layers)})"
        if not source.columns:
            raise ValidationError(
                "mapping",
                f"{where} has no columns at all (no properties): a GIS file needs features"
                " whose properties hold the mapping's columns, as in a GeoJSON"
                " FeatureCollection, not a bare geometry",
            )
        raise ValidationError(
            "mapping",
            f"{where} has no column(s) {missing}; its header is {shown_header(source.columns)}."
            " Fix the mapping's column names or give the right file, --layer or --delimiter.",
        )
    # Two header cells with one name: a row would keep only the last one's value.
    twice = sorted(c for c in mapping.columns() if source.columns.count(c) > 1)
    if twice:
        raise ValidationError(
            "mapping",
            f"{name} has column(s) {twice} more than once in its header, so the mapping"
            " cannot tell which one to read. Rename the duplicates in the file's header.",
        )
    if source.no_rows:
        return []
    return sorted(mapping.columns() - set(source.columns))


#: The city's active codes, per table a mapping's values may target (fixed texts).
_ACTIVE_CODES = {
    table: sa.text(f"SELECT code FROM {table} WHERE city_id = :c AND active")  # noqa: S608
    for table in ("categories", "departments")
}


def active_codes(conn: Connection, city_id: int, table: str) -> set[str]:
    """The codes of the city's active ``categories`` or ``departments``."""
    return set(conn.execute(_ACTIVE_CODES[table], {"c": city_id}).scalars())


def check_targets(conn: Connection, city: City, mapping: Mapping) -> None:
    """Every category and department code the mapping targets exists in the
    city: a typo fails the load before anything is written."""
    categories = set(mapping.category_map.values())
    if mapping.category_fallback:
        categories.add(mapping.category_fallback)
    for key, table, wanted in (("category.map", "categories", categories),
                               ("department.map", "departments",
                                set(mapping.department_map.values()))):
        if not wanted:
            continue
        codes = active_codes(conn, city.city_id, table)
        unknown = sorted(wanted - codes)
        if unknown:
            raise ValidationError(
                key,
                f"the mapping targets {unknown}, which {city.slug} does not have (it has"
                f" {sorted(codes)}); create those {table} or fix the mapping",
            )


def srid(mapping: Mapping, source: Source) -> int:
    """The EPSG code of the coordinates: a GIS file's own, else the mapping's."""
    return (source.crs or mapping.crs) if mapping.file_geometry else mapping.crs


def check_crs(conn: Connection, srid: int, from_file: bool) -> None:
    """PostGIS knows the coordinates' CRS: with a code it does not know, every
    row would be rejected as bad coordinates instead of the mapping refused."""
    known = conn.execute(
        sa.text("SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = :s)"), {"s": srid}
    ).scalar_one()
    if not known:
        whose = "the file's CRS" if from_file else "the mapping's [geometry] crs"
        raise ValidationError(
            "geometry.crs",
            f"{whose}, EPSG:{srid}, is not a coordinate reference system PostGIS knows;"
            " check the code (Stereo 70 is EPSG:3844, WGS 84 longitude/latitude EPSG:4326)",
        )


def unmapped_categories(engine: Engine, city: str, mapping: Mapping,
                        values: list[str]) -> list[str]:
    """The source category values (an Open311 server's service codes) that no
    entry of the mapping's map nor a category code of ``city`` matches: the
    load sends their rows to the fallback category, or rejects them.  The same
    rule as the load's SQL (the map, then the map by the folded value, then
    the value as a code)."""
    with engine.connect() as conn:
        codes = active_codes(conn, get_city(conn, city).city_id, "categories")
    by_fold = folded(mapping.category_map)
    return [v for v in values
            if (mapping.category_map.get(v.strip()) or by_fold.get(fold(v))
                or v.strip().lower()) not in codes]

"""A new city, from its boundary file to the first sign-in.

``python -m sesizari city create`` is how a city hall starts: its record
(slug, names, registry prefix, time zone), its administrative boundary (any
file GDAL reads, reprojected to EPSG:4326, e.g. from Stereo70), optionally
its districts, and the usual departments and categories of a Romanian
municipality, which the administrator then adapts on the Administration
page.  Everything in one transaction: a city is created whole or not at all.
Then ``python -m sesizari create-admin --city SLUG`` gives it its first
administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from sesizari import catalog
from sesizari.demo.reference import CATEGORIES, DEPARTMENTS
from sesizari.errors import ValidationError


@dataclass(frozen=True)
class NewCity:
    """What ``city create`` made."""

    city_id: int
    districts: int
    departments: int
    categories: int


def read_areas(path: Path, field: str) -> gpd.GeoDataFrame:
    """The polygons of a file (GeoJSON, GeoPackage, Shapefile...), in EPSG:4326.

    A file without a CRS is taken as longitude/latitude, as GeoJSON is.
    """
    if not path.is_file():
        raise ValidationError("file", f"{path} does not exist")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # GDAL raises several types for unreadable files
        raise ValidationError("file", f"{path} cannot be read as a map layer ({exc})") from None
    if frame.empty:
        raise ValidationError("file", f"{path} holds no features")
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    if field not in frame.columns:
        columns = ", ".join(c for c in frame.columns if c != "geometry")
        raise ValidationError("field", f"{path} has no field {field!r}; its fields: {columns}")
    return frame


def pick_boundary(areas: gpd.GeoDataFrame, field: str, name: str | None) -> BaseGeometry:
    """The one feature named ``name`` (or the file's only feature)."""
    if name is None:
        if len(areas) != 1:
            names = ", ".join(sorted(str(v) for v in areas[field]))
            raise ValidationError("feature", f"{len(areas)} areas in the file; pick one: {names}")
        return areas.geometry.iloc[0]
    chosen = areas[areas[field].astype(str) == name]
    if len(chosen) != 1:
        names = ", ".join(sorted(str(v) for v in areas[field]))
        found = "no area" if chosen.empty else f"{len(chosen)} areas"
        raise ValidationError("feature", f"{found} named {name!r}; the file's: {names}")
    return chosen.geometry.iloc[0]


def create_city(
    conn: Connection,
    *,
    slug: str,
    name_ro: str,
    name_en: str,
    registry_prefix: str,
    boundary: BaseGeometry,
    timezone: str = "Europe/Bucharest",
    districts: gpd.GeoDataFrame | None = None,
    district_field: str = "name",
    catalogue: bool = True,
) -> NewCity:
    """The city, its districts and (``catalogue``) the usual departments and categories.

    Districts must lie within the boundary (a district file of another city
    is the usual mistake); their names must be unique.
    """
    catalog.require_names(name_ro, name_en)
    taken = conn.execute(
        sa.text("SELECT slug FROM cities WHERE slug = :s OR registry_prefix = :p"),
        {"s": slug, "p": registry_prefix},
    ).first()
    if taken is not None:
        what = "slug" if taken.slug == slug else "registry_prefix"
        raise ValidationError(what, f"already used by the city {taken.slug!r}")
    city_id = catalog.create_city(
        conn,
        slug=slug,
        name_ro=name_ro.strip(),
        name_en=name_en.strip(),
        registry_prefix=registry_prefix,
        boundary=boundary,
        timezone=timezone,
    )
    made = 0
    if districts is not None:
        names = districts[district_field].fillna("").astype(str).str.strip()
        if names.duplicated().any() or (names == "").any():
            repeated = sorted(set(names[names.duplicated()]))
            raise ValidationError("districts", f"names must be unique and given: {repeated}")
        city_area = shapely.buffer(boundary, 0.001)  # ~100 m of drawing tolerance
        for name, geom in zip(names, districts.geometry, strict=True):
            if geom is None or geom.is_empty:
                raise ValidationError("districts", f"{name!r} has no area in the file")
            if not city_area.contains(geom):
                raise ValidationError("districts", f"{name!r} lies outside the city's boundary")
            catalog.create_district(conn, city_id, name, geom)
            made += 1
    departments = categories = 0
    if catalogue:
        for dep in DEPARTMENTS:
            catalog.create_department(conn, city_id, dep.code, dep.name_ro, dep.name_en)
            departments += 1
        for cat in CATEGORIES:
            catalog.create_category(
                conn,
                city_id,
                cat.code,
                cat.name_ro,
                cat.name_en,
                cat.department,
                cat.target_hours,
                cat.sensitive,
            )
            categories += 1
    return NewCity(city_id, made, departments, categories)

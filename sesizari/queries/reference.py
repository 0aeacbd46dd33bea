"""Selector contents: cities, categories, departments (codes and both names)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from sesizari.queries.filters import Bind, city_exists, read_frame

_CITIES = sa.text(
    "SELECT slug, name_ro, name_en, timezone, registry_prefix FROM cities ORDER BY name_ro"
)
_CATEGORIES = sa.text(
    """
SELECT c.code, c.name_ro, c.name_en, d.code AS department_code,
       CAST(c.target_hours AS float8) AS target_hours, c.sensitive, c.active
FROM categories c
JOIN cities ci ON ci.city_id = c.city_id
JOIN departments d ON d.city_id = c.city_id AND d.department_id = c.default_department_id
WHERE ci.slug = :city
ORDER BY c.name_ro
"""
)
_DEPARTMENTS = sa.text(
    """
SELECT d.code, d.name_ro, d.name_en, d.active
FROM departments d JOIN cities ci ON ci.city_id = d.city_id
WHERE ci.slug = :city
ORDER BY d.name_ro
"""
)
_DISTRICT_NAMES = sa.text(
    """
SELECT d.name FROM districts d JOIN cities ci ON ci.city_id = d.city_id
WHERE ci.slug = :city ORDER BY d.name
"""
)


def cities(bind: Bind) -> pd.DataFrame:
    """All cities: ``slug``, ``name_ro``, ``name_en``, ``timezone``, ``registry_prefix``."""
    return read_frame(bind, _CITIES, {})


def categories(bind: Bind, city: str) -> pd.DataFrame:
    """The city's categories: ``code``, ``name_ro``, ``name_en``, ``department_code``,
    ``target_hours``, ``sensitive``, ``active`` (inactive ones still have history)."""
    city_exists(bind, city)
    return read_frame(bind, _CATEGORIES, {"city": city})


def departments(bind: Bind, city: str) -> pd.DataFrame:
    """The city's departments: ``code``, ``name_ro``, ``name_en``, ``active``."""
    city_exists(bind, city)
    return read_frame(bind, _DEPARTMENTS, {"city": city})


def district_names(bind: Bind, city: str) -> list[str]:
    """District names for the district selector, alphabetically."""
    city_exists(bind, city)
    return list(read_frame(bind, _DISTRICT_NAMES, {"city": city})["name"])


_VIEW = sa.text(
    """
SELECT COALESCE(ST_X(s.c), ST_X(ST_Centroid(ci.boundary))) AS longitude,
       COALESCE(ST_Y(s.c), ST_Y(ST_Centroid(ci.boundary))) AS latitude
FROM cities ci
LEFT JOIN LATERAL (
    SELECT ST_Transform(ST_SetSRID(ST_MakePoint(avg(i.x3844), avg(i.y3844)), 3844), 4326) AS c
    FROM incidents i WHERE i.city_id = ci.city_id
) s ON true
WHERE ci.slug = :city
"""
)


def city_view(bind: Bind, city: str, zoom: float = 12.5) -> dict[str, float]:
    """Initial map view: the centre of the city's incidents (the town, not the whole
    administrative unit with its villages), or of the boundary when there are none.

    The centre is the mean of the stored Stereo70 coordinates, read from the
    covering index; collecting every point into one geometry for
    ``ST_Centroid`` took 0.46-0.58 s for 580,000 incidents at each cache miss
    of a map page."""
    city_exists(bind, city)
    row = read_frame(bind, _VIEW, {"city": city}).iloc[0]
    return {"longitude": float(row["longitude"]), "latitude": float(row["latitude"]), "zoom": zoom}

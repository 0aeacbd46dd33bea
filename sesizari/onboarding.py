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

import difflib
import unicodedata
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
    _check_lon_lat(path, frame)
    if field not in frame.columns:
        columns = ", ".join(c for c in frame.columns if c != "geometry")
        raise ValidationError("field", f"{path} has no field {field!r}; its fields: {columns}")
    return frame


#: The most names a refusal lists (a national file has thousands).
_SHOWN = 12


def _folded(name: object) -> str:
    """A place name as matched: diacritics, case and spaces aside.  Most files
    still write Romanian letters with a cedilla (ş), people type them with a
    comma below (ș) or without (s): "Sebeş", "Sebeș" and "sebes" are one town."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", str(name))
                   if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _other_key(areas: gpd.GeoDataFrame, field: str) -> str | None:
    """A field other than ``field`` whose values tell every area apart (a
    national code), for the areas that share a name."""
    for column in areas.columns:
        if column not in (field, "geometry") and areas[column].is_unique \
                and areas[column].notna().all():
            return str(column)
    return None


#: Romania's extent, longitude/latitude, with a margin: the country the
#: product serves, against which coordinates the wrong way round show.
_ROMANIA = (20.0, 43.5, 30.0, 48.5)
#: Stereo 70 (EPSG:3844) eastings and northings over Romania, in metres.
_STEREO70 = (100_000, 200_000, 950_000, 800_000)


def _within(bounds: tuple[float, ...], box: tuple[float, ...]) -> bool:
    minx, miny, maxx, maxy = bounds
    return box[0] <= minx <= maxx <= box[2] and box[1] <= miny <= maxy <= box[3]


def _check_lon_lat(path: Path, frame: gpd.GeoDataFrame) -> None:
    """Coordinates that cannot be longitude/latitude as read: Stereo 70 metres
    in a file that names no CRS (a Shapefile without its .prj), or latitude
    written first (a city drawn in the sea, or in Arabia)."""
    minx, miny, maxx, maxy = frame.total_bounds
    if frame.crs is None and _within((minx, miny, maxx, maxy), _STEREO70):
        raise ValidationError(
            "file", f"{path} names no CRS (a Shapefile without its .prj?) and its coordinates"
            " are metres, Stereo 70 (EPSG:3844) by their size: put the .prj beside it, or"
            " export the file in EPSG:4326",
        )
    if not _within((minx, miny, maxx, maxy), _ROMANIA) \
            and _within((miny, minx, maxy, maxx), _ROMANIA):
        raise ValidationError(
            "file", f"{path} has its coordinates the wrong way round: read as longitude,"
            " latitude they fall outside Romania, swapped they fall inside; export it with"
            " longitude first (GeoJSON's order, EPSG:4326)",
        )


def pick_boundary(areas: gpd.GeoDataFrame, field: str, name: str | None) -> BaseGeometry:
    """The one feature named ``name`` (or the file's only feature), matched as
    :func:`_folded`, or by a code that tells every area apart (``natcode``)."""
    if name is None:
        if len(areas) != 1:
            names = sorted(str(v) for v in areas[field])
            shown = ", ".join(names[:_SHOWN]) + (" ..." if len(names) > _SHOWN else "")
            raise ValidationError(
                "feature", f"{len(areas)} areas in the file; pick one with --feature NAME"
                f" ({shown})")
        return areas.geometry.iloc[0]
    folded = areas[field].map(_folded)
    chosen = areas[folded == _folded(name)]
    key = _other_key(areas, field)
    if chosen.empty and key is not None:
        # An area's code (a national file's natcode), for a name several share.
        chosen = areas[areas[key].astype(str) == name.strip()]
    if len(chosen) == 1:
        return chosen.geometry.iloc[0]
    if chosen.empty:
        near = difflib.get_close_matches(_folded(name), list(folded.unique()), n=_SHOWN)
        by_fold = dict(zip(folded, areas[field].astype(str), strict=False))
        hint = (f"; the nearest: {', '.join(by_fold[n] for n in near)}" if near
                else f"; the file names its {len(areas)} areas in the field {field!r}"
                     " (--name-field chooses another)")
        raise ValidationError("feature", f"no area named {name!r}{hint}")
    if key is None:
        raise ValidationError("feature", f"{len(chosen)} areas named {name!r}; the file cannot"
                              " tell them apart")
    extra = [c for c in ("county", "judet", "countyMn") if c in areas.columns][:1]
    listed = "; ".join(
        f"{row[key]}" + (f" ({row[extra[0]]})" if extra else "")
        for _, row in chosen.iterrows()
    )
    raise ValidationError(
        "feature", f"{len(chosen)} areas named {name!r}: give its {key!r} instead,"
        f" --feature VALUE ({listed})")


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
    clip_districts: bool = False,
) -> NewCity:
    """The city, its districts and (``catalogue``) the usual departments and categories.

    Districts must lie within the boundary (a district file of another city
    is the usual mistake); their names must be unique.  ``clip_districts``:
    a district drawn past the boundary (files of other origins follow other
    limits) is cut to it, unless most of it lies outside.
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
            if not (boundary if clip_districts else city_area).contains(geom):
                inside = geom.intersection(boundary)
                share = inside.area / geom.area if geom.area else 0.0
                if not clip_districts or share < 0.5:
                    hint = ("; most of it is outside: a districts file of another city?"
                            if share < 0.5 else "; --clip-districts cuts each district to the"
                            " boundary")
                    raise ValidationError(
                        "districts", f"{name!r} lies outside the city's boundary"
                        f" ({max(1 - share, 0.001):.1%} of its area){hint}")
                # Only the areas of the cut (it may also leave lines along the edge).
                geom = shapely.MultiPolygon([
                    p for p in shapely.get_parts(shapely.get_parts(inside))
                    if p.geom_type == "Polygon"])
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

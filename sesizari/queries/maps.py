"""Map layers computed in the database, so the browser payload stays small.

Density (hexagons) and clusters are aggregated server-side in Stereo70
(EPSG:3844, metres) and returned as a few hundred polygons at most, whatever
the number of incidents.  Individual points are only returned for small
selections, and never carry personal data or free text.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gis import grid_dbscan
from sesizari.errors import ValidationError
from sesizari.queries.filters import (
    OPEN,
    Bind,
    Filters,
    cells_sql,
    city_exists,
    covers_history,
    filtered_sql,
    hexes_sql,
    now_param,
    one_snapshot,
    read_arrays,
    read_frame,
    rollup_sql,
)
from sesizari.vocab import WGS84

#: Hexagon edge lengths accepted (metres): smaller grids explode in size,
#: larger ones say nothing inside a town.
MIN_HEX_M, MAX_HEX_M = 25.0, 5000.0

#: The edge length (metres) of the hexagons every dashboard map draws.  Each
#: incident's cell in this grid is stored when it is written (column
#: ``hex250``, migration 0011), so these maps count incidents per stored key;
#: any other size places each incident with ``hex_cell`` at query time (the
#: same SQL function the stored column uses).  Changing it needs a migration.
DASHBOARD_HEX_M = 250.0


def stored_grid(size_m: float) -> bool:
    """Whether hexagons of this edge length are stored (cells and grid)."""
    return float(size_m) == DASHBOARD_HEX_M


def hex_source(bind: Bind, filters: Filters, size_m: float) -> str:
    """Where a hexagon layer counts the selection: ``rollup`` (the stored
    grid's counts, ``incident_hexes``, when no date bound cuts the
    selection), ``stored`` (the incidents' ``hex250``) or ``computed``
    (each incident placed at query time, for other sizes).  Ask it and read
    the layer in :func:`~sesizari.queries.filters.one_snapshot`."""
    if not stored_grid(size_m):
        return "computed"
    return "rollup" if covers_history(bind, filters) else "stored"


def grid_cte(source: str) -> str:
    """The CTEs ``grid`` (the city's hexagons) and ``cells`` (their counts).

    ``grid`` holds the cells of ``ST_HexagonGrid(:size)`` that touch the city
    boundary, ``cells`` the same with ``n`` (filtered incidents) and
    ``n_open``; both with ``geom`` (EPSG:4326) and ``geom3844``.  Which cell
    an incident is in is ``hex_cell`` (migration 0011: the nearest hexagon
    centre, with a fixed rule for points on an edge).

    ``source`` (:func:`hex_source`): with ``stored`` (the size is
    :data:`DASHBOARD_HEX_M`), both halves are read from storage: the grid
    from ``city_hex_grid`` (kept with the boundary, migration 0012) and each
    incident's cell from ``incidents.hex250``.  Whole city of 580,000
    incidents: 527 ms with both computed, 221 ms with stored cells, and the
    stored grid saves the 80-90 ms of generating it.  With ``rollup``, the
    counts are sums over ``rh``, the selection's rows of ``incident_hexes``
    (migration 0018: 13,539 rows for those 580,000 incidents); the query
    is built with :func:`hexes_sql`.  With ``computed``, both are computed
    for ``:size``.  Counts are grouped by cell before they meet the grid
    polygons.
    """
    if source == "rollup":
        return _STORED_GRID + _HIT_ROLLUP + _CELLS
    if source == "stored":
        return _STORED_GRID + _HIT.replace("{cell}", "f.hex250") + _CELLS
    if source == "computed":
        return (_COMPUTED_GRID + _HIT.replace(
            "{cell}", "hex_cell(f.x3844, f.y3844, CAST(:size AS float8))") + _CELLS)  # fmt: skip
    raise ValueError(f"unknown source {source!r}")


def grid_sql(source: str, body: str) -> sa.TextClause:
    """``grid`` and ``cells`` of :func:`grid_cte`, then ``body``."""
    text = grid_cte(source) + body
    return hexes_sql(text) if source == "rollup" else filtered_sql(text)


#: The hexagon sources of :func:`hex_source`.
HEX_SOURCES = ("rollup", "stored", "computed")

_STORED_GRID = """,
grid AS (
    SELECT g.i, g.j, g.key, g.geom3844, g.geom
    FROM city JOIN city_hex_grid g ON g.city_id = city.city_id
)"""

_COMPUTED_GRID = """,
bounds AS (
    SELECT ST_Transform(city.boundary, 3844) AS geom FROM city
),
grid AS (
    SELECT h.i, h.j, hex_key(h.i, h.j) AS key, h.geom AS geom3844,
           ST_Transform(h.geom, 4326) AS geom
    FROM bounds b, ST_HexagonGrid(CAST(:size AS float8), b.geom) h
    WHERE ST_Intersects(h.geom, b.geom)
)"""

_HIT = """,
hit AS (
    SELECT {cell} AS key, count(*) AS n,
           count(*) FILTER (WHERE f.status = ANY(CAST(:open AS text[]))) AS n_open
    FROM f
    GROUP BY 1
)"""

_HIT_ROLLUP = """,
hit AS (
    SELECT h.hex250 AS key, sum(h.n) AS n,
           COALESCE(sum(h.n) FILTER (WHERE h.status = ANY(CAST(:open AS text[]))), 0) AS n_open
    FROM rh h
    GROUP BY 1
)"""

_CELLS = """,
cells AS (
    SELECT g.i, g.j, g.geom, g.geom3844, COALESCE(h.n, 0) AS n, COALESCE(h.n_open, 0) AS n_open
    FROM grid g LEFT JOIN hit h ON h.key = g.key
)
"""

#: Each source's query of the hexagons layer.
_HEXAGONS = {
    source: grid_sql(
        source,
        """
SELECT i, j, n, n_open, ST_X(ST_Centroid(geom)) AS lon, ST_Y(ST_Centroid(geom)) AS lat,
       ST_AsBinary(geom) AS wkb
FROM cells WHERE n > 0 ORDER BY i, j
""",
    )
    for source in HEX_SOURCES
}


def check_hex_size(size_m: float) -> float:
    """Refuse grids that would be uselessly fine or coarse (clear message for the UI)."""
    size = float(size_m)
    if not MIN_HEX_M <= size <= MAX_HEX_M:
        raise ValidationError(
            "size_m",
            f"hexagon size must be between {MIN_HEX_M:g} and {MAX_HEX_M:g} m, got {size:g}",
            ro=f"mărimea hexagonului trebuie să fie între {MIN_HEX_M:g} și {MAX_HEX_M:g} m;"
            f" valoarea primită: {size:g}",
        )
    return size


def to_geodataframe(frame: pd.DataFrame, column: str = "wkb") -> gpd.GeoDataFrame:
    """Turn a WKB column from PostGIS into an EPSG:4326 GeoDataFrame."""
    geometry = shapely.from_wkb([bytes(b) for b in frame[column]]) if len(frame) else []
    return gpd.GeoDataFrame(frame.drop(columns=[column]), geometry=geometry, crs=WGS84)


def _polygon_coords(geom: Any) -> list[list[float]]:
    return [[round(x, 6), round(y, 6)] for x, y in geom.exterior.coords]


def hexagons(bind: Bind, filters: Filters, size_m: float = 250.0) -> gpd.GeoDataFrame:
    """Incident density per hexagon, non-empty cells only.

    Parameters
    ----------
    size_m:
        Hexagon edge length in metres (EPSG:3844), 25 to 5000.

    Returns
    -------
    GeoDataFrame (EPSG:4326) with columns ``i``, ``j`` (cell index in the
    ST_HexagonGrid of the city), ``n`` (incidents), ``n_open``, ``lon``, ``lat``
    (cell centre), ``polygon`` (list of [lon, lat], ready for a deck.gl
    PolygonLayer) and ``geometry``.
    """
    city_exists(bind, filters.city)
    params = filters.params() | {"size": check_hex_size(size_m), "open": OPEN}
    with one_snapshot(bind) as conn:
        query = _HEXAGONS[hex_source(conn, filters, params["size"])]
        frame = read_frame(conn, query, params)
    gdf = to_geodataframe(frame)
    gdf["polygon"] = [_polygon_coords(g) for g in gdf.geometry]
    return gdf


_CLUSTERS = filtered_sql(
    """,
pts AS (
    SELECT f.*, ST_ClusterDBSCAN(ST_SetSRID(ST_MakePoint(f.x3844, f.y3844), 3844),
                                 eps := CAST(:eps AS float8), minpoints := :minpts) OVER () AS cid
    FROM f
)
SELECT cid, count(*) AS n,
       count(*) FILTER (WHERE status = ANY(CAST(:open AS text[]))) AS n_open,
       avg(ST_X(geom)) AS lon, avg(ST_Y(geom)) AS lat,
       mode() WITHIN GROUP (ORDER BY category_code) AS dominant_category,
       mode() WITHIN GROUP (ORDER BY district) AS dominant_district,
       ST_AsBinary(ST_ConvexHull(ST_Collect(geom))) AS wkb
FROM pts
WHERE cid IS NOT NULL
GROUP BY cid
"""
)


#: Above this many incidents ``clusters`` switches from exact DBSCAN to the
#: grid approximation (:func:`grid_frame`): ``ST_ClusterDBSCAN`` over
#: 580,000 points takes 30-50 s on two cores, the grid 0.1-0.2 s.
EXACT_CLUSTER_LIMIT = 25_000

#: The clusters layer's default distance (metres): the Live map's slider
#: starts here.  Its grid (cells of side eps / sqrt(2)) has a rollup kept
#: fresh by triggers (migration 0017), so a selection without dates reads its
#: cells instead of counting its incidents.  Changing it needs a migration.
DASHBOARD_CLUSTER_EPS_M = 60.0

#: The cell side of that grid, 60 / sqrt(2) metres, written exactly as the
#: rollup's triggers write it (the shortest decimal of that float8).  The
#: incidents path takes eps / sqrt(2) in numpy (:func:`grid_frame`): a test
#: checks that both are the same float8.
GRID_CELL_M = "42.426406871192846"

#: The side of the grid of distance ``:eps``: at 60 m the rollup's
#: (:data:`GRID_CELL_M`), to the bit.
_SIDE = "CAST(:eps AS float8) / sqrt(CAST(2 AS float8))"

#: What :func:`gis.grid_dbscan.grid_clusters` reads, as one row of arrays
#: (:func:`~sesizari.queries.filters.read_arrays`).  Per row of the
#: selection, ``kind``: its category id in the high 32 bits and district id
#: (0 for none) in the low ones, negated when the row is open.  Then the
#: city's category and district ids in their tie-breaking order (by code, by
#: name).  From the rollup (``cells``): each row's cell (row above column,
#: :func:`gis.grid_dbscan.cell_key`), count and coordinate sums.  From the
#: incidents: each one's Stereo70 coordinates, of which numpy takes the cell
#: with the same float8 division and floor as the rollup's triggers.
_GRID_ORDER = """,
       ARRAY(SELECT x.category_id FROM categories x
             WHERE x.city_id = (SELECT city_id FROM city) ORDER BY x.code) AS category_order,
       ARRAY(SELECT x.district_id FROM districts x
             WHERE x.city_id = (SELECT city_id FROM city) ORDER BY x.name) AS district_order"""
_KIND = """array_agg(CASE WHEN f.status = ANY(CAST(:open AS text[])) THEN -1 ELSE 1 END
                 * ((CAST(f.category_id AS int8) << 32) + COALESCE(f.district_id, 0))) AS kind"""
_GRID_ROWS = {
    "cells": cells_sql(
        "SELECT array_agg((CAST(f.cy AS int8) << 32) + (CAST(f.cx AS int8) + 2147483648))"
        " AS cell,\n       array_agg(f.n) AS n, array_agg(f.sx) AS sx, array_agg(f.sy) AS sy,"
        "\n       " + _KIND + _GRID_ORDER + "\nFROM rc f"
    ),
    "incidents": filtered_sql(
        "SELECT array_agg(f.x3844) AS x, array_agg(f.y3844) AS y,\n       "
        + _KIND + _GRID_ORDER + "\nFROM f"
    ),
}

#: The clusters of :func:`gis.grid_dbscan.grid_clusters`, named and drawn:
#: the mean position and the hull back in EPSG:4326 (the hull of a
#: cluster's cells is that of the corners of the first and last cell of each
#: of its rows: the other corners lie between them).
_GRID_DRAW = sa.text(
    f"""
WITH g AS (
    SELECT {_SIDE} AS s, (SELECT city_id FROM cities WHERE slug = :city) AS city_id
),
t AS (
    SELECT * FROM unnest(CAST(:n AS bigint[]), CAST(:n_open AS bigint[]),
                         CAST(:x AS float8[]), CAST(:y AS float8[]),
                         CAST(:category AS int[]), CAST(:district AS int[]))
        WITH ORDINALITY AS t(n, n_open, x, y, category_id, district_id, cid)
),
ends AS (
    SELECT * FROM unnest(CAST(:e_cid AS bigint[]), CAST(:e_cy AS int[]),
                         CAST(:e_x0 AS int[]), CAST(:e_x1 AS int[])) AS e(cid, cy, x0, x1)
),
hull AS (
    SELECT e.cid,
           ST_Transform(ST_SetSRID(ST_ConvexHull(ST_Collect(ST_MakePoint(p.x, p.y))), 3844),
                        4326) AS geom
    FROM ends e
    CROSS JOIN g
    CROSS JOIN LATERAL (VALUES (e.x0 * g.s, e.cy * g.s), (e.x0 * g.s, (e.cy + 1) * g.s),
                               (e.x1 * g.s, e.cy * g.s), (e.x1 * g.s, (e.cy + 1) * g.s)) AS p(x, y)
    GROUP BY e.cid
)
SELECT t.cid, t.n, t.n_open,
       ST_X(ST_Transform(ST_SetSRID(ST_MakePoint(t.x, t.y), 3844), 4326)) AS lon,
       ST_Y(ST_Transform(ST_SetSRID(ST_MakePoint(t.x, t.y), 3844), 4326)) AS lat,
       x.code AS dominant_category, d.name AS dominant_district,
       ST_AsBinary(h.geom) AS wkb
FROM t
CROSS JOIN g
JOIN hull h ON h.cid = t.cid
LEFT JOIN categories x ON x.city_id = g.city_id AND x.category_id = t.category_id
LEFT JOIN districts d ON d.city_id = g.city_id AND d.district_id = t.district_id
"""  # noqa: S608 - module constants only
)


def grid_frame(conn: Connection, params: dict[str, Any], source: str) -> pd.DataFrame:
    """The grid DBSCAN clusters of the selection (``params``: the filters'
    and ``eps``, ``minpts``, ``open``), one row each, unsorted.

    ``source``: where the cells' counts come from: ``cells``, the rollup of
    the default grid (migration 0017), which holds the selection only when
    ``eps`` is :data:`DASHBOARD_CLUSTER_EPS_M` and the dates leave nothing
    out; ``incidents``, the filtered incidents, on the grid of side
    eps / sqrt(2).  Three steps: the selection's rows as arrays, the
    clusters in numpy (:func:`gis.grid_dbscan.grid_clusters`), and their
    names, centres and hulls in PostGIS (:data:`_GRID_DRAW`).  Half a year
    of Alba Iulia, 207,000 incidents: 243 -> 144 ms against the same
    clusters computed in one SQL statement (median, same process; see
    bench/RESULTS.md).
    """
    rows = read_arrays(conn, _GRID_ROWS[source], params)
    kind = rows["kind"]
    if source == "cells":
        cy, cx = grid_dbscan.split_key(rows["cell"])
        n, sx, sy = rows["n"].astype(np.int64), rows["sx"], rows["sy"]
    else:
        # The side as _SIDE computes it, and the rollup's cell of a point.
        side = np.float64(params["eps"]) / np.sqrt(np.float64(2))
        sx, sy = rows["x"], rows["y"]
        cy, cx = np.floor(sy / side).astype(np.int64), np.floor(sx / side).astype(np.int64)
        n = np.ones(len(kind), np.int64)
    found = grid_dbscan.grid_clusters(
        cy, cx, np.abs(kind) >> 32, np.abs(kind) & 0xFFFFFFFF, n, np.where(kind < 0, n, 0),
        sx, sy, int(params["minpts"]), rows["category_order"], rows["district_order"],
    )  # fmt: skip
    draw = {
        "n": found.n.tolist(), "n_open": found.n_open.tolist(),
        "x": found.x.tolist(), "y": found.y.tolist(),
        "category": found.category.tolist(), "district": found.district.tolist(),
        "e_cid": (found.ends_cluster + 1).tolist(), "e_cy": found.ends_cy.tolist(),
        "e_x0": found.ends_x0.tolist(), "e_x1": found.ends_x1.tolist(),
    }  # fmt: skip
    return read_frame(conn, _GRID_DRAW, params | draw)


def clusters(
    bind: Bind,
    filters: Filters,
    eps_m: float = 50.0,
    min_points: int = 5,
    exact_limit: int = EXACT_CLUSTER_LIMIT,
) -> gpd.GeoDataFrame:
    """Dense groups of incidents (DBSCAN in EPSG:3844), e.g. one street's potholes.

    Up to ``exact_limit`` incidents the clusters are exact DBSCAN
    (``ST_ClusterDBSCAN``); above it, the grid approximation of
    :mod:`gis.grid_dbscan` (:func:`grid_frame`: same columns, hulls drawn
    around the cells), because
    exact DBSCAN over a whole city's history takes tens of seconds.  The
    ``method`` column says which one answered, so the page can tell the user.

    Parameters
    ----------
    eps_m:
        Neighbourhood radius in metres.
    min_points:
        Minimum incidents (the point itself included) to form a cluster core.
    exact_limit:
        Largest selection clustered exactly.

    Returns
    -------
    GeoDataFrame (EPSG:4326), largest first, with ``cluster`` (1 = largest),
    ``n``, ``n_open``, ``lon``, ``lat`` (mean position), ``dominant_category``
    (category code; ties go to the alphabetically first), ``dominant_district``,
    ``method`` (``exact`` or ``grid``) and ``geometry`` (convex hull: a
    polygon, or a line/point for degenerate clusters).  Incidents in no
    cluster are not returned.
    """
    if not eps_m or eps_m <= 0 or eps_m > 5000:
        raise ValidationError(
            "eps_m",
            f"radius must be in (0, 5000] metres, got {eps_m}",
            ro="distanța de grupare trebuie să fie în intervalul (0, 5000] metri;"
            f" valoarea primită: {eps_m}",
        )
    if int(min_points) < 2:
        raise ValidationError(
            "min_points",
            f"a cluster needs at least 2 points, got {min_points}",
            ro=f"o aglomerare are nevoie de cel puțin 2 puncte; valoarea primită: {min_points}",
        )
    city_exists(bind, filters.city)
    params = filters.params() | {"eps": float(eps_m), "minpts": int(min_points), "open": OPEN}
    size = _count(bind, params)
    method = "exact" if size <= int(exact_limit) else "grid"
    if method == "exact":
        frame = read_frame(bind, _CLUSTERS, params)
    else:
        # The rollup holds the selection when its dates leave nothing out.
        with one_snapshot(bind) as conn:
            cells = float(eps_m) == DASHBOARD_CLUSTER_EPS_M and covers_history(conn, filters)
            frame = grid_frame(conn, params, "cells" if cells else "incidents")
    frame = frame.sort_values(["n", "lon"], ascending=[False, True], kind="stable")
    frame.insert(0, "cluster", range(1, len(frame) + 1))
    frame["method"] = method
    return to_geodataframe(frame.drop(columns=["cid"]).reset_index(drop=True))


#: How many incidents the filters select, from the rollups (migration 0015):
#: every filter is a key of them and dates are local days, so the sum is the
#: exact count of ``f``.  Whole city of 580,000 incidents: 75 ms counted over
#: the incidents, a few ms summed here.  Every layer asks it first (to choose
#: points or not, exact DBSCAN or the grid).
_POINTS_COUNT = rollup_sql(
    """
SELECT CAST(COALESCE(sum(r.n), 0) AS bigint) AS n
FROM r
JOIN city ON true
JOIN categories c ON c.city_id = city.city_id AND c.category_id = r.category_id
WHERE CAST(:sensitive AS boolean) OR NOT c.sensitive
"""
)


def _count(bind: Bind, params: dict[str, Any]) -> int:
    """How many incidents of every category the filters' ``params`` select."""
    return int(read_frame(bind, _POINTS_COUNT, params | {"sensitive": True})["n"].iloc[0])


_POINTS = filtered_sql(
    """
SELECT f.registry_number, f.category_code, f.category_ro, f.category_en, f.status,
       date_part('epoch', COALESCE(CAST(:now AS timestamptz), now()) - f.created_at) / 86400.0
           AS age_days,
       ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat
FROM f
WHERE CAST(:sensitive AS boolean) OR NOT f.sensitive
ORDER BY f.created_at DESC, f.registry_number
"""
)


def points(
    bind: Bind,
    filters: Filters,
    limit: int = 5000,
    now: datetime | None = None,
    include_sensitive: bool = False,
) -> pd.DataFrame | None:
    """Individual incidents for the map, but only for a small selection.

    Returns None when more than ``limit`` incidents match: the caller should
    show the hexagon layer instead (the browser cannot draw a million dots, and
    a full dump is what the open-data export is for).  Sensitive categories
    (e.g. public order) are left out unless ``include_sensitive``: their exact
    location can point at the person who reported them.

    Returns
    -------
    DataFrame with ``registry_number``, ``category_code``, ``category_ro``,
    ``category_en``, ``status``, ``age_days`` (float, since creation), ``lon``,
    ``lat``; newest first.  No description, address or contact.
    """
    if int(limit) < 1:
        raise ValidationError(
            "limit",
            f"must be at least 1, got {limit}",
            ro=f"trebuie să fie cel puțin 1; valoarea primită: {limit}",
        )
    city_exists(bind, filters.city)
    params = filters.params() | {"sensitive": bool(include_sensitive), "now": now_param(now)}
    n = int(read_frame(bind, _POINTS_COUNT, params)["n"].iloc[0])
    if n > int(limit):
        return None
    return read_frame(bind, _POINTS, params)


def count_incidents(bind: Bind, filters: Filters, include_sensitive: bool = True) -> int:
    """How many incidents the filters select (to tell the user why points are hidden)."""
    city_exists(bind, filters.city)
    params = filters.params() | {"sensitive": bool(include_sensitive)}
    return int(read_frame(bind, _POINTS_COUNT, params)["n"].iloc[0])


_DISTRICTS = sa.text(
    """
SELECT d.name, ST_AsBinary(d.geom) AS wkb
FROM districts d JOIN cities c ON c.city_id = d.city_id
WHERE c.slug = :city
ORDER BY d.name
"""
)


def district_boundaries(bind: Bind, city: str) -> gpd.GeoDataFrame:
    """The city's districts (``name``, ``geometry`` in EPSG:4326) for the map layer."""
    city_exists(bind, city)
    return to_geodataframe(read_frame(bind, _DISTRICTS, {"city": city}))


def districts_geojson(bind: Bind, city: str) -> dict[str, Any]:
    """The districts as a GeoJSON FeatureCollection (``properties.name``)."""
    return json.loads(district_boundaries(bind, city).to_json(drop_id=True))


_BOUNDARY = sa.text("SELECT ST_AsBinary(boundary) AS wkb FROM cities WHERE slug = :city")


def city_boundary(bind: Bind, city: str) -> gpd.GeoDataFrame:
    """The city's administrative boundary (one row, EPSG:4326), to frame the map."""
    city_exists(bind, city)
    return to_geodataframe(read_frame(bind, _BOUNDARY, {"city": city}))

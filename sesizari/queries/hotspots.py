"""Statistically significant hot and cold spots (Getis-Ord Gi*) on a hexagon grid.

Density maps show where many incidents are; Gi* says where a cell *and its
neighbours* have more (or fewer) incidents than chance would give, which is
what justifies sending a crew.  Counting happens in PostGIS; only the grid
(hundreds to a few thousand cells) comes to Python for the statistic.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from sesizari.queries.filters import OPEN, Bind, Filters, city_exists, one_snapshot, read_frame
from sesizari.queries.maps import (
    HEX_SOURCES,
    check_hex_size,
    grid_sql,
    hex_source,
    to_geodataframe,
)

#: Each hexagon source's counts (:func:`sesizari.queries.maps.hex_source`).
_GRID_COUNTS = {
    source: grid_sql(
        source,
        """
SELECT i, j, n, n_open,
       ST_X(ST_Centroid(geom3844)) AS x, ST_Y(ST_Centroid(geom3844)) AS y,
       ST_AsBinary(geom) AS wkb
FROM cells ORDER BY i, j
""",
    )
    for source in HEX_SOURCES
}

#: (class, two-sided p-value threshold), strictest first.
CONFIDENCE: tuple[tuple[int, float], ...] = ((99, 0.01), (95, 0.05), (90, 0.10))
NOT_SIGNIFICANT = "not significant"


def classify(z: float, p: float) -> str:
    """``hot 99%``, ``cold 95%``..., or ``not significant``."""
    if np.isnan(z) or np.isnan(p):
        return NOT_SIGNIFICANT
    for level, alpha in CONFIDENCE:
        if p < alpha:
            return f"{'hot' if z > 0 else 'cold'} {level}%"
    return NOT_SIGNIFICANT


def neighbour_weights(x: np.ndarray, y: np.ndarray, size_m: float):
    """Binary weights linking hexagons that share an edge.

    Centres of edge-sharing hexagons are ``sqrt(3) * size`` apart; a 10 %
    tolerance absorbs the rounding of the reprojected centroids.
    """
    from libpysal.weights import DistanceBand

    coords = np.column_stack([x, y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands (cells cut off by the boundary) are fine
        return DistanceBand(coords, threshold=np.sqrt(3) * size_m * 1.1, binary=True,
                            silence_warnings=True)  # fmt: skip


def hotspots_gi(bind: Bind, filters: Filters, size_m: float = 250.0) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* z-score, p-value and class for every hexagon of the city.

    Every cell touching the city boundary takes part, empty ones with 0:
    leaving them out would make every cell look average.  The p-value is the
    two-sided normal one from the analytical z-score (deterministic, no
    permutations), so the map does not flicker between reloads.

    Returns
    -------
    GeoDataFrame (EPSG:4326), one row per cell, with ``i``, ``j``, ``n``,
    ``n_open``, ``z``, ``p``, ``class`` (``hot 99%``, ``hot 95%``, ``hot 90%``,
    ``cold ...`` or ``not significant``) and ``geometry``.  With fewer than
    three cells or no variation (e.g. no incidents), z and p are NaN and every
    cell is ``not significant``.
    """
    size = check_hex_size(size_m)
    city_exists(bind, filters.city)
    with one_snapshot(bind) as conn:
        query = _GRID_COUNTS[hex_source(conn, filters, size)]
        frame = read_frame(conn, query, filters.params() | {"size": size, "open": OPEN})
    y = frame["n"].to_numpy(dtype=float)
    z = np.full(len(frame), np.nan)
    if len(frame) >= 3 and y.std() > 0:
        from esda.getisord import G_Local

        w = neighbour_weights(frame["x"].to_numpy(), frame["y"].to_numpy(), size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gi = G_Local(y, w, transform="B", star=True, permutations=0)
        z = np.asarray(gi.Zs, dtype=float)
    p = 2.0 * stats.norm.sf(np.abs(z))
    frame["z"], frame["p"] = z, p
    frame["class"] = [classify(a, b) for a, b in zip(z, p, strict=True)]
    out = to_geodataframe(frame.drop(columns=["x", "y"]))
    return out


def hotspot_summary(gdf: pd.DataFrame) -> pd.DataFrame:
    """Cells per class (for a legend with counts)."""
    return gdf.groupby("class").size().rename("cells").reset_index()

"""How long things take: acknowledgement and resolution times, trends, backlog.

All durations are hours measured from creation.  Percentiles are the
continuous kind (``percentile_cont``, linear interpolation), the same as
pandas' default ``quantile``, so exported figures can be re-derived.

Durations are computed with ``date_part('epoch', ...)``, a double, not with
``extract(epoch FROM ...)``, which returns ``numeric`` since PostgreSQL 14:
numeric division and averaging per row made whole-city percentiles about a
third slower (1.45 s -> 0.93 s for :func:`resolution_stats` at 580,000
incidents), for precision far below what an hour figure shows.  The other
query modules follow the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd

from sesizari.errors import ValidationError
from sesizari.queries.filters import (
    BUCKETS_CTE,
    OPEN,
    Bind,
    Filters,
    city_exists,
    filtered_sql,
    now_param,
    read_frame,
)
from sesizari.queries.maps import to_geodataframe

#: What the per-group figures can be grouped by.
GROUPINGS: tuple[str, ...] = ("category", "department", "district")

#: Each incident's group id, chosen by the ``:by`` parameter (a CASE, so the
#: group-by column is never spliced into the SQL text), and ``names``: the
#: key and names of every group of the city.  Grouping by the integer id and
#: naming the few groups afterwards spares the per-incident joins and text
#: sorts of grouping by code (whole city at 1M, by category: 874 -> 620 ms).
_HOURS = """,
g AS (
    SELECT CASE CAST(:by AS text) WHEN 'category' THEN f.category_id
                WHEN 'department' THEN f.department_id ELSE f.district_id END AS id,
           f.target_hours,
           date_part('epoch', f.acknowledged_at - f.created_at) / 3600.0 AS ack_h,
           date_part('epoch', f.resolved_at - f.created_at) / 3600.0 AS resolve_h
    FROM f
),
names AS (
    SELECT x.category_id AS id, x.code AS key, x.name_ro, x.name_en
    FROM city JOIN categories x ON x.city_id = city.city_id
    WHERE CAST(:by AS text) = 'category'
    UNION ALL
    SELECT x.department_id, x.code, x.name_ro, x.name_en
    FROM city JOIN departments x ON x.city_id = city.city_id
    WHERE CAST(:by AS text) = 'department'
    UNION ALL
    SELECT x.district_id, x.name, x.name, x.name
    FROM city JOIN districts x ON x.city_id = city.city_id
    WHERE CAST(:by AS text) = 'district'
)
"""

_STATS = filtered_sql(
    _HOURS  # noqa: S608 - _HOURS and the text below are constants of this module
    + """,
agg AS (
    SELECT g.id, count(*) AS n,
           count(g.ack_h) AS n_acknowledged,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY g.ack_h) AS ack_median_h,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY g.ack_h) AS ack_p90_h,
           avg(g.ack_h) AS ack_mean_h,
           count(g.resolve_h) AS n_resolved,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY g.resolve_h) AS resolve_median_h,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY g.resolve_h) AS resolve_p90_h,
           avg(g.resolve_h) AS resolve_mean_h
    FROM g GROUP BY g.id
)
SELECT names.key, names.name_ro, names.name_en, agg.n, agg.n_acknowledged,
       agg.ack_median_h, agg.ack_p90_h, agg.ack_mean_h, agg.n_resolved,
       agg.resolve_median_h, agg.resolve_p90_h, agg.resolve_mean_h
FROM agg LEFT JOIN names ON names.id = agg.id
ORDER BY names.key NULLS LAST
"""
)


def _grouping(by: str) -> str:
    if by not in GROUPINGS:
        raise ValidationError("by", f"group by one of {sorted(GROUPINGS)}, got {by!r}")
    return by


def resolution_stats(bind: Bind, filters: Filters, by: str = "category") -> pd.DataFrame:
    """Median, p90 and mean hours to acknowledge and to resolve, per group.

    Parameters
    ----------
    by:
        ``"category"``, ``"department"`` or ``"district"``.

    Returns
    -------
    DataFrame, one row per group present in the filtered set, with ``key``
    (code, or district name; None for incidents outside every district),
    ``name_ro``, ``name_en``, ``n``, ``n_acknowledged``, ``ack_median_h``,
    ``ack_p90_h``, ``ack_mean_h``, ``n_resolved``, ``resolve_median_h``,
    ``resolve_p90_h``, ``resolve_mean_h`` (NaN when nothing was acknowledged /
    resolved).
    """
    _grouping(by)
    city_exists(bind, filters.city)
    return read_frame(bind, _STATS, filters.params() | {"by": by})


#: One pass over ``f`` (receipt and resolution rows side by side), so the
#: filtered set is not materialised to disk to be read twice.
#: Receipts by creation week and resolutions by resolution week, each from
#: its own read of the filtered set: hash-aggregating the receipts and sorting
#: only the resolved rows for the medians is 3x faster at city scale than one
#: pass that sorts both kinds of row together (bench/RESULTS.md).
_WEEKLY = filtered_sql(
    BUCKETS_CTE  # noqa: S608 - both pieces are constants of this package
    + """,
rec AS (
    SELECT b.days[width_bucket(f.created_at, b.starts)] AS week, count(*) AS received
    FROM f CROSS JOIN buckets b GROUP BY 1
),
res AS (
    SELECT b.days[width_bucket(f2.resolved_at, b.starts)] AS week,
           count(*) AS resolved,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY date_part('epoch', f2.resolved_at - f2.created_at) / 3600.0)
               AS resolve_median_h
    FROM f2 CROSS JOIN buckets b WHERE f2.resolved_at IS NOT NULL GROUP BY 1
)
SELECT week, COALESCE(rec.received, 0) AS received, COALESCE(res.resolved, 0) AS resolved,
       res.resolve_median_h
FROM rec FULL JOIN res USING (week)
ORDER BY week
""",
    reads=2,
)


def weekly_trend(bind: Bind, filters: Filters) -> pd.DataFrame:
    """Received and resolved per local week (Monday 00:00 in the city's zone).

    Returns
    -------
    DataFrame with ``week`` (date of the Monday), ``received`` (created that
    week), ``resolved`` (resolved that week) and ``resolve_median_h`` (median
    hours of the incidents resolved that week).  Weeks without any activity
    are filled with zeros / NaN so the line has no gaps.
    """
    city_exists(bind, filters.city)
    frame = read_frame(bind, _WEEKLY, filters.params() | {"unit": "week"})
    if frame.empty:
        return frame.astype({"received": "int64", "resolved": "int64"})
    frame["week"] = pd.to_datetime(frame["week"])
    full = pd.date_range(frame["week"].min(), frame["week"].max(), freq="7D")
    frame = frame.set_index("week").reindex(full).rename_axis("week").reset_index()
    frame[["received", "resolved"]] = frame[["received", "resolved"]].fillna(0)
    frame["week"] = frame["week"].dt.date
    return frame.astype({"received": "int64", "resolved": "int64"})


#: Default histogram edges in hours: 4 h, 8 h, 1 d, 2 d, 3 d, 1 w, 2 w, 30 d.
DEFAULT_BINS: tuple[float, ...] = (0, 4, 8, 24, 48, 72, 168, 336, 720)

_DISTRIBUTION = filtered_sql(
    """
SELECT width_bucket(date_part('epoch', f.resolved_at - f.created_at) / 3600.0,
                    CAST(:edges AS float8[])) AS bucket, count(*) AS n
FROM f WHERE f.resolved_at IS NOT NULL
GROUP BY 1
"""
)


def resolution_distribution(
    bind: Bind, filters: Filters, bins: Sequence[float] = DEFAULT_BINS
) -> pd.DataFrame:
    """Histogram of hours to resolve over the given edges (last bin is open-ended).

    Returns
    -------
    DataFrame with ``bin_start_h``, ``bin_end_h`` (inf for the last bin),
    ``label``, ``n`` and ``share`` (of resolved incidents, 0..1): one row per
    bin, including empty ones.
    """
    edges = [float(b) for b in bins]
    if len(edges) < 1 or any(b >= a for a, b in zip(edges[1:], edges, strict=False)):
        raise ValidationError("bins", f"bin edges must increase strictly, got {list(bins)}")
    city_exists(bind, filters.city)
    frame = read_frame(bind, _DISTRIBUTION, filters.params() | {"edges": edges})
    counts = dict(zip(frame["bucket"], frame["n"], strict=True))
    starts = edges
    ends = [*edges[1:], np.inf]
    out = pd.DataFrame(
        {
            "bin_start_h": starts,
            "bin_end_h": ends,
            "label": [
                f"{a:g}-{b:g} h" if np.isfinite(b) else f">{a:g} h"
                for a, b in zip(starts, ends, strict=True)
            ],
            "n": [int(counts.get(k, 0)) for k in range(1, len(edges) + 1)],
        }
    )
    total = out["n"].sum()
    out["share"] = out["n"] / total if total else 0.0
    return out


_WITHIN = filtered_sql(
    _HOURS  # noqa: S608 - _HOURS and the text below are constants of this module
    + """,
agg AS (
    SELECT g.id, count(*) AS n_resolved,
           count(*) FILTER (WHERE g.resolve_h <= g.target_hours) AS n_within
    FROM g WHERE g.resolve_h IS NOT NULL
    GROUP BY g.id
)
SELECT names.key, names.name_ro, names.name_en, agg.n_resolved, agg.n_within,
       CAST(agg.n_within AS float8) / agg.n_resolved AS share_within
FROM agg LEFT JOIN names ON names.id = agg.id
ORDER BY names.key NULLS LAST
"""
)


def share_within_target(bind: Bind, filters: Filters, by: str = "category") -> pd.DataFrame:
    """Share of resolved incidents fixed within their category's target hours.

    Returns
    -------
    DataFrame with ``key``, ``name_ro``, ``name_en``, ``n_resolved``,
    ``n_within`` and ``share_within`` (0..1), one row per group with at least
    one resolved incident.
    """
    _grouping(by)
    city_exists(bind, filters.city)
    return read_frame(bind, _WITHIN, filters.params() | {"by": by})


#: Age buckets of the open backlog: (column, lower bound days, upper bound days).
AGE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("lt_1d", 0, 1),
    ("d1_3", 1, 3),
    ("d3_7", 3, 7),
    ("d7_30", 7, 30),
    ("gt_30d", 30, np.inf),
)

_BACKLOG = filtered_sql(
    """,
t AS (SELECT COALESCE(CAST(:now AS timestamptz), now()) AS now)
SELECT f.department_code, min(f.department_ro) AS department_ro,
       min(f.department_en) AS department_en,
       count(*) FILTER (WHERE t.now - f.created_at < interval '1 day') AS lt_1d,
       count(*) FILTER (WHERE t.now - f.created_at >= interval '1 day'
                        AND t.now - f.created_at < interval '3 days') AS d1_3,
       count(*) FILTER (WHERE t.now - f.created_at >= interval '3 days'
                        AND t.now - f.created_at < interval '7 days') AS d3_7,
       count(*) FILTER (WHERE t.now - f.created_at >= interval '7 days'
                        AND t.now - f.created_at < interval '30 days') AS d7_30,
       count(*) FILTER (WHERE t.now - f.created_at >= interval '30 days') AS gt_30d,
       count(*) AS total
FROM f CROSS JOIN t
WHERE f.status = ANY(CAST(:open AS text[]))
GROUP BY f.department_code
ORDER BY total DESC, f.department_code
"""
)


def backlog_ageing(bind: Bind, filters: Filters, now: datetime | None = None) -> pd.DataFrame:
    """Open incidents per department by age: <1 day, 1-3, 3-7, 7-30, >30 days.

    Days are 24-hour periods since creation (ages, not calendar days).

    Returns
    -------
    DataFrame with ``department_code``, ``department_ro``, ``department_en``,
    ``lt_1d``, ``d1_3``, ``d3_7``, ``d7_30``, ``gt_30d`` and ``total``,
    largest backlog first.
    """
    city_exists(bind, filters.city)
    params = filters.params() | {"now": now_param(now), "open": OPEN}
    return read_frame(bind, _BACKLOG, params)


_DISTRICT_MEDIANS = filtered_sql(
    """,
agg AS (
    SELECT f.district_id, count(*) AS n,
           count(*) FILTER (WHERE f.status = ANY(CAST(:open AS text[]))) AS n_open,
           count(f.resolved_at) AS n_resolved,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY date_part('epoch', f.resolved_at - f.created_at) / 3600.0)
               AS resolve_median_h
    FROM f WHERE f.district_id IS NOT NULL GROUP BY f.district_id
)
SELECT d.name AS district, COALESCE(agg.n, 0) AS n, COALESCE(agg.n_open, 0) AS n_open,
       COALESCE(agg.n_resolved, 0) AS n_resolved, agg.resolve_median_h,
       ST_AsBinary(d.geom) AS wkb
FROM city JOIN districts d ON d.city_id = city.city_id
LEFT JOIN agg ON agg.district_id = d.district_id
WHERE CAST(:districts AS text[]) IS NULL OR d.name = ANY(CAST(:districts AS text[]))
ORDER BY d.name
"""
)


def district_medians(bind: Bind, filters: Filters) -> gpd.GeoDataFrame:
    """Per district: incidents, open, resolved and median hours to resolve, with the shape.

    Every district of the city is present (zeros / NaN when nothing matches),
    so a choropleth shows empty districts instead of holes.

    Returns
    -------
    GeoDataFrame (EPSG:4326) with ``district``, ``n``, ``n_open``,
    ``n_resolved``, ``resolve_median_h`` and ``geometry``.
    """
    city_exists(bind, filters.city)
    frame = read_frame(bind, _DISTRICT_MEDIANS, filters.params() | {"open": OPEN})
    return to_geodataframe(frame)

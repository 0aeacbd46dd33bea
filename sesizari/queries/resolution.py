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

Counts, means and shares within target are sums over the daily rollup
(``incident_daily``, migration 0015), exact for any filter.  Medians and
p90s of a group larger than :data:`EXACT_PERCENTILE_LIMIT` incidents are
read from the fixed one-in-eight sample of the same migration; each result
says which groups that applies to (``sampled``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from sesizari.errors import ValidationError
from sesizari.queries.filters import (
    BUCKETS_CTE,
    OPEN,
    ROLLUP_SUMS,
    Bind,
    Filters,
    city_exists,
    filtered_sql,
    now_param,
    read_frame,
    rollup_sql,
)
from sesizari.queries.maps import to_geodataframe

#: What the per-group figures can be grouped by.
GROUPINGS: tuple[str, ...] = ("category", "department", "district")


def _group_id(t: str) -> str:
    """The SQL of each row's group id in table alias ``t``, chosen by ``:by``.

    A CASE, so the group-by column is never spliced into the SQL text; 0 for
    incidents outside every district (ids are positive), so that group can be
    named in an id list.  Grouping by the integer id and naming the few groups
    afterwards spares per-incident joins and text sorts (whole city at 1M, by
    category: 874 -> 620 ms before the rollup).
    """
    return (
        f"COALESCE(CASE CAST(:by AS text) WHEN 'category' THEN {t}.category_id"
        f" WHEN 'department' THEN {t}.department_id ELSE {t}.district_id END, 0)"
    )


#: ``names``: the key and names of every group of the city.
_NAMES = """,
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

#: Counts and means per group, from the daily rollup: exact, and about a
#: seventh of the rows of the incidents themselves.
_COUNTS = rollup_sql(
    _NAMES  # noqa: S608 - _NAMES, _group_id and the text below are constants of this module
    + """,
agg AS (
    SELECT """
    + _group_id("r")
    + """ AS id,
           sum(r.n) AS n, sum(r.n_acknowledged) AS n_acknowledged,
           sum(r.ack_sum_h) AS ack_sum_h, sum(r.n_resolved) AS n_resolved,
           sum(r.resolve_sum_h) AS resolve_sum_h, sum(r.n_within) AS n_within,
           sum(r.n) FILTER (WHERE r.status = ANY(CAST(:open AS text[]))) AS n_open
    FROM r GROUP BY 1
)
SELECT agg.id, names.key, names.name_ro, names.name_en,
       CAST(agg.n AS bigint) AS n, CAST(agg.n_acknowledged AS bigint) AS n_acknowledged,
       agg.ack_sum_h / NULLIF(agg.n_acknowledged, 0) AS ack_mean_h,
       CAST(agg.n_resolved AS bigint) AS n_resolved,
       agg.resolve_sum_h / NULLIF(agg.n_resolved, 0) AS resolve_mean_h,
       CAST(agg.n_within AS bigint) AS n_within,
       CAST(COALESCE(agg.n_open, 0) AS bigint) AS n_open
FROM agg LEFT JOIN names ON names.id = NULLIF(agg.id, 0)
ORDER BY names.key NULLS LAST
"""
)


def _group_read(read: str, ids: str, by_index: bool = False) -> str:
    """One read (``f`` or ``f2``) of the incidents of the groups listed in ``:ids``.

    An empty list switches the read off before it starts (a constant
    condition on a bound parameter).  With ``by_index``, grouped by category
    the read also names the categories on the column itself, which
    PostgreSQL reads through ``incidents_category_idx`` (migration 0019)
    instead of scanning the city for them, when ``:direct`` says so
    (:func:`read_exact_by_category`; whole city: one category of 12,000
    incidents among 580,000, 147 -> 91 ms, median of 9; the open incidents
    all exact: 106 ms by their own read, 151 ms by category).  ``:by`` and
    ``:direct`` are bound values, so the
    condition folds away when the query is planned.
    """
    group = _group_id(read)
    direct = (
        f"\n      AND (NOT CAST(:direct AS boolean) OR CAST(:by AS text) <> 'category'"
        f" OR {read}.category_id = ANY(CAST(:{ids} AS int[])))"
        if by_index
        else ""
    )
    return f"""
    SELECT {group} AS id, {read}.acknowledged_at, {read}.resolved_at, {read}.created_at
    FROM {read}
    WHERE cardinality(CAST(:{ids} AS int[])) > 0 AND {group} = ANY(CAST(:{ids} AS int[])){direct}"""  # noqa: S608


#: Median and p90 hours to acknowledge and to resolve per group: from the
#: fixed sample (``f``) for the groups in ``:sampled_ids``, from every
#: incident (``f2``) for those in ``:exact_ids``.
_PERCENTILES = filtered_sql(
    """,
g AS ("""  # noqa: S608 - _group_read gives constants of this module
    + _group_read("f", "sampled_ids")
    + "\n    UNION ALL"
    + _group_read("f2", "exact_ids", by_index=True)
    + """
),
h AS (
    SELECT g.id,
           date_part('epoch', g.acknowledged_at - g.created_at) / 3600.0 AS ack_h,
           date_part('epoch', g.resolved_at - g.created_at) / 3600.0 AS resolve_h
    FROM g
)
SELECT h.id,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY h.ack_h) AS ack_median_h,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY h.ack_h) AS ack_p90_h,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY h.resolve_h) AS resolve_median_h,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY h.resolve_h) AS resolve_p90_h
FROM h GROUP BY h.id
""",
    reads=2,
    sampled=[1],
)

#: A group holding more incidents than this gets its percentiles from the
#: fixed sample (one incident in :data:`SAMPLE_RATE`, so at least 2,500
#: values); a smaller group, from all its incidents.  On the 1,000,000-incident
#: demo the sampled medians and p90s were within 1 % of the exact ones for
#: half the groups and within 4.7 % for all (bench/RESULTS.md).  Sorting
#: 580,000 durations per page view costs about 0.3 s on two cores, more than
#: the page's whole budget.
EXACT_PERCENTILE_LIMIT = 20_000


def read_exact_by_category(exact_groups: int, sampled_groups: int) -> bool:
    """Whether the exact groups' incidents are read by their categories, through
    ``incidents_category_idx``, rather than by scanning the selection.

    Only when the exact groups are the fewer: then they are the few small
    groups of a large selection.  When every group is exact, the selection
    is small or has its own index (the open incidents), and its own read is
    as fast or faster.  Shared by the Resolution page and the scorecard.
    """
    return exact_groups < sampled_groups


_PERCENTILE_COLUMNS = ("ack_median_h", "ack_p90_h", "resolve_median_h", "resolve_p90_h")


def _grouping(by: str) -> str:
    if by not in GROUPINGS:
        raise ValidationError(
            "group_by",
            f"group by one of {sorted(GROUPINGS)}, got {by!r}",
            ro=f"grupați după una dintre valorile {sorted(GROUPINGS)}; valoarea primită: {by!r}",
        )
    return by


def _group_figures(
    bind: Bind, filters: Filters, by: str, exact_limit: int = EXACT_PERCENTILE_LIMIT
) -> pd.DataFrame:
    """Counts, means and percentiles per group; ``sampled`` says where percentiles come from."""
    params = filters.params() | {"by": by, "open": OPEN}
    counts = read_frame(bind, _COUNTS, params)
    big = counts["n"] > int(exact_limit)
    ids = {
        "sampled_ids": [int(i) for i in counts.loc[big, "id"]],
        "exact_ids": [int(i) for i in counts.loc[~big, "id"]],
        # See _group_read.
        "direct": read_exact_by_category(int((~big).sum()), int(big.sum())),
    }
    if counts.empty:
        pct = pd.DataFrame(columns=["id", *_PERCENTILE_COLUMNS])
    else:
        pct = read_frame(bind, _PERCENTILES, params | ids)
    out = counts.merge(pct, on="id", how="left", validate="one_to_one")
    out[list(_PERCENTILE_COLUMNS)] = out[list(_PERCENTILE_COLUMNS)].astype(float)
    out["sampled"] = big.to_numpy()
    return out.drop(columns=["id"])


def resolution_stats(
    bind: Bind, filters: Filters, by: str = "category", exact_limit: int = EXACT_PERCENTILE_LIMIT
) -> pd.DataFrame:
    """Median, p90 and mean hours to acknowledge and to resolve, per group.

    Counts and means are exact (sums over the rollups).  Medians and p90s are
    exact for groups of up to ``exact_limit`` incidents and read from the
    fixed one-in-eight sample above it (:data:`EXACT_PERCENTILE_LIMIT`); the
    ``sampled`` column says which, so a page can mark estimates.

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
    resolved) and ``sampled``.
    """
    _grouping(by)
    city_exists(bind, filters.city)
    frame = _group_figures(bind, filters, by, exact_limit)
    return frame[
        [
            "key", "name_ro", "name_en", "n", "n_acknowledged", "ack_median_h", "ack_p90_h",
            "ack_mean_h", "n_resolved", "resolve_median_h", "resolve_p90_h", "resolve_mean_h",
            "sampled",
        ]
    ]  # fmt: skip


#: Receipts by creation week, from the daily rollup (exact, and a seventh of
#: the rows), and resolutions by resolution week with their median, from the
#: resolved incidents of the selection.  The weekly medians stay exact: a
#: week of a whole city holds a few thousand resolutions, below
#: :data:`EXACT_PERCENTILE_LIMIT`, so the sample would hold too few of them.
#:
#: Each week's resolutions are read by their own range of ``resolved_at``
#: (local Monday to Monday, through ``incidents_resolved_idx``), so each
#: median sorts one week's few thousand durations; grouping every
#: resolution by its week first sorted all of them (a whole city's 510,000
#: at 1,000,000 incidents: 397 -> 262 ms, median of 5, same process).
_WEEKLY = filtered_sql(
    BUCKETS_CTE  # noqa: S608 - both pieces are constants of this package
    + """,
rec AS (
    SELECT CAST(date_trunc('week', CAST(rd.day AS timestamp)) AS date) AS week,
           sum(rd.n) AS received
    FROM rd GROUP BY 1
),
weeks AS (
    SELECT w.day, w.lo, (CAST(w.day AS timestamp) + interval '7 days') AT TIME ZONE span.tz AS hi
    FROM buckets b
    CROSS JOIN span
    CROSS JOIN LATERAL unnest(b.days, b.starts) AS w(day, lo)
),
res AS (
    SELECT w.day AS week, r.resolved, r.resolve_median_h
    FROM weeks w
    CROSS JOIN LATERAL (
        SELECT count(*) AS resolved,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY date_part('epoch', f.resolved_at - f.created_at) / 3600.0)
                   AS resolve_median_h
        FROM f
        WHERE f.resolved_at >= w.lo AND f.resolved_at < w.hi
    ) r
    WHERE r.resolved > 0
)
SELECT week, CAST(COALESCE(rec.received, 0) AS bigint) AS received,
       COALESCE(res.resolved, 0) AS resolved, res.resolve_median_h
FROM rec FULL JOIN res USING (week)
ORDER BY week
""",
    daily=True,
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


def partial_weeks(trend: pd.DataFrame, filters: Filters) -> list[date]:
    """The weeks of :func:`weekly_trend` that the selected dates cover only in part.

    A range starting on a Wednesday or ending today leaves its first or last
    week with fewer days than the others: its counts look like a drop that
    did not happen, so the page says which weeks they are.  (Weeks wholly
    after the range hold only later resolutions of its incidents: they are
    whole weeks, not cut ones.)
    """
    weeks = list(trend["week"]) if "week" in trend else []
    return [
        week
        for week in weeks
        if (filters.start is not None and week < filters.start < week + timedelta(days=7))
        or (filters.end is not None and week < filters.end < week + timedelta(days=7))
    ]


#: Default histogram edges in hours: 4 h, 8 h, 1 d, 2 d, 3 d, 1 w, 2 w, 30 d.
#: The daily rollup counts resolutions in these bins (migration 0015), so the
#: page's histogram is a sum over it; other edges count the incidents.
DEFAULT_BINS: tuple[float, ...] = (0, 4, 8, 24, 48, 72, 168, 336, 720)

_DISTRIBUTION = filtered_sql(
    """
SELECT width_bucket(date_part('epoch', f.resolved_at - f.created_at) / 3600.0,
                    CAST(:edges AS float8[])) AS bucket, count(*) AS n
FROM f WHERE f.resolved_at IS NOT NULL
GROUP BY 1
"""
)

#: The rollup's columns of the :data:`DEFAULT_BINS` histogram, in bin order.
ROLLUP_BINS: tuple[str, ...] = tuple(c for c in ROLLUP_SUMS if c.startswith("resolved_"))

#: The default histogram, summed from the rollup (exact, a seventh of the rows).
_ROLLUP_DISTRIBUTION = rollup_sql(
    "SELECT "  # noqa: S608 - the column names are the constants above
    + ", ".join(
        f"CAST(COALESCE(sum(r.{c}), 0) AS bigint) AS b{k}" for k, c in enumerate(ROLLUP_BINS, 1)
    )
    + " FROM r"
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
        raise ValidationError(
            "bins",
            f"bin edges must increase strictly, got {list(bins)}",
            ro="limitele intervalelor trebuie să fie strict crescătoare;"
            f" valoarea primită: {list(bins)}",
        )
    city_exists(bind, filters.city)
    if tuple(edges) == DEFAULT_BINS:
        row = read_frame(bind, _ROLLUP_DISTRIBUTION, filters.params()).iloc[0]
        counts = {k: int(row[f"b{k}"]) for k in range(1, len(ROLLUP_BINS) + 1)}
    else:
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


def share_within_target(bind: Bind, filters: Filters, by: str = "category") -> pd.DataFrame:
    """Share of resolved incidents fixed within their category's target hours.

    Exact, from the daily rollup, which counts each resolved incident against
    its category's current target.

    Returns
    -------
    DataFrame with ``key``, ``name_ro``, ``name_en``, ``n_resolved``,
    ``n_within`` and ``share_within`` (0..1), one row per group with at least
    one resolved incident.
    """
    _grouping(by)
    city_exists(bind, filters.city)
    counts = read_frame(bind, _COUNTS, filters.params() | {"by": by, "open": OPEN})
    out = counts.loc[
        counts["n_resolved"] > 0, ["key", "name_ro", "name_en", "n_resolved", "n_within"]
    ]
    out = out.reset_index(drop=True)
    out["share_within"] = out["n_within"] / out["n_resolved"]
    return out


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


_DISTRICT_SHAPES = sa.text(
    """
SELECT d.name AS district, ST_AsBinary(d.geom) AS wkb
FROM cities c JOIN districts d ON d.city_id = c.city_id
WHERE c.slug = :city
  AND (CAST(:districts AS text[]) IS NULL OR d.name = ANY(CAST(:districts AS text[])))
ORDER BY d.name
"""
)


def district_medians(
    bind: Bind, filters: Filters, exact_limit: int = EXACT_PERCENTILE_LIMIT
) -> gpd.GeoDataFrame:
    """Per district: incidents, open, resolved and median hours to resolve, with the shape.

    Every district of the city is present (zeros / NaN when nothing matches),
    so a choropleth shows empty districts instead of holes.

    Returns
    -------
    GeoDataFrame (EPSG:4326) with ``district``, ``n``, ``n_open``,
    ``n_resolved``, ``resolve_median_h``, ``sampled`` (the median is read
    from the fixed sample, as in :func:`resolution_stats`) and ``geometry``.
    """
    city_exists(bind, filters.city)
    shapes = read_frame(bind, _DISTRICT_SHAPES, filters.params())
    figures = _group_figures(bind, filters, "district", exact_limit).rename(
        columns={"key": "district"}
    )
    frame = shapes.merge(
        figures[["district", "n", "n_open", "n_resolved", "resolve_median_h", "sampled"]],
        on="district", how="left", validate="one_to_one",
    )  # fmt: skip
    counts = ["n", "n_open", "n_resolved"]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame["sampled"] = frame["sampled"].astype("boolean").fillna(False).astype(bool)
    return to_geodataframe(frame[["district", *counts, "resolve_median_h", "sampled", "wkb"]])

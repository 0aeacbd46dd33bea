"""Department scorecards: volume, speed and reliability, ranked.

The reporting period is the filters' date range, or the 30 local days up to
``now`` when none is set; the previous period is the equally long span just
before it, so "change" compares like with like.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from sesizari.errors import ValidationError
from sesizari.queries.filters import (
    OPEN,
    Bind,
    Filters,
    city_exists,
    filtered_sql,
    now_param,
    read_frame,
)
from sesizari.queries.resolution import EXACT_PERCENTILE_LIMIT, read_exact_by_category

DEFAULT_PERIOD_DAYS = 30

#: ``p``: the instants the periods start and end (local midnights).
#: MATERIALIZED: computed once.  Inlined, its time-zone conversions ran for
#: every incident (six months at 1M: 1.36 -> 0.86 s).
_PERIODS = """,
p AS MATERIALIZED (
    SELECT (CAST(:p_start AS date) + time '00:00') AT TIME ZONE city.timezone AS cur0,
           (CAST(:p_end AS date) + time '00:00') AT TIME ZONE city.timezone AS cur1,
           (CAST(:q_start AS date) + time '00:00') AT TIME ZONE city.timezone AS prev0
    FROM city
),"""

#: Receipts of the two periods per department, from the daily rollup (exact:
#: the periods are local days, the rollup's key), the incidents resolved in
#: them (by resolution time, through its own index) and those open now.
#: Each read counts only what it can count, through its own index.
_PERF = filtered_sql(
    _PERIODS  # noqa: S608 - both pieces are constants of this module
    + """
t AS (SELECT COALESCE(CAST(:now AS timestamptz), now()) AS now),
rec AS (
    SELECT rd.department_id,
           sum(rd.n) FILTER (WHERE rd.day >= CAST(:p_start AS date)) AS received,
           sum(rd.n_resolved) FILTER (WHERE rd.day >= CAST(:p_start AS date))
               AS received_resolved,
           sum(rd.n_within) FILTER (WHERE rd.day >= CAST(:p_start AS date)) AS within_target,
           sum(rd.n) FILTER (WHERE rd.day < CAST(:p_start AS date)) AS prev_received,
           sum(rd.n_resolved) FILTER (WHERE rd.day < CAST(:p_start AS date))
               AS prev_received_resolved,
           sum(rd.n_within) FILTER (WHERE rd.day < CAST(:p_start AS date))
               AS prev_within_target
    FROM rd
    WHERE rd.day >= CAST(:q_start AS date) AND rd.day < CAST(:p_end AS date)
    GROUP BY rd.department_id
),
res AS (
    SELECT f.department_id,
           count(*) FILTER (WHERE f.resolved_at >= p.cur0) AS resolved,
           count(*) FILTER (WHERE f.resolved_at < p.cur0) AS prev_resolved
    FROM f CROSS JOIN p
    WHERE f.resolved_at >= (SELECT p.prev0 FROM p) AND f.resolved_at < (SELECT p.cur1 FROM p)
    GROUP BY f.department_id
),
opn AS (
    SELECT f2.department_id, count(*) AS open
    FROM f2 CROSS JOIN t
    WHERE f2.status = ANY(CAST(:open AS text[])) AND f2.created_at <= t.now
    GROUP BY f2.department_id
),
deps AS (
    SELECT d.department_id, d.code, d.name_ro, d.name_en
    FROM city JOIN departments d ON d.city_id = city.city_id
    WHERE (CAST(:deps AS text[]) IS NULL OR d.code = ANY(CAST(:deps AS text[])))
      AND (CAST(:scope_dep AS text) IS NULL OR d.code = CAST(:scope_dep AS text))
)
SELECT deps.department_id, deps.code AS department_code, deps.name_ro AS department_ro,
       deps.name_en AS department_en,
       CAST(COALESCE(rec.received, 0) AS bigint) AS received,
       COALESCE(res.resolved, 0) AS resolved,
       COALESCE(opn.open, 0) AS open,
       CAST(COALESCE(rec.received_resolved, 0) AS bigint) AS received_resolved,
       CAST(COALESCE(rec.within_target, 0) AS bigint) AS within_target,
       CAST(COALESCE(rec.prev_received, 0) AS bigint) AS prev_received,
       COALESCE(res.prev_resolved, 0) AS prev_resolved,
       CAST(COALESCE(rec.prev_received_resolved, 0) AS bigint) AS prev_received_resolved,
       CAST(COALESCE(rec.prev_within_target, 0) AS bigint) AS prev_within_target
FROM deps
LEFT JOIN rec ON rec.department_id = deps.department_id
LEFT JOIN res ON res.department_id = deps.department_id
LEFT JOIN opn ON opn.department_id = deps.department_id
ORDER BY deps.code
""",
    reads=2,
    daily=True,
)


#: The categories in which the exact departments received incidents during
#: the two periods, from the daily rollup (exact: its days are the periods'
#: local days).  Every incident the exact read keeps is of one of them.
_EXACT_CATEGORIES = """ARRAY(
            SELECT DISTINCT rd.category_id FROM incident_daily rd
            WHERE rd.city_id = (SELECT city_id FROM city)
              AND rd.day >= CAST(:q_start AS date) AND rd.day < CAST(:p_end AS date)
              AND rd.department_id = ANY(
                  CAST(:exact_cur AS int[]) || CAST(:exact_prev AS int[])))"""


def _created(read: str, kind: str) -> str:
    """One read (``f`` or ``f2``) of the periods' incidents of the departments in its lists.

    ``kind`` names the lists: ``:sampled_cur``/``:sampled_prev`` or
    ``:exact_cur``/``:exact_prev``.  Both empty switch the read off before it
    starts (a constant condition on bound parameters).

    The exact read also names the categories those departments received
    (:data:`_EXACT_CATEGORIES`) on the column itself, so PostgreSQL reads
    them through ``incidents_category_idx`` (migration 0019) instead of
    every incident of the periods, when ``:direct`` says so
    (:func:`~sesizari.queries.resolution.read_exact_by_category`).  Half a year of Alba
    Iulia: three small departments' 40,500 incidents were picked out of
    375,600.
    """
    direct = (
        f"\n      AND (NOT CAST(:direct AS boolean)"
        f" OR {read}.category_id = ANY({_EXACT_CATEGORIES}))"
        if kind == "exact"
        else ""
    )
    return f"""
    SELECT {read}.department_id, {read}.created_at >= p.cur0 AS cur, {read}.created_at,
           {read}.acknowledged_at, {read}.resolved_at
    FROM {read} CROSS JOIN p
    WHERE cardinality(CAST(:{kind}_cur AS int[])) + cardinality(CAST(:{kind}_prev AS int[])) > 0
      AND {read}.created_at >= (SELECT p.prev0 FROM p)
      AND {read}.created_at < (SELECT p.cur1 FROM p)
      AND CASE WHEN {read}.created_at >= p.cur0
               THEN {read}.department_id = ANY(CAST(:{kind}_cur AS int[]))
               ELSE {read}.department_id = ANY(CAST(:{kind}_prev AS int[])) END{direct}"""  # noqa: S608


#: The periods' percentiles per department: for each (department, period),
#: from the fixed sample (``f``) when the department received more than
#: ``EXACT_PERCENTILE_LIMIT`` incidents in that period, else from all of
#: them (``f2``); as in :func:`sesizari.queries.resolution.resolution_stats`.
_PERCENTILES = filtered_sql(
    _PERIODS  # noqa: S608 - both pieces are constants of this module
    + """
created AS ("""
    + _created("f", "sampled")
    + "\n    UNION ALL"
    + _created("f2", "exact")
    + """
),
h AS (
    SELECT department_id, cur,
           date_part('epoch', acknowledged_at - created_at) / 3600.0 AS ack_h,
           date_part('epoch', resolved_at - created_at) / 3600.0 AS resolve_h
    FROM created
)
SELECT department_id,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ack_h) FILTER (WHERE cur) AS ack_median_h,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY ack_h) FILTER (WHERE cur) AS ack_p90_h,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve_h) FILTER (WHERE cur)
           AS resolve_median_h,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY resolve_h) FILTER (WHERE cur)
           AS resolve_p90_h,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve_h) FILTER (WHERE NOT cur)
           AS prev_resolve_median_h
FROM h
GROUP BY department_id
""",
    reads=2,
    sampled=[1],
)

_PERCENTILE_COLUMNS = [
    "ack_median_h", "ack_p90_h", "resolve_median_h", "resolve_p90_h", "prev_resolve_median_h",
]  # fmt: skip


def period(filters: Filters, today: date) -> tuple[date, date, date]:
    """(previous start, current start, current end) as local dates, end exclusive."""
    end = filters.end or (today + timedelta(days=1))
    start = filters.start or (end - timedelta(days=DEFAULT_PERIOD_DAYS))
    return start - (end - start), start, end


def department_performance(
    bind: Bind,
    filters: Filters,
    now: datetime | None = None,
    exact_limit: int = EXACT_PERCENTILE_LIMIT,
) -> pd.DataFrame:
    """One scorecard row per department, with the change vs the previous period.

    Definitions (current period P, previous period Q of equal length):

    * ``received``: created in P; ``resolved``: resolved in P (whenever created);
      ``open``: open now (current status), whatever the period;
    * ``resolution_rate``: share of the incidents received in P that are resolved;
    * ``ack_*_h`` / ``resolve_*_h``: hours for the incidents received in P;
    * ``within_target_pct``: % of P's resolved receipts fixed within the
      category's target hours (NaN when none resolved);
    * ``*_change``: current minus previous; ``rank``: 1 = best
      ``within_target_pct``, ties broken by the shorter median;
    * ``sampled``: the department received more than ``exact_limit``
      incidents in a period, so that period's medians and p90s are read
      from the fixed one-in-eight sample (counts and shares stay exact).

    Returns
    -------
    DataFrame with ``department_code``, ``department_ro``, ``department_en``,
    ``received``, ``resolved``, ``open``, ``resolution_rate``, ``ack_median_h``,
    ``ack_p90_h``, ``resolve_median_h``, ``resolve_p90_h``,
    ``within_target_pct``, ``prev_received``, ``prev_resolved``,
    ``prev_resolve_median_h``, ``prev_within_target_pct``,
    ``received_change``, ``resolve_median_change_h``,
    ``within_target_change_pct``, ``rank``, ``sampled``, ``period_start``,
    ``period_end``.
    """
    city_exists(bind, filters.city)
    now = now_param(now)
    today = read_frame(
        bind,
        filtered_sql(
            "SELECT CAST(COALESCE(CAST(:now AS timestamptz), now())"
            " AT TIME ZONE city.timezone AS date) AS today FROM city"
        ),
        filters.params() | {"now": now},
    )["today"].iloc[0]
    q_start, p_start, p_end = period(filters, today)
    params = filters.without_dates().params() | {
        "now": now,
        "open": OPEN,
        "p_start": p_start,
        "p_end": p_end,
        "q_start": q_start,
    }
    df = read_frame(bind, _PERF, params)
    lists: dict[str, Any] = {}
    for period_name, column in (("cur", "received"), ("prev", "prev_received")):
        big = df[column] > int(exact_limit)
        lists[f"sampled_{period_name}"] = [int(i) for i in df.loc[big, "department_id"]]
        lists[f"exact_{period_name}"] = [int(i) for i in df.loc[~big, "department_id"]]
    # See _created.
    exact = set(lists["exact_cur"]) | set(lists["exact_prev"])
    sampled = set(lists["sampled_cur"]) | set(lists["sampled_prev"])
    lists["direct"] = read_exact_by_category(len(exact), len(sampled))
    if df.empty:
        pct = pd.DataFrame(columns=["department_id", *_PERCENTILE_COLUMNS])
    else:
        pct = read_frame(bind, _PERCENTILES, params | lists)
    df = df.merge(pct, on="department_id", how="left", validate="one_to_one")
    df[_PERCENTILE_COLUMNS] = df[_PERCENTILE_COLUMNS].astype(float)
    df["sampled"] = (df["received"] > int(exact_limit)) | (df["prev_received"] > int(exact_limit))
    rate = df["received_resolved"] / df["received"].where(df["received"] > 0)
    df.insert(df.columns.get_loc("received_resolved"), "resolution_rate", rate)
    df["within_target_pct"] = (
        100.0 * df["within_target"] / df["received_resolved"].where(df["received_resolved"] > 0)
    )
    df["prev_within_target_pct"] = (
        100.0
        * df["prev_within_target"]
        / df["prev_received_resolved"].where(df["prev_received_resolved"] > 0)
    )
    df["received_change"] = df["received"] - df["prev_received"]
    df["resolve_median_change_h"] = df["resolve_median_h"] - df["prev_resolve_median_h"]
    df["within_target_change_pct"] = df["within_target_pct"] - df["prev_within_target_pct"]
    order = df.sort_values(
        ["within_target_pct", "resolve_median_h", "department_code"],
        ascending=[False, True, True],
        na_position="last",
    ).index
    df.loc[order, "rank"] = range(1, len(df) + 1)
    df["rank"] = df["rank"].astype("int64")
    df["period_start"], df["period_end"] = p_start, p_end
    helpers = ["received_resolved", "within_target", "prev_received_resolved", "prev_within_target"]
    columns = [
        "department_code", "department_ro", "department_en", "received", "resolved", "open",
        "resolution_rate", "ack_median_h", "ack_p90_h", "resolve_median_h", "resolve_p90_h",
        "within_target_pct", "prev_received", "prev_resolved", "prev_resolve_median_h",
        "prev_within_target_pct", "received_change", "resolve_median_change_h",
        "within_target_change_pct", "rank", "sampled", "period_start", "period_end",
    ]  # fmt: skip
    return df.drop(columns=helpers)[columns]


_OVERDUE = filtered_sql(
    """,
t AS (SELECT COALESCE(CAST(:now AS timestamptz), now()) AS now)
SELECT f.registry_number, f.category_code, f.category_ro, f.category_en, f.status,
       f.district, f.created_at,
       date_part('epoch', t.now - f.created_at) / 3600.0 AS age_h,
       f.target_hours,
       date_part('epoch', t.now - f.created_at) / 3600.0 - f.target_hours AS overdue_h
FROM f CROSS JOIN t
WHERE f.department_code = :dep
  AND f.status = ANY(CAST(:open AS text[]))
  AND t.now - f.created_at > f.target_hours * interval '1 hour'
ORDER BY f.created_at, f.registry_number
LIMIT :limit
"""
)


def department_overdue(
    bind: Bind,
    filters: Filters,
    department: str,
    limit: int = 50,
    now: datetime | None = None,
) -> pd.DataFrame:
    """The department's oldest overdue incidents (open beyond the category target).

    A scoped user (``filters.department``) can only ask for their own
    department; asking for another one is refused, not silently emptied.

    Returns
    -------
    DataFrame, oldest first, with ``registry_number``, ``category_code``,
    ``category_ro``, ``category_en``, ``status``, ``district``, ``created_at``,
    ``age_h``, ``target_hours``, ``overdue_h``.  No description or contact.
    """
    if filters.department is not None and department != filters.department:
        raise ValidationError(
            "department",
            f"access is limited to {filters.department!r}, not {department!r}",
            ro=f"accesul este limitat la {filters.department!r}, nu la {department!r}",
        )
    if int(limit) < 1:
        raise ValidationError(
            "limit",
            f"must be at least 1, got {limit}",
            ro=f"trebuie să fie cel puțin 1; valoarea primită: {limit}",
        )
    city_exists(bind, filters.city)
    params = filters.params() | {
        "dep": department,
        "open": OPEN,
        "limit": int(limit),
        "now": now_param(now),
    }
    return read_frame(bind, _OVERDUE, params)

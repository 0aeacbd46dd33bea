"""Accountability figures: legal deadlines, verified resolution, recurrences, calibration.

Each figure exists so a city cannot look better than it is: "answered in the
legal term" counts overdue reports in its denominator, "closed" is split into
confirmed / disputed / unverified, recurrences show fixes that did not last,
and the estimates promised to citizens are checked against what happened.

Rows loaded in bulk (demo, feeds) may lack the columns filled at creation;
the SQL falls back to the same rules (deadline from the registration time and
the city's ``legal_reply_days``; the first resolution or turn-down as the answer).
"""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from sesizari.commitments import ANSWERED_SQL
from sesizari.errors import ValidationError
from sesizari.queries.filters import Bind, Filters, city_exists, filtered_sql, now_param, read_frame
from sesizari.queries.maps import to_geodataframe

#: The incident's accountability columns next to the filtered row ``f``.
_X = """,
x AS (
    SELECT f.incident_id, f.status, f.created_at, f.resolved_at,
           f.department_code, f.department_ro, f.department_en,
           f.category_code, f.category_ro, f.category_en,
           i.owes_reply, i.forwarded_at, i.recurrence_of, i.geom,
           CAST(i.expected_hours_p50 AS float8) AS p50,
           CAST(i.expected_hours_p80 AS float8) AS p80,
           COALESCE(i.legal_due_at, legal_term_end(f.created_at, f.tz,
               COALESCE((ci.settings ->> 'legal_reply_days')::integer, 30))) AS due,
           legal_term_end(f.created_at, f.tz,
               COALESCE((ci.settings ->> 'forward_days')::integer, 5)) AS forward_end,
           """ + ANSWERED_SQL + """ AS answered_at,
           i.city_id
    FROM f
    JOIN city ON true
    JOIN cities ci ON ci.city_id = city.city_id
    JOIN incidents i ON i.city_id = city.city_id AND i.incident_id = f.incident_id
)
"""  # noqa: S608 (constant fragments)


def _with_x(body: str) -> sa.TextClause:
    """``WITH city, f, x ... <body>``: module constants only, values are bound."""
    return filtered_sql("".join((_X, body)))


_LEGAL = _with_x(
    """,
t AS (SELECT COALESCE(CAST(:now AS timestamptz), now()) AS now)
SELECT x.department_code AS department, min(x.department_ro) AS department_ro,
       min(x.department_en) AS department_en,
       count(*) FILTER (WHERE x.owes_reply) AS owed,
       count(*) FILTER (WHERE x.owes_reply AND x.answered_at IS NULL AND t.now >= x.due)
           AS overdue_now,
       count(*) FILTER (WHERE x.owes_reply AND x.answered_at IS NULL AND x.due > t.now
                        AND x.due <= t.now + interval '7 days') AS due_next_7d,
       count(*) FILTER (WHERE x.forwarded_at IS NOT NULL) AS forwarded,
       count(*) FILTER (WHERE x.forwarded_at >= x.forward_end) AS forwarded_late,
       count(*) FILTER (WHERE x.owes_reply AND x.answered_at IS NOT NULL) AS answered,
       count(*) FILTER (WHERE x.owes_reply AND x.answered_at < x.due) AS answered_in_term,
       count(*) FILTER (WHERE x.owes_reply AND (x.answered_at IS NOT NULL OR t.now >= x.due))
           AS term_ended_or_answered
FROM x CROSS JOIN t
GROUP BY x.department_code ORDER BY x.department_code
"""
)


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype("float64")


def legal_deadlines(bind: Bind, filters: Filters, now: datetime | None = None) -> pd.DataFrame:
    """Petition-law figures per department, at ``now`` (default: the database's now).

    Returns
    -------
    DataFrame, one row per department with incidents in the filtered set:
    ``department``, ``department_ro``, ``department_en``, ``owed`` (a formal
    reply is owed: not anonymous), ``overdue_now`` (owed, unanswered, past the
    deadline), ``due_next_7d`` (owed, unanswered, deadline within 7 days),
    ``forwarded``, ``forwarded_late`` (after the 5-day term), ``answered``,
    ``answered_in_term`` (answered before the deadline, extension included),
    ``term_ended_or_answered`` and ``share_answered_in_term`` =
    answered_in_term / term_ended_or_answered (NaN when 0): reports still
    unanswered after their deadline count against it, those still in term do not.
    """
    city_exists(bind, filters.city)
    frame = read_frame(bind, _LEGAL, filters.params() | {"now": now_param(now)})
    frame["share_answered_in_term"] = _share(
        frame["answered_in_term"], frame["term_ended_or_answered"]
    )
    return frame


_VERIFICATION = _with_x(
    """,
v AS (
    SELECT x.department_code, x.category_code, x.category_ro, x.category_en,
           x.status IN ('resolved', 'closed') AS done,
           EXISTS (SELECT 1 FROM incident_events e WHERE e.city_id = x.city_id
                   AND e.incident_id = x.incident_id AND e.kind = 'disputed')
           OR EXISTS (SELECT 1 FROM verification_checks c WHERE c.city_id = x.city_id
                      AND c.incident_id = x.incident_id AND c.outcome = 'not_fixed')
               AS disputed,
           EXISTS (SELECT 1 FROM incident_events e WHERE e.city_id = x.city_id
                   AND e.incident_id = x.incident_id AND e.kind = 'confirmed')
           OR EXISTS (SELECT 1 FROM verification_checks c WHERE c.city_id = x.city_id
                      AND c.incident_id = x.incident_id AND c.outcome = 'fixed') AS confirmed
    FROM x
)
SELECT v.department_code AS department, v.category_code AS category,
       min(v.category_ro) AS category_ro, min(v.category_en) AS category_en,
       count(*) FILTER (WHERE v.done) AS closed,
       count(*) FILTER (WHERE v.done AND v.confirmed AND NOT v.disputed) AS confirmed,
       count(*) FILTER (WHERE v.disputed) AS disputed,
       count(*) FILTER (WHERE v.done AND NOT v.confirmed AND NOT v.disputed) AS unverified
FROM v
GROUP BY v.department_code, v.category_code
HAVING count(*) FILTER (WHERE v.done OR v.disputed) > 0
ORDER BY v.department_code, v.category_code
"""
)


def verification_breakdown(bind: Bind, filters: Filters) -> pd.DataFrame:
    """ "Closed" split by what is known about the fix, per department and category.

    Returns
    -------
    DataFrame with ``department``, ``category``, ``category_ro``, ``category_en``,
    ``closed`` (resolved or closed now), ``confirmed`` (closed, confirmed by the
    reporter or a field check, never disputed), ``disputed`` (disputed by the
    reporter or found not fixed on site, at any time, whatever the status now:
    it counts against the department even after a new fix), ``unverified``
    (closed, neither), ``confirmed_share`` = confirmed / closed and
    ``disputed_share`` = disputed / (confirmed + disputed + unverified).
    """
    city_exists(bind, filters.city)
    frame = read_frame(bind, _VERIFICATION, filters.params())
    frame["confirmed_share"] = _share(frame["confirmed"], frame["closed"])
    judged = frame["confirmed"] + frame["disputed"] + frame["unverified"]
    frame["disputed_share"] = _share(frame["disputed"], judged)
    return frame


_RECURRENCE = _with_x(
    """
SELECT x.department_code AS department, x.category_code AS category,
       min(x.category_ro) AS category_ro, min(x.category_en) AS category_en,
       count(*) AS incidents, count(x.recurrence_of) AS recurrences
FROM x GROUP BY x.department_code, x.category_code
ORDER BY x.department_code, x.category_code
"""
)


def recurrence_rates(bind: Bind, filters: Filters) -> pd.DataFrame:
    """Share of new incidents that repeat a recent fix nearby, per department and category.

    Returns
    -------
    DataFrame with ``department``, ``category``, ``category_ro``, ``category_en``,
    ``incidents``, ``recurrences`` (linked to an earlier resolved incident at
    creation) and ``recurrence_rate`` = recurrences / incidents.
    """
    city_exists(bind, filters.city)
    frame = read_frame(bind, _RECURRENCE, filters.params())
    frame["recurrence_rate"] = _share(frame["recurrences"], frame["incidents"])
    return frame


_PLACES = _with_x(
    """,
r AS (
    SELECT ST_SnapToGrid(ST_Transform(p.geom, 3844), :cell) AS cell, x.category_code,
           x.incident_id, p.incident_id AS original_id
    FROM x JOIN incidents p ON p.city_id = x.city_id AND p.incident_id = x.recurrence_of
)
SELECT ST_AsBinary(ST_Transform(r.cell, 4326)) AS wkb,
       ST_X(ST_Transform(r.cell, 4326)) AS lon, ST_Y(ST_Transform(r.cell, 4326)) AS lat,
       count(*) AS recurrences, count(DISTINCT r.original_id) AS originals,
       array_agg(DISTINCT r.category_code ORDER BY r.category_code) AS categories
FROM r GROUP BY r.cell HAVING count(*) >= :min_recurrences
ORDER BY recurrences DESC, lon, lat
"""
)


def recurrence_places(
    bind: Bind, filters: Filters, cell_m: float = 50.0, min_recurrences: int = 1
) -> gpd.GeoDataFrame:
    """Places that keep coming back: recurrences grouped on a ``cell_m`` grid (EPSG:3844)
    at the point of the fix that did not last.

    Returns
    -------
    GeoDataFrame (EPSG:4326 points: grid node) with ``lon``, ``lat``,
    ``recurrences`` (filtered incidents that repeat a fix in the cell),
    ``originals`` (distinct earlier incidents repeated) and ``categories``.
    """
    if not 5 <= cell_m <= 5000:
        raise ValidationError(
            "cell_m",
            f"use 5 to 5000 metres, got {cell_m}",
            ro=f"folosiți între 5 și 5000 de metri; valoarea primită: {cell_m}",
        )
    if min_recurrences < 1:
        raise ValidationError("min_recurrences", "at least 1", ro="cel puțin 1")
    city_exists(bind, filters.city)
    frame = read_frame(
        bind,
        _PLACES,
        filters.params() | {"cell": float(cell_m), "min_recurrences": int(min_recurrences)},
    )
    return to_geodataframe(frame)


_CALIBRATION = _with_x(
    """,
h AS (
    SELECT x.department_code, x.category_code, x.p50, x.p80,
           date_part('epoch', x.resolved_at - x.created_at) / 3600.0 AS hours
    FROM x WHERE x.resolved_at IS NOT NULL AND x.p50 IS NOT NULL
)
SELECT h.department_code AS department, h.category_code AS category,
       count(*) AS resolved,
       count(*) FILTER (WHERE h.hours <= h.p50) AS within_p50,
       count(*) FILTER (WHERE h.hours <= h.p80) AS within_p80
FROM h GROUP BY h.department_code, h.category_code
ORDER BY h.department_code, h.category_code
"""
)


def estimate_calibration(bind: Bind, filters: Filters) -> pd.DataFrame:
    """How good the promised estimates were: should be near 0.5 (p50) and 0.8 (p80).

    Over resolved incidents that got an estimate at creation (bulk-loaded rows
    have none).  Incidents still open are left out, so the shares are upper
    bounds while many recent incidents are open; compare ``resolved`` with
    the backlog before trusting them.

    Returns
    -------
    DataFrame with ``department``, ``category``, ``resolved``, ``within_p50``,
    ``within_p80``, ``share_within_p50``, ``share_within_p80``.
    """
    city_exists(bind, filters.city)
    frame = read_frame(bind, _CALIBRATION, filters.params())
    frame["share_within_p50"] = _share(frame["within_p50"], frame["resolved"])
    frame["share_within_p80"] = _share(frame["within_p80"], frame["resolved"])
    return frame

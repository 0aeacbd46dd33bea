"""What the city commits to when it registers a report.

Called by :func:`sesizari.incidents.create_incident_in` inside the creating
transaction, so every channel (web, app, Open311, counter) gets the same:

* the legal reply deadline of the petition law (OG 27/2002): the end of the
  local calendar day ``legal_reply_days`` (default 30) after registration;
* whether a formal reply is owed: not for anonymous reports (nobody to reply to);
* a 6-digit PIN for the reporter to confirm or dispute the fix (only its hash is kept);
* an honest resolution estimate (p50/p80 hours) from recent history and the backlog;
* a link to an earlier, recently resolved incident of the same kind nearby
  (a recurrence: the fix did not last).

Depends only on the database and the vocabulary, so the domain API can import
it without a cycle.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from sesizari.errors import ValidationError

#: The incident's reply deadline as a SQL expression over ``incidents i``
#: joined to ``cities ci``: the stored one (set at registration, moved by an
#: extension) or, for a row that has none (loaded before the deadline was
#: kept), the city's term counted from registration.
LEGAL_DUE_SQL = (
    "COALESCE(i.legal_due_at, legal_term_end(i.created_at, ci.timezone,"
    " COALESCE((ci.settings->>'legal_reply_days')::integer, 30)))"
)

#: When the petitioner was answered, as a SQL expression over ``incidents i``:
#: the first resolution, turn-down or duplicate link (``answered_at``, kept by
#: the workflow), or for a row that came without it (a feed, an older
#: history) its resolution, closing, or last change if it was turned down.
ANSWERED_SQL = (
    "COALESCE(i.answered_at, i.resolved_at, i.closed_at,"
    " CASE WHEN i.status IN ('rejected', 'duplicate') THEN i.updated_at END)"
)

#: City settings of this feature and their defaults.
DEFAULTS: dict[str, int] = {
    "legal_reply_days": 30,
    "legal_extension_days": 15,
    "forward_days": 5,
    "verification_days": 14,
    "recurrence_days": 90,
    "recurrence_m": 25,
    "estimate_days": 90,
}
#: Fewer resolved incidents than this (category + department, in the window):
#: the estimate falls back to the category's target time.
MIN_HISTORY = 10
#: The backlog can stretch an estimate at most this many times.
MAX_BACKLOG_FACTOR = 3.0

# A 6-digit PIN has only a million values: the hash protects a database dump
# against casual reading, the attempt limit (accountability.MAX_PIN_FAILURES)
# against guessing.  Lighter than the staff password hasher: it runs on every
# report with contact details.
_pin_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def setting(settings: dict[str, Any] | None, key: str) -> int:
    """An integer city setting, or its default; a bad stored value is named clearly."""
    value = (settings or {}).get(key, DEFAULTS[key])
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValidationError(
            key,
            f"city setting must be a non-negative number, got {value!r}",
            ro=f"setarea orașului trebuie să fie un număr nenegativ; valoarea salvată: {value!r}",
        )
    return int(value)


def new_pin() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def hash_pin(pin: str) -> str:
    return _pin_hasher.hash(pin)


def pin_matches(stored: str | None, pin: str) -> bool:
    if not stored or not pin:
        return False
    try:
        return _pin_hasher.verify(stored, pin.strip())
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Estimate:
    """Expected hours to resolve, as promised to the citizen at creation."""

    p50: float
    p80: float
    basis: str  # 'history' or 'target'
    backlog_factor: float = 1.0


@dataclass(frozen=True)
class Commitments:
    legal_due_at: datetime
    owes_reply: bool
    pin: str | None
    estimate: Estimate
    recurrence_of: str | None


_ESTIMATE_SQL = sa.text(
    """
    WITH n AS (
        SELECT city_id, incident_id, category_id, department_id, created_at
        FROM incidents WHERE city_id = :c AND incident_id = :i
    ),
    h AS (
        SELECT date_part('epoch', p.resolved_at - p.created_at) / 3600.0 AS hours,
               p.category_id = n.category_id AS same_category
        FROM n JOIN incidents p ON p.city_id = n.city_id AND p.department_id = n.department_id
        WHERE p.resolved_at IS NOT NULL AND p.status IN ('resolved', 'closed')
          AND p.incident_id <> n.incident_id
          AND p.resolved_at <= n.created_at
          AND p.resolved_at > n.created_at - make_interval(days => :days)
    )
    SELECT (SELECT count(*) FROM h WHERE same_category) AS n_history,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) FROM h
             WHERE same_category) AS p50,
           (SELECT percentile_cont(0.8) WITHIN GROUP (ORDER BY hours) FROM h
             WHERE same_category) AS p80,
           (SELECT count(*) FROM h) AS dep_resolved,
           (SELECT avg(hours) FROM h) AS dep_mean_h,
           (SELECT count(*) FROM incidents o, n
             WHERE o.city_id = n.city_id AND o.department_id = n.department_id
               AND o.status IN ('new', 'acknowledged', 'in_progress')
               AND o.incident_id <> n.incident_id AND o.created_at <= n.created_at) AS backlog,
           (SELECT CAST(c.target_hours AS float8) FROM categories c, n
             WHERE c.city_id = n.city_id AND c.category_id = n.category_id) AS target_h
    """
)


def backlog_factor(backlog: int, dep_resolved: int, dep_mean_h: float | None, days: int) -> float:
    """How much the department's current open backlog stretches the historical times.

    The usual backlog follows from Little's law: average number in the system =
    throughput x average time in the system, i.e. ``(dep_resolved / window hours)
    * dep_mean_h``.  The factor is ``backlog / usual``, never below 1 (a light
    queue does not make the work itself faster) and at most
    :data:`MAX_BACKLOG_FACTOR` (a promise needs a ceiling).
    """
    if not dep_resolved or not dep_mean_h or days <= 0:
        return 1.0
    usual = dep_resolved / (days * 24.0) * float(dep_mean_h)
    if usual <= 0:
        return 1.0
    return min(MAX_BACKLOG_FACTOR, max(1.0, backlog / usual))


def _hours(value: float) -> float:
    """Stored as numeric(10, 2) > 0: round up to the hundredth, at least 0.01."""
    return max(0.01, math.ceil(float(value) * 100) / 100)


def estimate(conn: Connection, city_id: int, incident_id: int, days: int) -> Estimate:
    """p50/p80 resolution hours of the same category and department over ``days`` days
    before the incident's creation, times :func:`backlog_factor`; the category
    target (for both) when fewer than :data:`MIN_HISTORY` incidents were resolved."""
    row = conn.execute(_ESTIMATE_SQL, {"c": city_id, "i": incident_id, "days": days}).one()
    if row.n_history < MIN_HISTORY:
        target = _hours(row.target_h)
        return Estimate(target, target, "target")
    factor = backlog_factor(row.backlog, row.dep_resolved, row.dep_mean_h, days)
    p50 = _hours(row.p50 * factor)
    return Estimate(p50, max(p50, _hours(row.p80 * factor)), "history", factor)


#: The earlier fix an incident ``n`` repeats: the nearest incident of its category
#: resolved in the ``:days`` days before ``n`` was created, within ``:m`` metres
#: (EPSG:3844, a metric CRS: the stored ``x3844``/``y3844``, so that no candidate
#: is transformed again).  One rule for a new report and for a bulk load.
RECURRENCE_MATCH = """
    FROM (
        -- Only the box reaches an index (OFFSET 0 keeps the other conditions out):
        -- left to itself the planner also read the city's fixes of the last 90
        -- days by time, thousands of rows, to intersect with a few dozen.
        SELECT p.incident_id, p.registry_number, p.category_id, p.status, p.resolved_at,
               p.x3844, p.y3844
        FROM incidents p
        WHERE p.city_id = n.city_id
          -- the box in degrees: a metre is at most 1/110574 of a degree of latitude
          -- and 1/(111320 cos(lat)) of longitude; 10 % more for the projection's
          -- scale and the latitude between the two points
          AND p.geom && ST_Expand(n.geom, 1.1 * :m / (111320.0 * cos(radians(ST_Y(n.geom)))),
                                  1.1 * :m / 110574.0)
        OFFSET 0
    ) p
    WHERE p.category_id = n.category_id AND p.incident_id <> n.incident_id
      AND p.status IN ('resolved', 'closed') AND p.resolved_at <= n.created_at
      AND p.resolved_at >= n.created_at - make_interval(days => :days)
      AND (p.x3844 - n.x3844) ^ 2 + (p.y3844 - n.y3844) ^ 2 <= CAST(:m AS float8) ^ 2
    ORDER BY (p.x3844 - n.x3844) ^ 2 + (p.y3844 - n.y3844) ^ 2, p.resolved_at DESC
    LIMIT 1
"""
_RECURRENCE_SQL = sa.text(
    "SELECT p.incident_id, p.registry_number FROM incidents n"  # noqa: S608 (constants only)
    " CROSS JOIN LATERAL (SELECT p.incident_id, p.registry_number" + RECURRENCE_MATCH + ") p"
    " WHERE n.city_id = :c AND n.incident_id = :i"
)
_MARK_RECURRENCES_SQL = sa.text(
    "WITH m AS (SELECT n.incident_id, p.incident_id AS original FROM incidents n"  # noqa: S608
    " CROSS JOIN LATERAL (SELECT p.incident_id" + RECURRENCE_MATCH + ") p"
    " WHERE n.city_id = :c AND n.recurrence_of IS NULL)"
    " UPDATE incidents i SET recurrence_of = m.original FROM m"
    " WHERE i.city_id = :c AND i.incident_id = m.incident_id"
)


def recurrence(
    conn: Connection, city_id: int, incident_id: int, days: int, metres: float
) -> tuple[int, str] | None:
    """The nearest incident of the same category resolved in the ``days`` days before
    this one was created, within ``metres`` (EPSG:3844, a metric CRS), or None."""
    if days <= 0 or metres <= 0:
        return None
    row = conn.execute(
        _RECURRENCE_SQL,
        {"c": city_id, "i": incident_id, "days": days, "m": float(metres)},
    ).one_or_none()
    return None if row is None else (row.incident_id, row.registry_number)


def mark_recurrences(conn: Connection, city_id: int, settings: dict[str, Any] | None) -> int:
    """Link every incident of a city that repeats an earlier fix (the rule of
    :func:`recurrence`), for rows loaded in bulk without registration; returns
    how many were linked.  Already linked rows keep their link."""
    days, metres = setting(settings, "recurrence_days"), setting(settings, "recurrence_m")
    if days <= 0 or metres <= 0:
        return 0
    params = {"c": city_id, "days": days, "m": float(metres)}
    return conn.execute(_MARK_RECURRENCES_SQL, params).rowcount


def register(
    conn: Connection,
    city_id: int,
    timezone: str,
    settings: dict[str, Any] | None,
    incident_id: int,
    *,
    has_contact: bool,
    want_pin: bool,
) -> Commitments:
    """Compute and store the commitments of a freshly inserted incident."""
    est = estimate(conn, city_id, incident_id, setting(settings, "estimate_days"))
    linked = recurrence(
        conn,
        city_id,
        incident_id,
        setting(settings, "recurrence_days"),
        setting(settings, "recurrence_m"),
    )
    pin = new_pin() if (has_contact or want_pin) else None
    due = conn.execute(
        sa.text(
            "UPDATE incidents SET legal_due_at = legal_term_end(created_at, :tz, :days),"
            " owes_reply = :owes, pin_hash = :pin, expected_hours_p50 = :p50,"
            " expected_hours_p80 = :p80, expected_basis = :basis, recurrence_of = :rec"
            " WHERE city_id = :c AND incident_id = :i RETURNING legal_due_at"
        ),
        {
            "tz": timezone,
            "days": setting(settings, "legal_reply_days"),
            "owes": has_contact,
            "pin": hash_pin(pin) if pin else None,
            "p50": est.p50,
            "p80": est.p80,
            "basis": est.basis,
            "rec": linked[0] if linked else None,
            "c": city_id,
            "i": incident_id,
        },
    ).scalar_one()
    return Commitments(due, has_contact, pin, est, linked[1] if linked else None)

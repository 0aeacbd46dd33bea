"""Routing: which department (and person) receives an incident.

Rules match on category and, optionally, an area that contains the point.
The most specific rule wins: an area rule beats a rule without area, and a
smaller area beats a larger one (a street-works zone inside a district).
With no rule, the category's default department receives it.

A rule's person receives the incident only while their account is active and
in the rule's department: someone who left, or moved to another department,
must not be handed new work nobody else sees as theirs.  The incident then
goes to the rule's department unassigned, for its head to give out.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_RULE_SQL = sa.text(
    """
    SELECT r.department_id, d.code, u.user_id, u.username, r.rule_id
    FROM routing_rules r
    JOIN departments d ON d.city_id = r.city_id AND d.department_id = r.department_id
    LEFT JOIN users u ON u.city_id = r.city_id AND u.user_id = r.assignee_user_id
      AND u.active AND u.department_id = r.department_id
    WHERE r.city_id = :city AND r.category_id = :category AND r.active
      AND (r.area IS NULL OR ST_Covers(r.area, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)))
    ORDER BY (r.area IS NULL), ST_Area(r.area::geography) NULLS LAST, r.rule_id
    LIMIT 1
    """
)

_DEFAULT_SQL = sa.text(
    """
    SELECT c.default_department_id, d.code
    FROM categories c
    JOIN departments d ON d.city_id = c.city_id AND d.department_id = c.default_department_id
    WHERE c.city_id = :city AND c.category_id = :category
    """
)


@dataclass(frozen=True)
class Route:
    department_id: int
    department_code: str
    assignee_user_id: int | None = None
    assignee_username: str | None = None
    rule_id: int | None = None  # None: the category's default department


def route(conn: Connection, city_id: int, category_id: int, lon: float, lat: float) -> Route:
    """The department (and assignee) for a new incident of ``category_id`` at (lon, lat)."""
    params = {"city": city_id, "category": category_id, "lon": lon, "lat": lat}
    row = conn.execute(_RULE_SQL, params).one_or_none()
    if row is not None:
        return Route(*row)
    dep_id, code = conn.execute(_DEFAULT_SQL, params).one()
    return Route(dep_id, code)

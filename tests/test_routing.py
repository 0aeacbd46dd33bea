"""Routing by polygon (most specific rule wins) and fallback to the category default."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from sesizari import catalog
from sesizari.errors import ValidationError
from sesizari.incidents import NewIncident, create_incident

INNER = box(21.895, 45.685, 21.905, 45.695)  # small zone around (21.90, 45.69)
OUTER = box(21.86, 45.66, 21.94, 45.72)  # larger zone containing INNER


def _report(engine, lon, lat, category="street_light"):
    return create_incident(engine, NewIncident("testville", category, lat, lon, "Bec ars"))


def test_fallback_to_category_default_department(engine, city):
    created = _report(engine, 21.90, 45.69)
    assert created.department_code == "lighting"
    assert created.assignee_username is None


def test_area_rule_routes_inside_and_not_outside(engine, city):
    with engine.begin() as conn:
        catalog.create_routing_rule(
            conn,
            city["city_id"],
            name="zone",
            category_code="street_light",
            department_code="roads",
            area=OUTER,
        )
    assert _report(engine, 21.90, 45.69).department_code == "roads"  # inside OUTER
    assert _report(engine, 21.945, 45.73).department_code == "lighting"  # outside: default
    assert _report(engine, 21.90, 45.69, "pothole").department_code == "roads"  # other category


def test_most_specific_rule_wins_and_names_assignee(engine, city):
    with engine.begin() as conn:
        cid = city["city_id"]
        catalog.create_routing_rule(
            conn, cid, name="city-wide", category_code="street_light", department_code="police"
        )
        catalog.create_routing_rule(
            conn,
            cid,
            name="outer",
            category_code="street_light",
            department_code="roads",
            area=OUTER,
        )
        catalog.create_routing_rule(
            conn,
            cid,
            name="inner",
            category_code="street_light",
            department_code="lighting",
            area=INNER,
            assignee_username="ion",
        )
    inner = _report(engine, 21.90, 45.69)
    assert (inner.department_code, inner.assignee_username) == ("lighting", "ion")
    assert _report(engine, 21.87, 45.67).department_code == "roads"  # only OUTER contains it
    assert _report(engine, 21.945, 45.73).department_code == "police"  # no area: city-wide rule


def test_a_rule_s_person_gets_new_work_only_while_active_in_its_department(engine, city):
    """Someone who left, or moved to another department, is not handed new
    incidents: they go to the rule's department unassigned."""
    with engine.begin() as conn:
        catalog.create_routing_rule(
            conn, city["city_id"], name="zone", category_code="street_light",
            department_code="lighting", area=OUTER, assignee_username="ion",
        )  # fmt: skip
    assert _report(engine, 21.90, 45.69).assignee_username == "ion"
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET active = false WHERE username = 'ion'"))
    left = _report(engine, 21.90, 45.69)
    assert (left.department_code, left.assignee_username) == ("lighting", None)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE users SET active = true, department_id = (SELECT department_id"
            " FROM departments WHERE code = 'roads') WHERE username = 'ion'"
        ))  # fmt: skip
    moved = _report(engine, 21.90, 45.69)
    assert (moved.department_code, moved.assignee_username) == ("lighting", None)
    with engine.begin() as conn, pytest.raises(ValidationError, match="not an active member"):
        catalog.create_routing_rule(
            conn, city["city_id"], name="again", category_code="street_light",
            department_code="lighting", assignee_username="ion",
        )  # fmt: skip

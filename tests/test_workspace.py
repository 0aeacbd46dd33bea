"""Staff scope: a department-A user cannot see or act on department-B incidents."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sesizari import auth, catalog, workspace
from sesizari.errors import PermissionDeniedError, ValidationError
from sesizari.incidents import Contact, NewIncident, create_incident
from sesizari.vocab import Action
from tests.conftest import TEST_LAT, TEST_LON

PASSWORD = "correct horse battery"


@pytest.fixture
def users(engine, city):
    with engine.begin() as conn:
        cid = city["city_id"]
        catalog.create_user(conn, cid, username="boss", full_name="Boss", role="manager")
        for name in ("ana", "ion", "boss"):
            auth.set_password(conn, cid, name, PASSWORD)
    with engine.connect() as conn:
        return {n: auth.load_user(conn, "testville", n) for n in ("ana", "ion", "boss")}


def _report(engine, category):
    return create_incident(
        engine,
        NewIncident(
            "testville",
            category,
            TEST_LAT,
            TEST_LON,
            "text",
            contact=Contact(name="Maria Pop", phone="0711111111", consent=True),
        ),
    ).registry_number


def test_login(engine, users):
    with engine.connect() as conn:
        assert auth.authenticate(conn, "testville", "ana", PASSWORD).role == "staff"
        assert auth.authenticate(conn, "testville", "ana", "wrong password!") is None
        assert auth.authenticate(conn, "testville", "nobody", PASSWORD) is None
        assert auth.authenticate(conn, "atlantis", "ana", PASSWORD) is None
    with pytest.raises(ValidationError, match="at least"):
        auth.hash_password("short")


def test_department_scope(engine, users):
    roads = _report(engine, "pothole")  # roads: ana's department
    light = _report(engine, "street_light")  # lighting: ion's department
    ana, ion, boss = users["ana"], users["ion"], users["boss"]
    assert list(workspace.work_queue(engine, ana)["registry_number"]) == [roads]
    assert list(workspace.work_queue(engine, ion)["registry_number"]) == [light]
    assert set(workspace.work_queue(engine, boss)["registry_number"]) == {roads, light}
    with pytest.raises(PermissionDeniedError):
        workspace.incident_detail(engine, ana, light)
    with pytest.raises(PermissionDeniedError):
        workspace.act(engine, ana, light, Action.ACKNOWLEDGE)
    with pytest.raises(PermissionDeniedError):
        workspace.note(engine, ana, light, "hi")
    detail = workspace.incident_detail(engine, ana, roads)
    assert detail["contact"]["name"] == "Maria Pop"
    assert workspace.act(engine, ana, roads, Action.ACKNOWLEDGE) == "acknowledged"
    assert detail["events"][0]["kind"] == "created"
    assert workspace.incident_detail(engine, boss, light)["category"] == "street_light"


def test_actions_record_the_user(engine, users):
    # no "after" photo in this test: the city lets staff resolve without one
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE cities SET settings = settings"
                " || '{\"resolution_photo_required\": false}'::jsonb"
            )
        )
    number = _report(engine, "pothole")
    workspace.act(engine, users["ana"], number, Action.RESOLVE, text="Gata")
    events = workspace.incident_detail(engine, users["ana"], number)["events"]
    assert events[-1]["actor_label"] == "ana" and events[-1]["kind"] == "resolved"

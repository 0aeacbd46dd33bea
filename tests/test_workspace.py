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


def test_the_queue_cuts_after_its_order_and_counts_what_it_cuts(engine, users):
    """Overdue first is decided over the whole queue, before the page's cut:
    the cut once kept the oldest rows, then sorted those by how overdue."""
    old_light, newer_pothole, newest_pothole = (
        _report(engine, c) for c in ("street_light", "pothole", "pothole")
    )
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE categories SET target_hours = CASE code"
                             " WHEN 'pothole' THEN 24 ELSE 2400 END"))  # fmt: skip
        for number, days in ((old_light, 20), (newer_pothole, 10), (newest_pothole, 5)):
            conn.execute(
                sa.text("UPDATE incidents SET created_at = now() - make_interval(days => :d)"
                        " WHERE registry_number = :n"), {"d": days, "n": number},
            )  # fmt: skip
    boss = users["boss"]
    oldest = workspace.work_queue(engine, boss, limit=2)
    assert list(oldest["registry_number"]) == [old_light, newer_pothole]
    assert list(oldest["total"]) == [3, 3]
    overdue = workspace.work_queue(engine, boss, limit=2, sort="overdue")
    # the light is the oldest but within its 100 days; the potholes are days over
    assert list(overdue["registry_number"]) == [newer_pothole, newest_pothole]
    assert list(overdue["total"]) == [3, 3]
    with pytest.raises(ValidationError, match="sort by one of age, overdue, reported"):
        workspace.work_queue(engine, boss, sort="random()")


def test_the_queue_puts_the_most_reported_first_and_counts_the_reports(engine, users):
    """Supports (a citizen on the web, a call the desk added) were stored and
    shown to nobody; the queue counts them and can put the problem most
    people wait on first, before its cut."""
    from sesizari import intake

    oldest, middle, newest = (_report(engine, "pothole") for _ in range(3))
    for number, times in ((middle, 1), (newest, 3)):
        for _ in range(times):
            intake.add_support(engine, "testville", number, "phone")
    boss = users["boss"]
    by_age = workspace.work_queue(engine, boss)
    assert dict(zip(by_age["registry_number"], by_age["supporters"], strict=True)) == {
        oldest: 0, middle: 1, newest: 3}
    most = workspace.work_queue(engine, boss, limit=2, sort="reported")
    assert list(most["registry_number"]) == [newest, middle]
    assert list(most["total"]) == [3, 3]


def test_the_queue_finds_a_report_by_part_of_its_address_or_text(engine, users):
    """A caller who does not know their number: found by a piece of the
    address or description, in any case; ``%`` and ``_`` match themselves."""
    boss = users["boss"]
    made = [
        create_incident(engine, NewIncident(
            "testville", "pothole", TEST_LAT, TEST_LON, text, address=address
        )).registry_number
        for text, address in (
            ("Groapă adâncă în fața școlii", "Str. Mihai Viteazu nr. 12"),
            ("Capac de canal lipsă, 100% periculos", "Bd. Republicii 3"),
            ("Bec ars", "Str. Mureș_1"),
        )
    ]  # fmt: skip

    def found(text: str) -> list[str]:
        return list(workspace.work_queue(engine, boss, search=text)["registry_number"])

    assert found("viteazu") == [made[0]]
    assert found("ȘCOLII") == [made[0]]
    assert found("fata scolii") == [made[0]]  # typed without diacritics
    assert found("mures_") == [made[2]]
    assert found("100%") == [made[1]]
    assert found("%") == [made[1]]  # the character itself, not "anything"
    assert found("_") == [made[2]]
    assert found(made[2][-6:]) == [made[2]]  # a piece of the registry number
    assert found("nimic de acest fel") == []
    assert len(found("  ")) == 3  # no text: no filter

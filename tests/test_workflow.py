"""Every workflow transition, every refusal, and the event written by each action."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sesizari.errors import NotFoundError, TransitionError, ValidationError
from sesizari.incidents import (
    Actor,
    NewIncident,
    add_note,
    assign,
    create_incident,
    get_events,
    get_incident,
    perform,
    reroute,
)
from sesizari.vocab import TRANSITIONS, Action, Status
from tests.conftest import TEST_LAT, TEST_LON

CLERK = Actor("ana", None, "staff")
TEXT = {
    Action.RESOLVE: "Plombat",
    Action.REJECT: "Nu e de competența noastră",
    Action.REOPEN: "Problema a revenit",
}


def _new(engine, category="pothole") -> str:
    return create_incident(
        engine, NewIncident("testville", category, TEST_LAT, TEST_LON, "Groapă adâncă")
    ).registry_number


def _drive_to(engine, status: Status) -> str:
    """A fresh incident brought to ``status`` by legal actions."""
    number = _new(engine)
    path = {
        Status.NEW: [],
        Status.ACKNOWLEDGED: [Action.ACKNOWLEDGE],
        Status.IN_PROGRESS: [Action.ACKNOWLEDGE, Action.START],
        Status.RESOLVED: [Action.ACKNOWLEDGE, Action.RESOLVE],
        Status.CLOSED: [Action.ACKNOWLEDGE, Action.RESOLVE, Action.CLOSE],
        Status.REJECTED: [Action.REJECT],
    }
    if status is Status.DUPLICATE:
        original = _new(engine)
        perform(engine, "testville", number, Action.MARK_DUPLICATE, CLERK, duplicate_of=original)
        return number
    for action in path[status]:
        perform(engine, "testville", number, action, CLERK, text=TEXT.get(action))
    return number


def _events(engine, number):
    with engine.connect() as conn:
        return get_events(conn, "testville", number)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("start", list(Status))
def test_transition_matrix(engine, city, start, action):
    number = _drive_to(engine, start)
    before = len(_events(engine, number))
    sources, target = TRANSITIONS[action]
    kwargs = {"text": TEXT.get(action)}
    if action is Action.MARK_DUPLICATE:
        kwargs["duplicate_of"] = _new(engine)
    if start in sources:
        assert perform(engine, "testville", number, action, CLERK, **kwargs) is target
        with engine.connect() as conn:
            assert get_incident(conn, "testville", number)["status"] == target
        events = _events(engine, number)
        assert len(events) == before + 1
        assert (events[-1]["kind"], events[-1]["from_status"], events[-1]["to_status"]) == (
            action.value,
            start.value,
            target.value,
        )
        assert events[-1]["actor_label"] == "ana"
    else:
        with pytest.raises(TransitionError, match=start.value):
            perform(engine, "testville", number, action, CLERK, **kwargs)
        with engine.connect() as conn:
            assert get_incident(conn, "testville", number)["status"] == start
        assert len(_events(engine, number)) == before


def test_resolve_requires_text_and_sets_times(engine, city):
    number = _drive_to(engine, Status.IN_PROGRESS)
    for empty in (None, "", "   "):
        with pytest.raises(ValidationError) as err:
            perform(engine, "testville", number, Action.RESOLVE, CLERK, text=empty)
        assert err.value.field == "resolution_text"
    perform(engine, "testville", number, Action.RESOLVE, CLERK, text="Plombat cu asfalt")
    with engine.connect() as conn:
        inc = get_incident(conn, "testville", number)
    assert inc["resolution_text"] == "Plombat cu asfalt"
    assert inc["acknowledged_at"] <= inc["resolved_at"]


def test_reopen_clears_resolution(engine, city):
    number = _drive_to(engine, Status.CLOSED)
    perform(engine, "testville", number, Action.REOPEN, CLERK, text="Groapa a reapărut")
    with engine.connect() as conn:
        inc = get_incident(conn, "testville", number)
    assert inc["status"] == "acknowledged"
    assert inc["resolved_at"] is None and inc["closed_at"] is None


def test_duplicate_links_and_refuses_bad_targets(engine, city):
    original, copy = _new(engine), _new(engine)
    with pytest.raises(ValidationError, match="itself"):
        perform(engine, "testville", copy, Action.MARK_DUPLICATE, CLERK, duplicate_of=copy)
    with pytest.raises(ValidationError, match="no incident"):
        perform(
            engine, "testville", copy, Action.MARK_DUPLICATE, CLERK, duplicate_of="TST-2020-000999"
        )
    perform(engine, "testville", copy, Action.MARK_DUPLICATE, CLERK, duplicate_of=original)
    with engine.connect() as conn:
        assert get_incident(conn, "testville", copy)["duplicate_of"] == original
    third = _new(engine)
    with pytest.raises(ValidationError, match="itself a duplicate"):
        perform(engine, "testville", third, Action.MARK_DUPLICATE, CLERK, duplicate_of=copy)


def test_assign_reroute_notes_write_events(engine, city):
    number = _new(engine)
    assign(engine, "testville", number, "ana", CLERK)
    with pytest.raises(ValidationError, match="not in the incident's department"):
        assign(engine, "testville", number, "ion", CLERK)
    with pytest.raises(ValidationError) as err:
        reroute(engine, "testville", number, CLERK, reason="", category="street_light")
    assert err.value.field == "reason"
    assert (
        reroute(engine, "testville", number, CLERK, reason="E un stâlp", category="street_light")
        == "lighting"
    )
    with engine.connect() as conn:
        inc = get_incident(conn, "testville", number)
    assert (inc["category"], inc["department"], inc["assignee"]) == (
        "street_light",
        "lighting",
        None,
    )
    add_note(engine, "testville", number, CLERK, "intern")
    add_note(engine, "testville", number, CLERK, "Echipa vine mâine", public=True)
    kinds = [e["kind"] for e in _events(engine, number)]
    assert kinds == ["created", "assigned", "rerouted", "note", "public_update"]
    with engine.connect() as conn:
        public = [e["kind"] for e in get_events(conn, "testville", number, public_only=True)]
    assert public == ["created", "public_update"]


def test_unknown_incident(engine, city):
    with pytest.raises(NotFoundError):
        perform(engine, "testville", "TST-2026-999999", Action.ACKNOWLEDGE, CLERK)


def test_database_refuses_what_the_api_refuses(engine, city):
    """The CHECK constraints are a second line: a resolved row without text cannot exist."""
    number = _new(engine)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE incidents SET status = 'resolved', resolved_at = now()"
                " WHERE registry_number = :n"
            ),
            {"n": number},
        )

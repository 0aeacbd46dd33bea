"""Text with a NUL character, from any form or call, is refused with a message, never a crash.

PostgreSQL text and JSON cannot hold U+0000.  Every engine the project makes
checks statement parameters first (``sesizari.db._refuse_nul``); before that,
each of these calls ended in a driver ``DataError`` (a traceback on the page).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from sesizari import accountability, admin, auth, db, intake, workspace
from sesizari.errors import ValidationError
from sesizari.incidents import NewIncident, create_incident
from tests import raw_tables as raw
from tests.apptest_support import load_user, run_app

NUL = "groapă\x00mare"

CALLS: dict[str, Callable] = {
    "report description": lambda e, s: create_incident(
        e, NewIncident("lugoj", "pothole", 45.69, 21.90, NUL)),
    "report address": lambda e, s: create_incident(
        e, NewIncident("lugoj", "pothole", 45.69, 21.90, "Groapă", address=NUL)),
    "report category": lambda e, s: create_incident(
        e, NewIncident("lugoj", NUL, 45.69, 21.90, "Groapă")),
    "report city": lambda e, s: create_incident(
        e, NewIncident(NUL, "pothole", 45.69, 21.90, "Groapă")),
    "staff note": lambda e, s: workspace.note(e, s["manager"], s["number"], NUL),
    "staff action text": lambda e, s: workspace.act(
        e, s["manager"], s["number"], "rejected", text=NUL),
    "incident lookup": lambda e, s: workspace.incident_detail(e, s["manager"], NUL),
    "assignee": lambda e, s: workspace.assign(e, s["manager"], s["number"], NUL),
    "deadline extension": lambda e, s: accountability.extend_deadline(
        e, s["head"], s["number"], NUL),
    "forward": lambda e, s: accountability.forward(e, s["manager"], s["number"], NUL),
    "nearby reports": lambda e, s: intake.nearby_open(e, "lugoj", NUL, 45.69, 21.90),
    "support a report": lambda e, s: intake.add_support(e, "lugoj", NUL),
    "new department": lambda e, s: admin.create_department(
        e, s["admin"], code="nou", name_ro=NUL, name_en="New"),
    "new user": lambda e, s: admin.create_user(
        e, s["admin"], username=NUL, full_name="X", role="staff",
        password="o-parola-lunga-1", department="roads"),
}  # fmt: skip


@pytest.fixture(scope="module")
def staff(pg_cluster, demo_template):
    from tests.conftest import clone_database

    name = clone_database(pg_cluster, demo_template)
    engine = db.make_engine(pg_cluster.url(name))
    open_ = raw.incidents(engine, "lugoj").query("status in ['new', 'acknowledged', 'in_progress']")
    number, department = open_.sort_values("registry_number").iloc[0][
        ["registry_number", "department_code"]]  # fmt: skip
    with engine.begin() as conn:  # a term still running, so it may be extended
        conn.execute(sa.text("UPDATE incidents SET legal_due_at = now() + interval '10 days'"
                             " WHERE registry_number = :n"), {"n": number})
    yield engine, {
        "number": number,
        "manager": load_user(engine, "manager"),
        "admin": load_user(engine, "admin"),
        "head": load_user(engine, f"sef.{department}"),
    }
    engine.dispose()
    pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')


def _snapshot(engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM incident_events),"
            " (SELECT count(*) FROM users), (SELECT count(*) FROM departments)"
        )).one()  # fmt: skip


@pytest.mark.parametrize("call", list(CALLS))
def test_nul_is_refused_with_a_message_and_nothing_is_written(staff, call):
    engine, who = staff
    before = _snapshot(engine)
    with pytest.raises(ValidationError, match="NUL character"):
        CALLS[call](engine, who)
    assert _snapshot(engine) == before


def test_nul_inside_json_is_refused_too(staff):
    engine, _ = staff
    with engine.begin() as conn, pytest.raises(ValidationError, match="NUL") as err:
        conn.execute(sa.text("SELECT CAST(:d AS jsonb)"), {"d": {"a": ["ok", NUL]}})
    assert err.value.field == "d.a"


def test_sign_in_with_nul_fails_like_any_wrong_name(staff, monkeypatch):
    engine, _ = staff
    with engine.connect() as conn:
        with pytest.raises(ValidationError):
            auth.authenticate(conn, "lugoj", "admin\x00", "sesizari-demo")
        assert auth.authenticate(conn, "lugoj", "admin", "sesizari-demo") is not None
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    at = run_app("login", city="lugoj")
    at.text_input(key="login_user").input("admin\x00")
    at.text_input(key="login_password").input("sesizari-demo")
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "user" not in at.session_state

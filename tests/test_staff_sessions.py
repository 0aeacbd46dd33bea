"""Staff sessions across page reloads: the cookie's store and its two routes.

The browser side (a reload and a second tab stay signed in, signing out ends
both) is in ``tests/test_browser_staff.py``.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from dashboard import session_routes
from sesizari import auth, staff_sessions
from sesizari.vocab import Role

HOST = "http://testserver"


@pytest.fixture
def ana(engine, city):
    with engine.begin() as conn:
        return auth.load_user(conn, city["slug"], "ana")


def _signed_in(engine, user, hours: int = 12) -> tuple[str, int]:
    """Steps 1 and 2 of a sign-in: the cookie's value and the session id."""
    with engine.begin() as conn:
        handoff = staff_sessions.begin(conn, user, hours)
        cookie = staff_sessions.claim(conn, handoff.code)
    assert cookie is not None
    return cookie.value, handoff.session_id


def _restore(engine, value):
    with engine.connect() as conn:
        return staff_sessions.restore(conn, value)


def _alive(engine, user, session_id) -> bool:
    with engine.connect() as conn:
        return staff_sessions.alive(conn, user, session_id)


def test_a_cookie_brings_back_its_user_and_only_hashes_are_stored(engine, ana):
    value, session_id = _signed_in(engine, ana)
    assert _restore(engine, value) == (ana, session_id)
    assert _alive(engine, ana, session_id)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM staff_sessions")).one()._asdict()
    secret = value.split(".", 1)[1]
    assert secret.encode() not in b"".join(
        v if isinstance(v, bytes) else str(v).encode() for v in row.values()
    )
    assert row["handoff_hash"] is None and len(row["token_hash"]) == 32


def test_a_code_works_once_and_only_within_its_minute(engine, ana):
    with engine.begin() as conn:
        first = staff_sessions.begin(conn, ana, 12)
        assert staff_sessions.claim(conn, first.code) is not None
        assert staff_sessions.claim(conn, first.code) is None  # used
        late = staff_sessions.begin(conn, ana, 12)
        conn.execute(
            sa.text(
                "UPDATE staff_sessions SET handoff_expires = now() - interval '1 second'"
                " WHERE session_id = :s"
            ),
            {"s": late.session_id},
        )
        assert staff_sessions.claim(conn, late.code) is None
        # the tab that signed in keeps its session, only without a cookie,
        # also once a colleague signs in (which forgets expired sessions)
        staff_sessions.begin(conn, ana, 12)
        assert staff_sessions.alive(conn, ana, late.session_id)


def test_a_code_waits_until_it_is_claimed_or_late(engine, ana):
    with engine.begin() as conn:
        claimed, late = staff_sessions.begin(conn, ana, 12), staff_sessions.begin(conn, ana, 12)
        assert staff_sessions.handoff_waiting(conn, ana.city_id, claimed.session_id)
        staff_sessions.claim(conn, claimed.code)
        assert not staff_sessions.handoff_waiting(conn, ana.city_id, claimed.session_id)
        conn.execute(sa.text("UPDATE staff_sessions SET handoff_expires = now() - interval '1 s'"
                             " WHERE session_id = :s"), {"s": late.session_id})  # fmt: skip
        assert not staff_sessions.handoff_waiting(conn, ana.city_id, late.session_id)


@pytest.mark.parametrize(
    "value",
    [None, "", "1", "1.", "x.y", "1." + "a" * 42, "1." + "a" * 44, "1." + "a" * 42 + "!",
     "9" * 10 + "." + "a" * 43, "1." + "a" * 43 + "\n", "\x00" * 50, "1." * 5000],
)
def test_values_that_are_not_ours_sign_nobody_in(engine, ana, value):
    _signed_in(engine, ana)
    assert _restore(engine, value) is None
    with engine.begin() as conn:
        assert staff_sessions.claim(conn, value) is None


def test_a_token_is_refused_under_another_city(engine, ana):
    value, _ = _signed_in(engine, ana)
    city_id, secret = value.split(".")
    assert _restore(engine, f"{int(city_id) + 1}.{secret}") is None


def test_sessions_end_when_signed_out_or_expired(engine, ana):
    value, session_id = _signed_in(engine, ana)
    with engine.begin() as conn:
        staff_sessions.end(conn, ana.city_id, session_id)
    assert _restore(engine, value) is None
    assert not _alive(engine, ana, session_id)

    value, session_id = _signed_in(engine, ana)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE staff_sessions SET expires_at = now() - interval '1 second'"))
    assert _restore(engine, value) is None
    assert not _alive(engine, ana, session_id)
    # the next sign-in in the city forgets the expired session
    _signed_in(engine, ana)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM staff_sessions")).scalar_one() == 1


@pytest.mark.parametrize(
    ("change", "ends"),
    [
        ("password_hash = 'new'", True),
        ("active = false", True),
        ("role = 'dispatcher', department_id = NULL", True),
        ("department_id = (SELECT department_id FROM departments WHERE code = 'lighting')", True),
        ("full_name = 'Ana Pop', email = 'ana@example.org'", False),
    ],
)
def test_a_change_to_the_account_ends_its_sessions(engine, ana, change, ends):
    value, session_id = _signed_in(engine, ana)
    with engine.begin() as conn:
        other = auth.load_user(conn, "testville", "ion")
    other_value, _ = _signed_in(engine, other)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE users SET {change} WHERE username = 'ana'"))
    assert _alive(engine, ana, session_id) is not ends
    assert (_restore(engine, value) is None) is ends
    assert _restore(engine, other_value) is not None  # a colleague stays signed in


def test_a_new_password_set_by_the_command_line_ends_sessions(engine, ana):
    value, _ = _signed_in(engine, ana)
    with engine.begin() as conn:
        auth.set_password(conn, ana.city_id, "ana", "a-new-password-123")
    assert _restore(engine, value) is None


def test_a_restored_user_has_the_accounts_current_role(engine, ana):
    """The cookie names a session, not a role: the role comes from ``users``."""
    value, _ = _signed_in(engine, ana)
    restored, _ = _restore(engine, value)
    assert restored.role is Role.STAFF and restored.department == "roads"


# --- the routes ---------------------------------------------------------------


@pytest.fixture
def client(engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return TestClient(Starlette(routes=session_routes.routes()), base_url=HOST)


def _code(engine, user) -> tuple[str, int]:
    with engine.begin() as conn:
        handoff = staff_sessions.begin(conn, user, 12)
    return handoff.code, handoff.session_id


def test_the_route_sets_a_cookie_no_script_can_read(engine, ana, client):
    code, session_id = _code(engine, ana)
    answer = client.post("/auth/session", content=code, headers={"Origin": HOST})
    assert answer.status_code == 204, answer.text
    header = answer.headers["set-cookie"]
    assert header.startswith(f"{staff_sessions.COOKIE}=")
    assert re.search(r"(?i); HttpOnly", header) and re.search(r"(?i); SameSite=strict", header)
    assert re.search(r"(?i); Path=/(;|$)", header) and "Secure" not in header
    assert answer.headers["cache-control"] == "no-store"
    value = answer.cookies[staff_sessions.COOKIE]
    assert _restore(engine, value) == (ana, session_id)

    again = client.post("/auth/session", content=code, headers={"Origin": HOST})
    assert again.status_code == 403 and "sign in again" in again.text


def test_the_cookie_is_secure_behind_an_https_proxy(engine, ana, client):
    """Behind a reverse proxy that passes the public host as X-Forwarded-Host
    and the scheme as X-Forwarded-Proto (the page's Origin is the public one)."""
    code, _ = _code(engine, ana)
    answer = client.post("/auth/session", content=code, headers={
        "Origin": "https://sesizari.primarialugoj.ro", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "sesizari.primarialugoj.ro"})  # fmt: skip
    assert answer.status_code == 204 and "; Secure" in answer.headers["set-cookie"]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Origin: not a page's fetch
        {"Origin": "http://evil.example"},
        {"Origin": HOST, "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://testserver.evil.example"},
    ],
)
def test_another_origin_cannot_post_a_code(engine, ana, client, headers):
    code, _ = _code(engine, ana)
    answer = client.post("/auth/session", content=code, headers=headers)
    assert answer.status_code == 403 and "set-cookie" not in answer.headers
    # the refused request did not use the code up
    assert client.post("/auth/session", content=code, headers={"Origin": HOST}).status_code == 204


def test_a_body_that_is_no_code_is_refused(engine, ana, client):
    code, _ = _code(engine, ana)
    for body in (code + "x" * 100, "", "\xff\xfe".encode("latin-1")):
        answer = client.post("/auth/session", content=body, headers={"Origin": HOST})
        assert answer.status_code == 403, body
    assert client.get("/auth/session").status_code == 405


def test_the_sign_out_route_expires_only_a_cookie_whose_session_ended(engine, ana, client):
    """The page ends the session in the database, then asks the route to drop
    the cookie.  A cookie whose session stands is kept: in a browser whose
    other tab signed in again since, it is that newer sign-in's."""
    value, session_id = _signed_in(engine, ana)
    client.cookies.set(staff_sessions.COOKIE, value)
    kept = client.post("/auth/signout", headers={"Origin": HOST})
    assert kept.status_code == 204 and "set-cookie" not in kept.headers
    assert _alive(engine, ana, session_id)

    with engine.begin() as conn:
        staff_sessions.end(conn, ana.city_id, session_id)
    answer = client.post("/auth/signout", headers={"Origin": HOST})
    assert answer.status_code == 204
    header = answer.headers["set-cookie"]
    assert header.startswith(f'{staff_sessions.COOKIE}=""') and "Max-Age=0" in header
    refused = client.post("/auth/signout", headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403

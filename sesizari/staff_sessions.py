"""Staff sessions that outlive a page reload: the cookie's store.

Streamlit keeps a sign-in in the browser tab's session, which a reload or a
second tab does not share.  A signed-in staff member's browser therefore
keeps a cookie that the *server* sets (``HttpOnly``, ``SameSite=Strict``):
no script on the page can read it, and no other site can send it.  It holds
the city and a random token; the database keeps only the token's SHA-256
(``staff_sessions``, migration 0031), so a copy of that table signs nobody in.

A Streamlit page cannot set an HTTP cookie itself, so the cookie is handed
over in two steps:

1. :func:`begin`: the sign-in form, once the password matched, stores a
   one-time code (valid for :data:`HANDOFF_SECONDS`) for a new session;
2. :func:`claim`: the page posts that code to the server's
   ``/auth/session`` route (``dashboard/session_routes.py``), which swaps it
   for a token and sets the cookie.

:func:`restore` reads the cookie of a new browser session back into the
user, :func:`alive` tells a running session whether it still stands (signed
out in another tab, expired, ended), and :func:`end` signs out.  A new
password, role or department, or a disabled account, ends the user's
sessions in the database itself (migration 0031's trigger), whichever tool
made the change.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sesizari import auth
from sesizari.auth import StaffUser

#: The cookie's name.
COOKIE = "sesizari_session"
#: How long the one-time code of step 1 may wait for the page to post it.
HANDOFF_SECONDS = 60

# "<city_id>.<43 characters of token_urlsafe(32)>": anything else is not ours.
_VALUE = re.compile(r"(\d{1,9})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class Handoff:
    """Step 1's result: the session, and the code the page posts (``city.secret``)."""

    session_id: int
    code: str


@dataclass(frozen=True)
class Cookie:
    """Step 2's result: the cookie's value and when it stops being accepted."""

    value: str
    expires_at: datetime


def _secret() -> str:
    return secrets.token_urlsafe(32)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def _parse(value: str | None) -> tuple[int, bytes] | None:
    """``(city_id, hash of the secret)``, or None for a value that is not well formed."""
    match = _VALUE.fullmatch(value or "")
    if match is None:
        return None
    return int(match.group(1)), _hash(match.group(2))


def begin(conn: Connection, user: StaffUser, hours: int) -> Handoff:
    """Start a session of ``hours`` for a user whose password just matched.

    Also forgets the city's expired sessions, so the table holds only live
    ones.  A session whose code was never posted stays until it expires: its
    tab is signed in without a cookie (a browser that refused it).
    """
    conn.execute(
        sa.text("DELETE FROM staff_sessions WHERE city_id = :c AND expires_at <= now()"),
        {"c": user.city_id},
    )
    secret = _secret()
    session_id = conn.execute(
        sa.text(
            "INSERT INTO staff_sessions (city_id, user_id, handoff_hash, handoff_expires,"
            " expires_at) VALUES (:c, :u, :h, now() + make_interval(secs => :wait),"
            " now() + make_interval(hours => :hours)) RETURNING session_id"
        ),
        {
            "c": user.city_id,
            "u": user.user_id,
            "h": _hash(secret),
            "wait": HANDOFF_SECONDS,
            "hours": hours,
        },
    ).scalar_one()
    return Handoff(session_id, f"{user.city_id}.{secret}")


def claim(conn: Connection, code: str | None) -> Cookie | None:
    """Swap a one-time code for the cookie's value; None if the code is unknown,
    used, or late (each code works once, within :data:`HANDOFF_SECONDS`)."""
    parsed = _parse(code)
    if parsed is None:
        return None
    city_id, handoff_hash = parsed
    secret = _secret()
    row = conn.execute(
        sa.text(
            "UPDATE staff_sessions SET token_hash = :t, handoff_hash = NULL,"
            " handoff_expires = NULL"
            " WHERE city_id = :c AND handoff_hash = :h AND handoff_expires > now()"
            " AND expires_at > now() RETURNING expires_at"
        ),
        {"c": city_id, "h": handoff_hash, "t": _hash(secret)},
    ).one_or_none()
    if row is None:
        return None
    return Cookie(f"{city_id}.{secret}", row.expires_at)


def handoff_waiting(conn: Connection, city_id: int, session_id: int) -> bool:
    """Whether the session's one-time code is still to be claimed (not yet
    swapped for the cookie, and within its minute)."""
    return bool(conn.execute(
        sa.text("SELECT EXISTS (SELECT 1 FROM staff_sessions WHERE city_id = :c"
                " AND session_id = :s AND handoff_hash IS NOT NULL AND handoff_expires > now())"),
        {"c": city_id, "s": session_id},
    ).scalar_one())  # fmt: skip


_SESSION_USER = (
    "SELECT s.session_id, c.slug, u.username FROM staff_sessions s"
    " JOIN users u ON u.city_id = s.city_id AND u.user_id = s.user_id"
    " JOIN cities c ON c.city_id = s.city_id"
    " WHERE s.city_id = :c AND {key} AND s.expires_at > now() AND u.active"
)


def restore(conn: Connection, value: str | None) -> tuple[StaffUser, int] | None:
    """The signed-in user and session id behind a cookie's value, or None."""
    parsed = _parse(value)
    if parsed is None:
        return None
    city_id, token_hash = parsed
    row = conn.execute(
        sa.text(_SESSION_USER.format(key="s.token_hash = :h")), {"c": city_id, "h": token_hash}
    ).one_or_none()
    if row is None:
        return None
    user = auth.load_user(conn, row.slug, row.username)
    return (user, row.session_id) if user is not None else None


def alive(conn: Connection, user: StaffUser, session_id: int) -> bool:
    """Whether ``user``'s session still stands: not signed out (here or in another
    tab), expired, or ended by a change to the account (migration 0031's trigger:
    a new password, role or department, a disabled account)."""
    row = conn.execute(
        sa.text(_SESSION_USER.format(key="s.session_id = :s AND s.user_id = :u")),
        {"c": user.city_id, "s": session_id, "u": user.user_id},
    ).one_or_none()
    return row is not None


def end(conn: Connection, city_id: int, session_id: int) -> None:
    """Sign out: the cookie's token, wherever it is kept, is refused from now on."""
    conn.execute(
        sa.text("DELETE FROM staff_sessions WHERE city_id = :c AND session_id = :s"),
        {"c": city_id, "s": session_id},
    )



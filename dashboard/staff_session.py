"""Who is signed in, for this browser tab: the page side of the session cookie.

The tab keeps the signed-in user in ``st.session_state``; the browser keeps
the cookie that brings it back after a reload or in a new tab.  How the
cookie is made safe is in ``sesizari/staff_sessions.py``; the routes that
set and clear it are in ``dashboard/session_routes.py``.
"""

from __future__ import annotations

import json

import streamlit as st

from dashboard import data
from dashboard.session_routes import url
from sesizari import staff_sessions
from sesizari.auth import StaffUser

_USER = "user"
_SESSION = "staff_session"  # the session's id in staff_sessions
_HANDOFF = "staff_session_code"  # the one-time code the page still has to post
_CLEAR = "staff_session_clear"  # the cookie still has to be expired
#: What a page that is left keeps of the signed-in user's work.
_TAB_STATE = ("incident_id",)


def current_user() -> StaffUser | None:
    """The tab's user, checked against the database on every run; else the
    cookie's user (a reload, a new tab); else None.

    A tab whose session ended elsewhere (signed out in another tab, a new
    password or role, a disabled account, its hours over) is signed out here
    on its next run.
    """
    user: StaffUser | None = st.session_state.get(_USER)
    session_id: int | None = st.session_state.get(_SESSION)
    if user is not None and session_id is not None:
        with data.engine().connect() as conn:
            if staff_sessions.alive(conn, user, session_id):
                return user
        _forget()
        return None
    if user is not None:  # signed in by a test harness, without a session
        return user
    cookie = _cookie()
    if cookie is None:
        return None
    with data.engine().connect() as conn:
        restored = staff_sessions.restore(conn, cookie)
    if restored is None:
        return None
    user, session_id = restored
    st.session_state[_USER] = user
    st.session_state[_SESSION] = session_id
    return user


def _cookie() -> str | None:
    """The browser's session cookie; None without one, and without an HTTP
    request behind the session (``AppTest`` answers with a stand-in object)."""
    value = st.context.cookies.get(staff_sessions.COOKIE)
    return value if isinstance(value, str) and value else None


def sign_in(user: StaffUser) -> None:
    """Start the user's session (its password just matched); the next run hands
    the cookie to the browser."""
    with data.engine().begin() as conn:
        handoff = staff_sessions.begin(conn, user, data.settings().staff_session_hours)
    st.session_state[_USER] = user
    st.session_state[_SESSION] = handoff.session_id
    st.session_state[_HANDOFF] = handoff.code
    st.session_state.pop(_CLEAR, None)


def sign_out() -> None:
    """End the session in the database (the cookie is refused from now on, in
    every tab) and have the next run ask the server to expire the cookie."""
    user: StaffUser | None = st.session_state.get(_USER)
    session_id = st.session_state.get(_SESSION)
    if user is not None and session_id is not None:
        with data.engine().begin() as conn:
            staff_sessions.end(conn, user.city_id, session_id)
    _forget()


def _forget() -> None:
    for key in (_USER, _SESSION, _HANDOFF, *_TAB_STATE):
        st.session_state.pop(key, None)
    st.session_state[_CLEAR] = True


def hand_over() -> None:
    """Post what the browser's cookie is waiting for, from a same-origin frame
    one pixel high: the one-time code after a sign-in, or the sign-out.

    The code is posted on every run until the server has claimed it (a
    repeated post is refused harmlessly): a run cut short by the next one (a
    department head's landing page, a click in the page list) could take the
    frame away before its script ran, and the browser was left without its
    cookie.  Without scripts or cookies the tab stays signed in until it is
    closed, as before.
    """
    code = st.session_state.get(_HANDOFF)
    if code is not None:
        user: StaffUser | None = st.session_state.get(_USER)
        session_id = st.session_state.get(_SESSION)
        waiting = False
        if user is not None and session_id is not None:
            with data.engine().connect() as conn:
                waiting = staff_sessions.handoff_waiting(conn, user.city_id, session_id)
        if waiting:
            _post(url("session"), code)
        else:
            st.session_state.pop(_HANDOFF, None)
    elif st.session_state.pop(_CLEAR, False):
        # Whether the browser holds a cookie cannot be told from here (the
        # tab's cookies are those of its first request, before any sign-in),
        # so ask; the route keeps a cookie whose session still stands.
        _post(url("signout"), "")


def _js(value: str) -> str:
    """A JavaScript string literal that cannot end the script element."""
    return json.dumps(value).replace("<", "\\u003c")


def _post(address: str, body: str) -> None:
    st.sidebar.iframe(
        f"<script>fetch({_js(address)}, {{method: 'POST', credentials: 'same-origin',"
        f" body: {_js(body)}}});</script>",
        height=1,
    )

"""Helpers shared by the AppTest suites: run the app on a page, as a user, with query params."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from sesizari import auth
from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")


def run_app(page: str | None = None, user=None, **params) -> AppTest:
    """The app after its first run (and a switch to ``views/<page>.py``), with no exception."""
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    if user is not None:
        at.session_state["user"] = user
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def load_user(engine, username: str, city: str = "lugoj") -> auth.StaffUser | None:
    with engine.connect() as conn:
        return auth.load_user(conn, city, username)


def shown(markdown: str) -> str:
    """The characters a reader sees of a Markdown element's text: its escapes
    undone (``LUG\\-2026\\-000123`` reads LUG-2026-000123)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)

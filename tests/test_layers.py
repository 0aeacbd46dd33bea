"""Who may import whom: the layering the README promises, checked on the source.

``sql/`` <- ``sesizari/`` (the only code that talks to PostGIS) <- ``etl/``,
``dashboard/``, ``api/``.  Streamlit only in ``dashboard/``, FastAPI only in
``api/``, and no SQL in the dashboard's pages.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("sesizari", "gis", "etl", "dashboard", "api")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


#: The dashboard's server and its cookie routes, the dashboard's only HTTP code.
SERVER_FILES = ("dashboard/server.py", "dashboard/session_routes.py")


def _files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_ui_and_web_frameworks_stay_in_their_layer(package):
    for path in _files(package):
        imports = _imports(path)
        if package != "dashboard":
            assert not {"streamlit", "pydeck", "streamlit_folium", "folium"} & imports, path
        if package != "api" and path.relative_to(REPO).as_posix() not in SERVER_FILES:
            assert not {"fastapi", "uvicorn", "starlette"} & imports, path
        if package in ("sesizari", "gis"):
            assert not {"dashboard", "api", "etl"} & imports, path


def test_dashboard_pages_hold_no_sql():
    for path in [*_files("dashboard/views"), REPO / "dashboard" / "app.py"]:
        imports = _imports(path)
        assert not {"sqlalchemy", "psycopg", "geoalchemy2"} & imports, path
        text = path.read_text().upper()
        for keyword in ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM"):
            assert keyword not in text, f"{path} contains SQL ({keyword.strip()})"


def test_user_text_is_never_rendered_as_html():
    """No page turns on HTML rendering; the only st.html is a fixed style rule."""
    for path in _files("dashboard"):
        text = path.read_text()
        assert "unsafe_allow_html" not in text, path
        for line in text.splitlines():
            if "st.html(" in line:  # a constant style rule, or the uploaders' escaped one
                assert 'st.html("<style>' in line or re.search(
                    r"st\.html\((widgets\.)?(uploader|input_hints)_style\(", line
                ), f"{path}: {line.strip()}"
            if "iframe(" in line:  # the cookie's hand-over, from JSON literals
                assert path.name == "staff_session.py", f"{path}: {line.strip()}"


def test_the_uploaders_style_cannot_be_ended_by_its_texts():
    """The uploaders' words are written into a style rule: a quote, a
    backslash or ``</style>`` in a text must stay inside its CSS string."""
    from dashboard.widgets import uploader_style

    hostile = '"}</style><script>window.__x=1</script>\\'
    style = uploader_style("photos", hostile, "a\nb; } body { display: none")
    assert style.count("<") == 2 and style.count(">") == 2, style  # <style> and </style> only
    assert style.startswith("<style>") and style.endswith("</style>")
    inside = style[len("<style>"):-len("</style>")]
    assert inside.count('"') == 4, inside  # each text opens and closes one string
    assert "\\22 " in inside and "\\a " in inside  # the quote and the new line, escaped
    with pytest.raises(ValueError, match="lowercase letters"):
        uploader_style("x] body {", "a", "b")


def test_days_are_the_city_s_not_the_server_s():
    """``date.today()`` and a naive ``datetime.now()`` read the server's clock
    (UTC on most servers): two or three hours after Bucharest's midnight they
    still give yesterday (the dashboard's default period left out the city's
    new day).  Days come from ``widgets.city_today`` or the city's zone."""
    server_day = re.compile(
        r"\bdate\.today\(|\bdatetime\.today\(|\bdatetime\.now\(\)(?!\.astimezone)"
    )
    for package in PACKAGES:
        for path in _files(package):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                assert not server_day.search(line), f"{path}:{number}: {line.strip()}"


def test_city_today_turns_at_the_city_s_midnight():
    from zoneinfo import ZoneInfo

    from dashboard.widgets import city_today

    bucharest = ZoneInfo("Europe/Bucharest")
    for utc, day in [
        (datetime(2026, 11, 27, 21, 59, tzinfo=UTC), date(2026, 11, 27)),  # 23:59, UTC+2
        (datetime(2026, 11, 27, 22, 0, tzinfo=UTC), date(2026, 11, 28)),  # 00:00
        (datetime(2026, 7, 1, 20, 59, tzinfo=UTC), date(2026, 7, 1)),  # 23:59, UTC+3
        (datetime(2026, 7, 1, 21, 0, tzinfo=UTC), date(2026, 7, 2)),
    ]:
        assert city_today(bucharest, utc) == day, utc


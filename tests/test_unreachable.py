"""A database that cannot be reached, or a setting that cannot be used: the
command lines say what to do in one line and the API answers 503, never a
traceback or a bare 500."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from sesizari.settings import SettingsError, load_settings
from tests.conftest import REPO, _free_port


@pytest.fixture
def nowhere() -> str:
    """A PostgreSQL URL on a port where nothing listens."""
    return f"postgresql+psycopg://u:secret@127.0.0.1:{_free_port()}/x"


def _cli(module: str, args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **env}, timeout=120,
    )


@pytest.mark.parametrize(("module", "args"), [
    ("sesizari", ["city", "list"]), ("sesizari", ["apikey", "list", "--city", "x"]),
    ("etl", ["runs"]),
])
def test_an_unreachable_database_is_one_line_with_what_to_do(nowhere, module, args):
    out = _cli(module, args, DATABASE_URL=nowhere)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and "secret" not in out.stderr + out.stdout
    assert out.stderr.startswith("Error: cannot reach the database (connection failed:")
    assert out.stderr.strip().endswith(
        "With DATABASE_URL set, check that its server runs and that the URL is right;"
        " without it, see `python -m sesizari db status`.")


@pytest.mark.parametrize(("env", "said"), [
    ({"SESIZARI_PG_PORT": "abc"}, "Error: SESIZARI_PG_PORT must be an integer, got 'abc'"),
    ({"DATABASE_URL": "mysql://u:S3cretPass@h/x"},
     "Error: DATABASE_URL must be a PostgreSQL URL, postgresql+psycopg://USER:PASSWORD@HOST"),
    ({"DATABASE_URL": "host=db user=app password=S3cretPass"},
     "Error: DATABASE_URL must be a PostgreSQL URL"),
    ({"SESIZARI_READ_DATABASE_URL": "app:S3cretPass@db/x"},
     "Error: SESIZARI_READ_DATABASE_URL must be a PostgreSQL URL"),
])
def test_a_setting_that_cannot_be_used_is_named(env, said):
    out = _cli("sesizari", ["city", "list"], **env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(said) and "fix the setting (see .env.example)" in out.stderr
    assert "S3cret" not in out.stderr  # the text around a scheme may hold the password


@pytest.mark.parametrize("command", [["check"], ["city", "list"], ["db", "migrate"]])
@pytest.mark.parametrize("url", ["postgresql+psycopg://u:S3cret@h:port/x",
                                 "postgresql+psycopg://u:S3cret@[bad/x"])
def test_a_url_that_cannot_be_read_is_said_by_every_command(command, url):
    """A port that is not a number or an unclosed bracket: `check` and every
    other command say so (the migration tool's ValueError was a traceback)."""
    out = _cli("sesizari", command, DATABASE_URL=url)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith("Error: DATABASE_URL cannot be used (")
    assert "S3cret" not in out.stderr


def test_libpq_style_urls_are_read_with_psycopg_3():
    """``postgres://`` (hosting services) and ``postgresql://`` (libpq) name
    SQLAlchemy's psycopg 2 driver, which is not installed."""
    for given in ("postgres://u:p@h:5432/d", "postgresql://u:p@h:5432/d",
                  "POSTGRESQL://u:p@h:5432/d"):
        settings = load_settings({"DATABASE_URL": given})
        assert settings.database_url == "postgresql+psycopg://u:p@h:5432/d"
    with pytest.raises(SettingsError, match="must be a PostgreSQL URL"):
        load_settings({"DATABASE_URL": "sqlite:///x.db"})


def test_the_api_answers_503_while_the_database_is_down(nowhere):
    engine = sa.create_engine(nowhere, poolclass=sa.pool.NullPool)
    api = TestClient(create_app(engine))
    r = api.get("/health")
    assert (r.status_code, r.json()) == (503, {"status": "unavailable"})
    r = api.get("/services.json", params={"jurisdiction_id": "testville"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "30"
    assert r.json() == [{"code": 503,
                         "description": "the database is unavailable; try again shortly"}]
    r = api.get("/services.xml", headers={"Accept-Language": "ro"})
    assert r.status_code == 503 and "baza de date nu este disponibilă" in r.text
    assert "secret" not in r.text and "127.0.0.1" not in r.text


@pytest.mark.parametrize(("lang", "said"), [
    ("ro", "Baza de date nu răspunde acum."), ("en", "The database is not answering right now."),
])
def test_the_dashboard_says_the_database_is_not_answering(nowhere, monkeypatch, tmp_path,
                                                          lang, said):
    """Every page, signed out or in: the message in the page's language, not
    Streamlit's error page with a traceback."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", nowhere)
    monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path / "var"))
    st.cache_data.clear()
    st.cache_resource.clear()
    for page in (None, "track", "open_data"):
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
        at.query_params["lang"] = lang
        at.query_params["id"] = "LUG-2026-000001"  # the tracking page reads it
        at.run()
        if page:
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception, at.exception
        assert [e.value.split(" Re")[0] for e in at.error] == [said.split(" Re")[0]], page


def test_only_a_connection_failure_is_called_unreachable():
    """A lock or statement timeout, a full disk: the server answered, and its
    answer names another cause than "cannot reach"."""
    import psycopg

    from sesizari.db import unreachable

    assert unreachable(psycopg.OperationalError("connection failed"))  # no SQLSTATE
    assert unreachable(psycopg.errors.AdminShutdown())  # 57P01
    assert unreachable(psycopg.errors.ConnectionFailure())  # 08006
    assert not unreachable(psycopg.errors.LockNotAvailable())  # 55P03
    assert not unreachable(psycopg.errors.QueryCanceled())  # 57014, a statement timeout
    assert not unreachable(psycopg.errors.DiskFull())  # 53100
    wrapped = sa.exc.OperationalError("SELECT 1", {}, psycopg.errors.LockNotAvailable())
    assert not unreachable(wrapped)

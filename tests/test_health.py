"""`python -m sesizari check`: each job or folder that stops working is named,
with what to do, and the exit status tells a monitoring system."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from sesizari import db
from sesizari.cli import app
from sesizari.health import check, worst
from sesizari.incidents import Contact, NewIncident, create_incident
from sesizari.settings import load_settings
from tests.conftest import TEST_LAT, TEST_LON, _free_port, migrations_but_the_newest


@pytest.fixture
def installation(engine, city, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DATABASE_URL on a fresh database, a data folder of its own with last night's backup."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SESIZARI_SECRET", uuid.uuid4().hex)
    for name in ("SESIZARI_PHOTO_DIR", "SESIZARI_SMTP_HOST", "SESIZARI_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "var" / "backups").mkdir(parents=True)
    (tmp_path / "var" / "backups" / "sesizari-2026-11-29-020000.tar").write_bytes(b"")
    return tmp_path / "var"


def _said(now: datetime | None = None) -> dict[str, tuple[str, str]]:
    return {f.what: (f.level, f.says) for f in check(load_settings(), now)}


def _cli(*args: str):
    db._engine_for.cache_clear()
    try:
        return CliRunner().invoke(app, ["check", *args])
    finally:
        db._engine_for.cache_clear()


def test_a_healthy_installation_says_so(installation):
    said = _said()
    assert {level for level, _ in said.values()} == {"ok"}, said
    assert set(said) == {"photos", "erasure journal", "backups", "secret", "database",
                         "migrations", "e-mails"}  # fmt: skip
    assert not (installation / "photos").exists()  # looked at, not made
    done = _cli()
    assert done.exit_code == 0 and "all applied" in done.output


def test_each_job_that_stopped_is_named_with_what_to_do(engine, installation):
    create_incident(engine, NewIncident(
        "testville", "pothole", TEST_LAT, TEST_LON, "Groapă",
        contact=Contact(email="maria@example.ro", consent=True)))  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO feed_runs (city_id, source, started_at, finished_at, status, error)"
            " SELECT city_id, 'registru', now() - interval '1 day', now(), 'failed',"
            " 'the file has no column Latitude' || chr(10) || 'second line' FROM cities;"
            "INSERT INTO feed_runs (city_id, source, started_at) SELECT city_id, 'apa',"
            " now() - interval '7 hours' FROM cities;"
            "INSERT INTO feed_runs (city_id, source, started_at, finished_at, status)"
            " SELECT city_id, 'open311', now(), now(), 'succeeded' FROM cities;"
            "INSERT INTO inbound_messages (city_id, source_key, received_at, imported_at,"
            " subject, body) SELECT city_id, repeat('a', 64), now() - interval '3 days',"
            " now() - interval '3 days', 's', 'b' FROM cities"))
    now = datetime.now(UTC)  # this test's clock: the rows above were written just before
    old = (now - timedelta(hours=40)).timestamp()
    os.utime(installation / "backups" / "sesizari-2026-11-29-020000.tar", (old, old))
    said = _said(now + timedelta(hours=1))
    assert said["e-mails"] == ("warn", "1 waiting for more than 30 minutes: set"
                               " SESIZARI_SMTP_HOST, SESIZARI_MAIL_FROM")  # fmt: skip
    assert said["feed testville/registru"] == (
        "warn", "the latest run failed: the file has no column Latitude (`python -m etl runs`)")
    assert said["feed testville/apa"][0] == "warn" and "never finished" in (
        said["feed testville/apa"][1])
    assert said["feed testville/open311"] == ("ok", "the latest run succeeded")
    assert said["mailbox testville"] == (
        "warn", "last read 3 days ago: is `inbox import` running?")
    assert said["backups"][0] == "warn" and "is the nightly `backup create` running?" in (
        said["backups"][1])
    assert worst(check(load_settings(), now)) == "warn"
    assert _cli().exit_code == 0  # warnings: the platform works
    strict = _cli("--strict")
    assert strict.exit_code == 1 and "warn  backups" in strict.output


def test_what_is_broken_fails(installation, monkeypatch, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SESIZARI_PHOTO_DIR", str(blocker / "photos"))
    said = _said()
    assert said["photos"] == ("fail", f"{blocker / 'photos'} cannot be written ({blocker} is"
                              " not a folder): photos cannot be stored (SESIZARI_PHOTO_DIR)")
    done = _cli()
    assert done.exit_code == 1 and "fail  photos" in done.output
    # A server out of reach: said, not a traceback; nothing after it is looked at.
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://u:pw-not-shown@127.0.0.1:{_free_port()}/x")
    said = _said()
    assert said["database"][0] == "fail" and "cannot connect (" in said["database"][1]
    assert "check DATABASE_URL" in said["database"][1] and "pw-not-shown" not in str(said)
    assert "migrations" not in said
    unreachable = _cli()
    assert unreachable.exit_code == 1 and "Traceback" not in unreachable.output


def test_a_database_behind_its_migrations_fails(pg_cluster, installation, monkeypatch,
                                                tmp_path: Path):  # fmt: skip
    older = tmp_path / "migrations"
    newest = migrations_but_the_newest(older)
    name = f"h_{uuid.uuid4().hex[:12]}"
    pg_cluster.ensure_database(name)
    try:
        db.migrate(pg_cluster.url(name), older)
        monkeypatch.setenv("DATABASE_URL", pg_cluster.url(name))
        said = _said()
        assert said["migrations"] == ("fail", f"1 not applied ({newest.stem} ...):"
                                      " `python -m sesizari db migrate`")  # fmt: skip
        assert "e-mails" not in said
    finally:
        pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_the_published_default_secret_is_a_warning(installation, monkeypatch):
    """The salt of the client hashes left at "change-me": anyone can recompute
    which address made a report."""
    monkeypatch.delenv("SESIZARI_SECRET")
    level, says = _said()["secret"]
    assert level == "warn" and says.startswith("SESIZARI_SECRET is the published default")

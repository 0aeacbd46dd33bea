"""RELIABILITY R16: reporters' contacts expire after the retention period, an
erasure request removes what identifies the reporter, and the registry
entry (number, date, category) stays."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from sesizari import admin, auth, catalog, db, erasure_log, tracking
from sesizari.errors import NotFoundError, ValidationError
from sesizari.incidents import Actor, Contact, NewIncident, create_incident, perform
from sesizari.photos import attach_photo, photo_path, remove_orphans
from sesizari.privacy import DEFAULT_RETENTION_DAYS, ERASED_DESCRIPTION, erase, expire_contacts
from sesizari.vocab import Action
from tests.conftest import TEST_LAT, TEST_LON

STAFF = Actor("tester")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _report(engine, *, at: datetime, contact: bool = True, description: str = "Groapă") -> str:
    who = Contact(name="Maria Pop", phone="0711111111", email="maria@example.ro", consent=True)
    return create_incident(engine, NewIncident(
        "testville", "pothole", TEST_LAT, TEST_LON, description, created_at=at,
        contact=who if contact else None,
    )).registry_number


def _entry(engine, number: str) -> dict:
    """The registry entry: what must survive retention and erasure."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT i.registry_number, i.created_at, c.code AS category, i.status,"
            " i.department_id, i.answered_at, ST_AsText(i.geom) AS geom"
            " FROM incidents i JOIN categories c USING (city_id, category_id)"
            " WHERE i.registry_number = :n"), {"n": number}).one()._mapping)


def _contacts(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(
            "SELECT i.registry_number FROM incident_contacts JOIN incidents i"
            " USING (city_id, incident_id)")).scalars())


def _erased_events(engine, number: str) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT e.actor_label, e.data, e.is_public FROM incident_events e"
            " JOIN incidents i USING (city_id, incident_id)"
            " WHERE i.registry_number = :n AND e.kind = 'erased' ORDER BY e.event_id"),
            {"n": number})]


def test_contacts_expire_a_retention_period_after_the_answer(engine, city):
    still_open = _report(engine, at=T0)
    resolved = _report(engine, at=T0)
    perform(engine, "testville", resolved, Action.RESOLVE, STAFF, text="Plombat",
            at=T0 + timedelta(days=2))
    rejected = _report(engine, at=T0)
    perform(engine, "testville", rejected, Action.REJECT, STAFF, text="Nu e domeniul public",
            at=T0 + timedelta(days=3))
    late = _report(engine, at=T0 + timedelta(days=100))
    perform(engine, "testville", late, Action.RESOLVE, STAFF, text="Plombat",
            at=T0 + timedelta(days=101))
    anonymous = _report(engine, at=T0, contact=False)
    perform(engine, "testville", anonymous, Action.RESOLVE, STAFF, text="Plombat",
            at=T0 + timedelta(days=2))
    everyone = {still_open, resolved, rejected, late}
    assert _contacts(engine) == everyone
    entries = {n: _entry(engine, n) for n in everyone | {anonymous}}

    # Within the year after the answer: nothing goes.
    day = timedelta(days=1)
    assert expire_contacts(engine, "testville", now=T0 + 2 * day + 364 * day) == {"testville": 0}
    # Past it: the contacts of the two answered then, not the open one, not the later one.
    past = T0 + (3 + DEFAULT_RETENTION_DAYS + 1) * day
    assert expire_contacts(engine, "testville", now=past, dry_run=True) == {"testville": 2}
    assert _contacts(engine) == everyone
    assert expire_contacts(engine, now=past) == {"testville": 2}
    assert _contacts(engine) == {still_open, late}
    assert expire_contacts(engine, now=past) == {"testville": 0}  # again: nothing left
    # The registry entries are as they were; the history says what went and why.
    assert {n: _entry(engine, n) for n in entries} == entries
    (event,) = _erased_events(engine, resolved)
    assert event["actor_label"] == "retention" and event["is_public"] is False
    assert event["data"] == {"why": "retention", "days": 365, "removed": ["contacts"]}
    assert "Maria" not in json.dumps(event) and _erased_events(engine, still_open) == []

    # A city's own period: 30 days.
    root = _admin(engine, city)
    admin.update_settings(engine, root, {"contact_retention_days": 30})
    assert expire_contacts(engine, now=T0 + 132 * day) == {"testville": 1}
    assert _contacts(engine) == {still_open}
    with pytest.raises(ValidationError, match="from 30 to 3650"):
        admin.update_settings(engine, root, {"contact_retention_days": 5})


def _admin(engine, city) -> auth.StaffUser:
    with engine.begin() as conn:
        catalog.create_user(conn, city["city_id"], username="root", full_name="Root",
                            role="admin")
    with engine.connect() as conn:
        return auth.load_user(conn, "testville", "root")


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This installation's erasure journal, in a data folder of the test's own."""
    monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path / "var"))
    return erasure_log.journal_path()


def test_an_erasure_request_removes_what_identifies_the_reporter(
    engine, city, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, journal: Path
):
    monkeypatch.setenv("SESIZARI_PHOTO_DIR", str(tmp_path / "photos"))
    number = _report(engine, at=T0, description="Groapă în fața casei mele, Maria Pop")
    other = _report(engine, at=T0)
    sent = attach_photo(engine, "testville", number, _jpeg((200, 10, 10)), "report", STAFF)
    fixed = attach_photo(engine, "testville", number, _jpeg((10, 200, 10)), "resolution", STAFF,
                         public=True)
    entry = _entry(engine, number)

    done = erase(engine, "testville", number.lower(), by="Responsabil GDPR",
                 reason="cerere TST-2026-000042")
    assert (done.contacts, done.photos, done.description) == (True, 1, True)
    assert done.removed == ["contacts", "photos", "description"]
    assert _contacts(engine) == {other}
    with engine.connect() as conn:
        stages = conn.execute(sa.text(
            "SELECT stage FROM photos p JOIN incidents i USING (city_id, incident_id)"
            " WHERE i.registry_number = :n"), {"n": number}).scalars().all()
        description = conn.execute(sa.text(
            "SELECT description FROM incidents WHERE registry_number = :n"),
            {"n": number}).scalar_one()
    assert stages == ["resolution"]  # the staff's evidence of the fix stays
    assert description == ERASED_DESCRIPTION
    assert _entry(engine, number) == entry
    # The citizen can still follow the report by its number.
    assert tracking.track(engine, number)["registry_number"] == number
    (event,) = _erased_events(engine, number)
    assert event["actor_label"] == "Responsabil GDPR"
    assert event["data"] == {"why": "request", "reason": "cerere TST-2026-000042",
                             "removed": ["contacts", "photos", "description"], "photos": 1}
    # The journal outside the database remembers the request, never a contact.
    [line] = journal.read_text().splitlines()
    kept = json.loads(line)
    assert {k: kept[k] for k in ("city", "number", "scope", "by", "reason")} == {
        "city": "testville", "number": number, "scope": "report", "by": "Responsabil GDPR",
        "reason": "cerere TST-2026-000042"}
    assert "Maria" not in line and "0711111111" not in line and "@" not in line
    assert (journal.stat().st_mode & 0o777) == 0o600
    # The photo's file goes at the next clean-up; the fix's photo stays.
    remove_orphans(engine, 0)
    assert not photo_path(sent.storage_key).exists()
    assert photo_path(fixed.storage_key).exists()

    # Again: nothing left to erase, and no second event.
    again = erase(engine, "testville", number, by="Responsabil GDPR")
    assert again.removed == [] and len(_erased_events(engine, number)) == 1
    assert len(journal.read_text().splitlines()) == 1
    with pytest.raises(NotFoundError, match=r"no report 'TST-2026-999999'.*registry number"):
        erase(engine, "testville", "TST-2026-999999", by="DPO")
    with pytest.raises(ValidationError, match="who carries out"):
        erase(engine, "testville", other, by="  ")
    assert _contacts(engine) == {other}


def test_an_erasure_the_journal_cannot_remember_is_not_carried_out(
    engine, city, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A removal the journal does not know of would come back with the next
    restore: the request fails whole, and says what to fix."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SESIZARI_DATA_DIR", str(blocker))
    number = _report(engine, at=T0, description="Maria Pop")
    entry = _entry(engine, number)
    with pytest.raises(erasure_log.JournalError, match="nothing was erased") as failed:
        erase(engine, "testville", number, by="DPO")
    assert "SESIZARI_DATA_DIR" in str(failed.value) and "nu s-a șters nimic" in failed.value.ro
    assert _contacts(engine) == {number}
    assert _erased_events(engine, number) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT description FROM incidents")).scalar_one() == (
            "Maria Pop")
    assert _entry(engine, number) == entry


def test_the_command_line(engine, city, monkeypatch: pytest.MonkeyPatch, journal: Path):
    from typer.testing import CliRunner

    from sesizari.cli import app

    number = _report(engine, at=T0)
    perform(engine, "testville", number, Action.RESOLVE, STAFF, text="Plombat",
            at=T0 + timedelta(days=1))
    kept = _report(engine, at=datetime.now(UTC) - timedelta(days=1))
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    db._engine_for.cache_clear()
    try:
        runner = CliRunner()
        dry = runner.invoke(app, ["privacy", "expire", "--dry-run"])
        real = runner.invoke(app, ["privacy", "expire", "--city", "testville"])
        gone = runner.invoke(app, ["privacy", "erase", kept, "--city", "testville",
                                   "--by", "DPO"])
        twice = runner.invoke(app, ["privacy", "erase", kept, "--city", "testville",
                                    "--by", "DPO"])
        unknown = runner.invoke(app, ["privacy", "expire", "--city", "nowhere"])
        reapply = runner.invoke(app, ["privacy", "reapply"])
        elsewhere = runner.invoke(app, ["privacy", "reapply", "--journal",
                                        str(journal.with_name("none.jsonl"))])
    finally:
        db.get_engine().dispose()
        db._engine_for.cache_clear()
    assert dry.exit_code == 0 and "testville: 1 contacts would be removed" in dry.output
    assert real.exit_code == 0 and "testville: 1 contacts removed" in real.output
    assert gone.exit_code == 0, gone.output
    assert f"{kept}: erased contacts, description" in gone.output
    assert "no personal data left to erase" in twice.output
    assert unknown.exit_code == 1 and "No city 'nowhere'" in unknown.output
    assert _contacts(engine) == set()
    assert reapply.exit_code == 0, reapply.output
    assert "1 requests; 0 carried out again, 1 already carried out, 0 for reports not in" in (
        " ".join(reapply.output.split()))
    assert elsewhere.exit_code == 1 and "no erasure journal at" in elsewhere.output


def test_every_setting_has_a_default():
    for key, (kind, low, high) in admin.SETTINGS.items():
        value = admin.setting_default(key)
        assert isinstance(value, kind), key
        assert kind is bool or low <= value <= high, key


def test_the_journal_keeps_each_request_once_and_survives_a_cut_line(tmp_path: Path):
    """A crash while a line was written leaves it cut: that line is counted,
    the others are read; the same request in two copies of the journal is
    carried out once."""
    first = tmp_path / "a" / erasure_log.JOURNAL
    erasure_log.append(erasure_log.entry("lugoj", " lug-2026-000002 ", "report", by="DPO"), first)
    erasure_log.append(erasure_log.entry("lugoj", "LUG-2026-000001", "email",
                                         at=datetime(2026, 1, 1, tzinfo=UTC)), first)
    copy = tmp_path / "b" / erasure_log.JOURNAL
    copy.parent.mkdir()
    copy.write_text(first.read_text() + '{"city": "lugoj", "number": "LUG-2026-0000\n[1, 2]\n'
                    '{"city": "lugoj", "number": "LUG-2026-000003", "scope": "all"}\n')
    found = erasure_log.read([first, copy, tmp_path / "none.jsonl", first])
    assert [(e.number, e.scope) for e in found.entries] == [
        ("LUG-2026-000001", "email"), ("LUG-2026-000002", "report")]  # oldest first
    assert found.files == [first.resolve(), copy.resolve()] and found.unreadable == 3
    with pytest.raises(ValueError, match="scope"):
        erasure_log.append(erasure_log.entry("lugoj", "LUG-2026-000001", "all"), first)

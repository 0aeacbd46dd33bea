"""`python -m sesizari backup`: the database and the photo store in one file, and back.

Against real servers: the test cluster (a DATABASE_URL), and an embedded
cluster of its own for ``--replace``.  Every refusal is checked to leave the
target exactly as it was.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from typer.testing import CliRunner

from sesizari import db
from sesizari.backup import MANIFEST
from sesizari.cli import app
from sesizari.cluster import Cluster
from sesizari.incidents import Actor, Contact, NewIncident, create_incident
from sesizari.photos import attach_photo
from sesizari.settings import load_settings
from tests.conftest import TEST_LAT, TEST_LON, _free_port

STAFF = Actor("ana", None, "staff")
ROWS = "SELECT registry_number, status, description FROM incidents ORDER BY 1"
EVENTS = "SELECT count(*) FROM incident_events"
PHOTOS = "SELECT storage_key, stage FROM photos ORDER BY 1"
CONTACTS = "SELECT name, email FROM incident_contacts ORDER BY incident_id"


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def _rows(url: str, sql: str) -> list[tuple]:
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _files(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def _cli(monkeypatch: pytest.MonkeyPatch, args: list[str], *, url: str | None,
         photos: Path) -> object:  # fmt: skip
    """Run the command line with DATABASE_URL = ``url`` (None: the embedded cluster)."""
    if url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SESIZARI_PHOTO_DIR", str(photos))
    db._engine_for.cache_clear()
    try:
        return CliRunner().invoke(app, args)
    finally:
        db._engine_for.cache_clear()


@pytest.fixture
def source(engine, city, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A city with three reports, one with two photos, in its own photo store."""
    store = tmp_path / "photos-source"
    monkeypatch.setenv("SESIZARI_PHOTO_DIR", str(store))
    numbers = [
        create_incident(engine, NewIncident("testville", "pothole", TEST_LAT + k / 1000, TEST_LON,
                                            f"Groapă {k}", contact=Contact(
                                                name="Maria Pop", email="maria@example.ro",
                                                consent=True)))
        .registry_number for k in range(3)
    ]  # fmt: skip
    attach_photo(engine, "testville", numbers[0], _jpeg((200, 10, 10)), "report", STAFF)
    attach_photo(engine, "testville", numbers[0], _jpeg((10, 200, 10)), "resolution", STAFF,
                 public=True)  # fmt: skip
    return {"url": engine.url.render_as_string(hide_password=False), "store": store,
            "numbers": numbers}  # fmt: skip


@pytest.fixture
def empty_database(pg_cluster: Cluster) -> Iterator[str]:
    """A new database with PostGIS and nothing else, as a DBA hands it over."""
    name = f"r_{uuid.uuid4().hex[:12]}"
    pg_cluster.ensure_database(name)
    yield pg_cluster.url(name)
    pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')


def _backup(monkeypatch, source, tmp_path: Path, name: str = "b.tar") -> Path:
    out = tmp_path / name
    done = _cli(monkeypatch, ["backup", "create", "--output", str(out)], url=source["url"],
                photos=source["store"])  # fmt: skip
    assert done.exit_code == 0, done.output
    return out


def test_a_backup_restores_whole_into_an_empty_database(
    monkeypatch, source, empty_database: str, tmp_path: Path
):
    out = _backup(monkeypatch, source, tmp_path)
    assert (out.stat().st_mode & 0o777) == 0o600  # it holds reporters' contacts
    assert "testville (3 incidents)" in _cli(
        monkeypatch, ["backup", "verify", str(out)], url=source["url"], photos=source["store"]
    ).output
    again = _cli(monkeypatch, ["backup", "create", "-o", str(out)], url=source["url"],
                 photos=source["store"])  # fmt: skip
    assert again.exit_code == 1 and "already exists" in again.output

    store = tmp_path / "photos-restored"
    done = _cli(monkeypatch, ["backup", "restore", str(out)], url=empty_database, photos=store)
    assert done.exit_code == 0, done.output
    assert "photo files: 4 written, 0 already there" in done.output
    for sql in (ROWS, EVENTS, PHOTOS, CONTACTS):
        assert _rows(empty_database, sql) == _rows(source["url"], sql)
    assert len(_rows(empty_database, ROWS)) == 3
    assert _files(store) == _files(source["store"]) and len(_files(store)) == 4
    # The registry goes on where it stopped, and the read-only login is granted again.
    restored = db.make_engine(empty_database)
    try:
        new = create_incident(restored, NewIncident("testville", "pothole", TEST_LAT, TEST_LON,
                                                    "După restaurare"))  # fmt: skip
    finally:
        restored.dispose()
    assert new.registry_number.endswith("000004")
    grant = "SELECT has_table_privilege('sesizari_reader', 'incidents', 'SELECT')"
    assert _rows(empty_database, grant) == [(True,)]

    # A second restore into the same database is refused, and changes nothing.
    before = _rows(empty_database, ROWS)
    refused = _cli(monkeypatch, ["backup", "restore", str(out)], url=empty_database, photos=store)
    assert refused.exit_code == 1
    assert "holds testville (4 incidents); nothing was changed" in refused.output
    assert _rows(empty_database, ROWS) == before
    replace = _cli(monkeypatch, ["backup", "restore", str(out), "--replace"], url=empty_database,
                   photos=store)  # fmt: skip
    assert replace.exit_code == 1 and "embedded cluster only" in replace.output


def test_a_migrated_database_without_cities_is_not_restored_into(
    monkeypatch, source, engine, tmp_path: Path, pg_cluster: Cluster
):
    out = _backup(monkeypatch, source, tmp_path)
    name = f"m_{uuid.uuid4().hex[:12]}"
    pg_cluster.ensure_database(name)
    db.migrate(pg_cluster.url(name))
    try:
        done = _cli(monkeypatch, ["backup", "restore", str(out)], url=pg_cluster.url(name),
                    photos=tmp_path / "p")  # fmt: skip
        assert done.exit_code == 1
        assert "already holds the Sesizari schema; nothing was changed" in done.output
        assert not (tmp_path / "p").exists()
    finally:
        pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')


def _rewrite(src: Path, dst: Path, *, manifest=None, member=None, extra=None) -> None:
    """Copy a backup, changing its manifest (``manifest(dict)``), one member's
    bytes (``member = (name, change(bytes))``), or adding ``extra = (name, bytes)``."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for info in tin:
            data = tin.extractfile(info).read()
            if info.name == MANIFEST and manifest:
                found = json.loads(data)
                manifest(found)
                data = json.dumps(found).encode()
            if member and info.name == member[0]:
                data = member[1](data)
            if extra and info.name == MANIFEST:
                added = tarfile.TarInfo(extra[0])
                added.size = len(extra[1])
                tout.addfile(added, io.BytesIO(extra[1]))
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


def test_a_damaged_or_foreign_file_is_refused_before_anything_is_written(
    monkeypatch, source, empty_database: str, tmp_path: Path
):
    out = _backup(monkeypatch, source, tmp_path)
    with tarfile.open(out) as tar:
        photo = next(n for n in tar.getnames() if n.startswith("photos/"))
    cases = {
        "photo": (dict(member=(photo, _flip)), f"{photo} is damaged"),
        "dump": (dict(member=("database.pgc", _flip)), "database.pgc is damaged"),
        "escape": (dict(extra=("photos/../../etc/evil", b"x")), "unexpected member"),
        "newer": (dict(manifest=lambda m: m["migrations"].append("9999_future")),
                  "made by a newer version of Sesizari (migration 9999_future"),
        "foreign": (dict(manifest=lambda m: m.update(format="other/1")), "not one this version"),
    }  # fmt: skip
    store = tmp_path / "photos-restored"
    for case, (change, message) in cases.items():
        bad = tmp_path / f"{case}.tar"
        _rewrite(out, bad, **change)
        for command in (["backup", "verify", str(bad)], ["backup", "restore", str(bad)]):
            if case == "newer" and command[1] == "verify":
                continue  # intact: only this version cannot restore it
            done = _cli(monkeypatch, command, url=empty_database, photos=store)
            assert done.exit_code == 1, (case, done.output)
            assert message in " ".join(done.output.split()), (case, done.output)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    text = tmp_path / "notes.txt"
    text.write_text("not a backup")
    for bad, message in ((cut, "cut short"), (text, "not a Sesizari backup"),
                         (tmp_path / "none.tar", "no such backup file"),
                         (out.parent, "is a folder: give the backup file in it")):  # fmt: skip
        done = _cli(monkeypatch, ["backup", "restore", str(bad)], url=empty_database, photos=store)
        assert done.exit_code == 1 and message in " ".join(done.output.split()), done.output
    # Nothing reached the target.
    assert _rows(empty_database, "SELECT to_regclass('public.incidents')") == [(None,)]
    assert _files(store) == {}


def test_a_place_that_cannot_be_written_is_named(
    monkeypatch, source, empty_database: str, tmp_path: Path
):
    out = _backup(monkeypatch, source, tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    made = _cli(monkeypatch, ["backup", "create", "-o", str(blocker / "b.tar")],
                url=source["url"], photos=source["store"])  # fmt: skip
    assert made.exit_code == 1 and "cannot write the backup" in made.output
    assert "choose another --output" in " ".join(made.output.split())
    done = _cli(monkeypatch, ["backup", "restore", str(out)], url=empty_database,
                photos=blocker / "photos")  # fmt: skip
    assert done.exit_code == 1 and "cannot write the photos" in done.output
    assert "SESIZARI_PHOTO_DIR" in " ".join(done.output.split())
    assert _rows(empty_database, "SELECT to_regclass('public.incidents')") == [(None,)]


def test_a_photo_missing_from_the_store_is_named_not_fatal(monkeypatch, source, tmp_path: Path):
    victim = next(p for p in source["store"].rglob("*.jpg") if "_thumb" not in p.name)
    victim.unlink()
    out = tmp_path / "b.tar"
    done = _cli(monkeypatch, ["backup", "create", "-o", str(out)], url=source["url"],
                photos=source["store"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "1 photo files were missing from the store" in done.output
    assert victim.name in done.output
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile(MANIFEST).read())
    assert [Path(m).name for m in manifest["missing_photos"]] == [victim.name]
    assert len([n for n in manifest["files"] if n.startswith("photos/")]) == 3


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """The embedded default in a data folder of its own (a short path: the socket lives there)."""
    root = Path(tempfile.mkdtemp(prefix="sz-bk-", dir="/tmp"))
    os.chmod(root, 0o755)
    monkeypatch.setenv("SESIZARI_DATA_DIR", str(root))
    monkeypatch.setenv("SESIZARI_PG_PORT", str(_free_port()))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cluster = db.embedded_cluster(load_settings())
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


def test_replace_keeps_the_previous_database_and_puts_it_back_on_failure(
    monkeypatch, source, embedded: Cluster, tmp_path: Path
):
    out = _backup(monkeypatch, source, tmp_path)
    store = tmp_path / "photos-embedded"
    first = _cli(monkeypatch, ["backup", "restore", str(out)], url=None, photos=store)
    assert first.exit_code == 0, first.output  # a new machine: `db start` made an empty database
    url = embedded.url()
    assert len(_rows(url, ROWS)) == 3
    with db.make_engine(url).begin() as conn:
        conn.execute(sa.text("UPDATE incidents SET description = 'changed since'"))
    changed = _rows(url, ROWS)

    refused = _cli(monkeypatch, ["backup", "restore", str(out)], url=None, photos=store)
    assert refused.exit_code == 1 and "Add --replace" in refused.output
    assert _rows(url, ROWS) == changed

    # The backup's rows do not add up: the restore fails, the database is put back.
    wrong = tmp_path / "wrong.tar"
    _rewrite(out, wrong, manifest=lambda m: m["tables"].update(incidents=4))
    failed = _cli(monkeypatch, ["backup", "restore", str(wrong), "--replace"], url=None,
                  photos=store)  # fmt: skip
    assert failed.exit_code == 1
    assert "does not match the backup (incidents: 3 rows, the backup has 4)" in failed.output
    assert _rows(url, ROWS) == changed
    names = "SELECT datname FROM pg_database WHERE datname LIKE 'sesizari%' ORDER BY 1"
    assert embedded.psql(names) == "sesizari"

    done = _cli(monkeypatch, ["backup", "restore", str(out), "--replace"], url=None, photos=store)
    assert done.exit_code == 0, done.output
    assert _rows(url, ROWS) == _rows(source["url"], ROWS) != changed
    kept = embedded.psql(names).splitlines()
    assert kept[0] == "sesizari" and kept[1].startswith("sesizari_before_restore_")
    assert f"kept as {kept[1]}" in done.output
    assert _rows(embedded.url(kept[1]), ROWS) == changed


def test_db_status_says_how_old_the_latest_backup_is(tmp_path: Path):
    from datetime import UTC, datetime, timedelta

    from sesizari.backup import latest_backup

    settings = load_settings({"SESIZARI_DATA_DIR": str(tmp_path)})
    assert "backups: none in" in latest_backup(settings)
    folder = tmp_path / "backups"
    folder.mkdir()
    now = datetime.now(UTC)
    for name, age in (("sesizari-2026-11-25-020000.tar", 75),
                      ("sesizari-2026-11-26-020000.tar", 51)):  # fmt: skip
        path = folder / name
        path.write_bytes(b"")
        stamp = (now - timedelta(hours=age)).timestamp()
        os.utime(path, (stamp, stamp))
    (folder / "notes.tar").write_bytes(b"")  # not a backup of ours
    line = latest_backup(settings, now)
    assert "sesizari-2026-11-26-020000.tar (2 days ago; 2 in the folder)" in line
    assert "is the nightly backup running?" in line
    assert "nightly" not in latest_backup(settings, now - timedelta(hours=50))


def test_a_backup_of_an_older_version_is_brought_up_to_date(
    monkeypatch, pg_cluster: Cluster, empty_database: str, tmp_path: Path
):
    """A backup made before the newest migration restores, then gets it."""
    from sesizari import catalog
    from tests.conftest import TEST_BOUNDARY, migrations_but_the_newest

    older = tmp_path / "migrations"
    newest = migrations_but_the_newest(older)
    name = f"o_{uuid.uuid4().hex[:12]}"
    pg_cluster.ensure_database(name)
    try:
        db.migrate(pg_cluster.url(name), older)
        engine = db.make_engine(pg_cluster.url(name))
        with engine.begin() as conn:
            catalog.create_city(conn, slug="oldtown", name_ro="Oldtown", name_en="Oldtown",
                                registry_prefix="OLD", boundary=TEST_BOUNDARY)  # fmt: skip
        engine.dispose()
        out = tmp_path / "old.tar"
        made = _cli(monkeypatch, ["backup", "create", "-o", str(out)], url=pg_cluster.url(name),
                    photos=tmp_path / "p")  # fmt: skip
        assert made.exit_code == 0, made.output
    finally:
        pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')
    done = _cli(monkeypatch, ["backup", "restore", str(out)], url=empty_database,
                photos=tmp_path / "p2")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "migrations applied since the backup: 1" in done.output
    applied = _rows(empty_database, "SELECT migration_id FROM _yoyo_migration ORDER BY 1")
    assert applied[-1] == (newest.stem,)
    assert _rows(empty_database, "SELECT slug FROM cities") == [("oldtown",)]


def test_a_restore_carries_out_again_the_erasures_made_after_the_backup(
    monkeypatch, source, engine, empty_database: str, tmp_path: Path, pg_cluster: Cluster
):
    """R16: an erasure request is not undone by restoring a backup made before it."""
    from sesizari.privacy import erase, stop_emails

    monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path / "var"))
    numbers = source["numbers"]
    asked = create_incident(engine, NewIncident(
        "testville", "pothole", TEST_LAT, TEST_LON, "Groapă",
        contact=Contact(name="Ion Pop", email="ion@example.ro", consent=True), want_pin=True,
    ))  # fmt: skip
    erase(engine, "testville", numbers[2], by="DPO", reason="cerere 1")  # before the backup
    out = _backup(monkeypatch, source, tmp_path)
    erase(engine, "testville", numbers[0], by="DPO", reason="cerere 2")
    assert stop_emails(engine, asked.registry_number, asked.pin)
    later = create_incident(engine, NewIncident(
        "testville", "pothole", TEST_LAT, TEST_LON, "După copie",
        contact=Contact(name="X", consent=True)))  # fmt: skip
    erase(engine, "testville", later.registry_number, by="DPO")

    # The nightly backup written to the city's file server carries the journal.
    nas = tmp_path / "nas"
    nas.mkdir()
    (nas / "erasures.jsonl").write_text('{"city": "elsewhere", "number": "X-1", "scope":'
                                        ' "report", "at": "2026-01-01"}\n')  # fmt: skip
    made = _cli(monkeypatch, ["backup", "create", "-o", str(nas / "later.tar")],
                url=source["url"], photos=source["store"])  # fmt: skip
    assert made.exit_code == 0 and "erasure journal copied beside it" in made.output
    beside = (nas / "erasures.jsonl").read_text().splitlines()
    assert len(beside) == 5 and beside[0].startswith('{"city": "elsewhere"')  # kept, and added
    assert ((nas / "erasures.jsonl").stat().st_mode & 0o777) == 0o600
    # The backups folder (the backup and the journal) was copied to a new machine.
    moved = tmp_path / "copied"
    moved.mkdir()
    shutil.copy(out, moved / out.name)
    shutil.copy(tmp_path / "var" / "backups" / "erasures.jsonl", moved / "erasures.jsonl")
    monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path / "new-machine"))
    done = _cli(monkeypatch, ["backup", "restore", str(moved / out.name)], url=empty_database,
                photos=tmp_path / "photos-restored")  # fmt: skip
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert "2 carried out again, 1 already in the backup, 1 for reports it does not hold" in said
    assert "1 report photos removed again" in said
    assert _rows(empty_database, CONTACTS) == _rows(source["url"], CONTACTS) == [
        ("Maria Pop", "maria@example.ro"), ("Ion Pop", None)]
    assert _rows(empty_database, PHOTOS) == _rows(source["url"], PHOTOS)
    assert _rows(empty_database, ROWS) == _rows(source["url"], ROWS)[:4]
    again = _rows(empty_database, "SELECT data FROM incident_events WHERE kind = 'erased'"
                                  " AND data ? 'again_after_restore' ORDER BY event_id")
    assert [sorted(d["removed"]) for (d,) in again] == [
        ["contacts", "description", "photos"], ["email"]]

    # Without a journal the restore says what it could not do.
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(out, bare / out.name)
    fresh = f"r_{uuid.uuid4().hex[:12]}"
    pg_cluster.ensure_database(fresh)
    cluster_url = pg_cluster.url(fresh)
    try:
        monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path / "another-machine"))
        blind = _cli(monkeypatch, ["backup", "restore", str(bare / out.name)], url=cluster_url,
                     photos=tmp_path / "photos-blind")  # fmt: skip
        assert blind.exit_code == 0, blind.output
        assert "No erasure journal (erasures.jsonl) beside the backup" in " ".join(
            blind.output.split())
        assert len(_rows(cluster_url, CONTACTS)) == 3  # what the backup held
        # The journal arrives later: one command carries it out.
        late = _cli(monkeypatch, ["privacy", "reapply", "--journal",
                                  str(moved / "erasures.jsonl")], url=cluster_url,
                    photos=tmp_path / "photos-blind")  # fmt: skip
        assert late.exit_code == 0, late.output
        assert "4 requests; 2 carried out again, 1 already carried out, 1 for" in " ".join(
            late.output.split())
        assert _rows(cluster_url, CONTACTS) == _rows(source["url"], CONTACTS)
    finally:
        pg_cluster.psql(f'DROP DATABASE "{fresh}" WITH (FORCE)')

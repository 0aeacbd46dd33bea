"""R14: photos and database agree after a process dies at any step of an upload.

A real process attaches a photo (``sesizari.photos.attach_photo``) to a real
database and is killed with SIGKILL at one step: no ``except`` or
``finally`` of its own runs, and PostgreSQL rolls back what it had not
committed.  Then, as after a crash in production, the clean-up runs once the
grace period has passed.  Whatever the step: no row points to a missing
file, no file is left that no row uses, and a photo committed before the
crash (or shared with another incident) keeps its files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from sesizari.incidents import NewIncident, create_incident
from sesizari.photos import attach_photo, photo_path, remove_orphans, thumb_key
from tests.conftest import REPO, TEST_LAT, TEST_LON
from tests.test_photos import CLERK, _leaky_jpeg

#: Runs in the child: wraps one step of the upload so that the process kills
#: itself there (SIGKILL: nothing of its own runs after it), then uploads.
_CHILD = """
import os, signal, sys
from pathlib import Path
from sesizari import db, photos
from sesizari.incidents import Actor

url, number, upload, root, step = sys.argv[1:6]
def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)

def before(name):
    def wrapped(*a, **k):
        die()
    setattr(photos, name, wrapped)

def after(name):
    original = getattr(photos, name)
    def wrapped(*a, **k):
        out = original(*a, **k)
        die()
        return out
    setattr(photos, name, wrapped)

def on_replace(n):  # the n-th rename of a written temporary file
    calls = []
    real = os.replace
    def replace(src, dst):
        calls.append(dst)
        if len(calls) == n:
            die()
        return real(src, dst)
    photos.os.replace = replace

{
    "before_store": lambda: before("_store"),
    "thumbnail_half_written": lambda: on_replace(1),
    "photo_half_written": lambda: on_replace(2),
    "files_without_row": lambda: after("_store"),
    "row_without_event": lambda: before("_event"),
    "before_commit": lambda: after("_event"),
    "after_commit": lambda: None,
}[step]()
engine = db.make_engine(url)
photos.attach_photo(engine, "testville", number, Path(upload).read_bytes(), "report",
                    Actor("agent", None, "staff"), root=Path(root))
print("committed", flush=True)
if step == "after_commit":
    die()
"""

STEPS = [
    "before_store",
    "thumbnail_half_written",
    "photo_half_written",
    "files_without_row",
    "row_without_event",
    "before_commit",
    "after_commit",
]


def _incident(engine, text: str) -> str:
    return create_incident(
        engine, NewIncident("testville", "pothole", TEST_LAT, TEST_LON, text)
    ).registry_number


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _rows(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT i.registry_number, p.storage_key FROM photos p JOIN incidents i"
            " USING (city_id, incident_id) ORDER BY 1"
        ))]  # fmt: skip


def _photo_events(engine, number: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*) FROM incident_events e JOIN incidents i USING (city_id, incident_id)"
            " WHERE i.registry_number = :n AND e.data ? 'photo'"
        ), {"n": number}).scalar_one()  # fmt: skip


def _age(root: Path, seconds: float) -> None:
    """Make every stored file look ``seconds`` old: the grace period has passed."""
    then = time.time() - seconds
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, (then, then))


@pytest.mark.parametrize("shared", [False, True], ids=["alone", "shared"])
@pytest.mark.parametrize("step", STEPS)
def test_a_killed_upload_leaves_photos_and_rows_in_agreement(engine, city, tmp_path, step, shared):
    root = tmp_path / "photos"
    upload = tmp_path / "upload.jpg"
    upload.write_bytes(_leaky_jpeg())
    number = _incident(engine, "Groapă")
    if shared:  # the same picture, already attached to another incident
        other = _incident(engine, "Altă groapă")
        attach_photo(engine, "testville", other, upload.read_bytes(), "report", CLERK, root=root)
    before = _rows(engine)
    files_before = _files(root) if root.exists() else set()

    url = engine.url.render_as_string(hide_password=False)
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, url, number, str(upload), str(root), step],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    committed = "committed" in child.stdout
    assert committed == (step == "after_commit")

    # Straight after the crash: every row's files are there (the row commits last).
    rows = _rows(engine)
    for _, key in rows:
        assert photo_path(key, root).is_file() and photo_path(thumb_key(key), root).is_file()
    assert len(rows) == len(before) + committed
    assert _photo_events(engine, number) == committed

    # The process died where it was meant to.
    new = _files(root) - files_before if root.exists() else set()
    temporary = {f for f in new if Path(f).name.startswith(".tmp-")}
    if not shared:
        thumbs = {f for f in new if "_thumb." in f}
        expect = {
            "before_store": (0, 0, 0),
            "thumbnail_half_written": (1, 0, 0),
            "photo_half_written": (1, 1, 0),
        }.get(step, (0, 1, 1))
        assert (len(temporary), len(thumbs), len(new - temporary - thumbs)) == expect, new

    # A clean-up within the grace period touches nothing (an upload may be in flight).
    files = _files(root)
    assert remove_orphans(engine, timedelta(hours=1), root=root) == []
    assert _files(root) == files

    # After it: exactly the files of the rows remain, temporary files included.
    _age(root, seconds=2 * 3600)
    remove_orphans(engine, timedelta(hours=1), root=root)
    rows = _rows(engine)
    expected = {k for _, key in rows for k in (key, thumb_key(key))}
    assert _files(root) == expected
    if committed or shared:
        assert expected
    else:
        assert not expected

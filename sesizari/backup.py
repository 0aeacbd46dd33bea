"""Backups: the database and the photo store in one file, and back.

A ``pg_dump`` archive alone is not a backup of Sesizari: the photos citizens
and staff sent live in files (``SESIZARI_PHOTO_DIR``), named by their content
hash, and only their rows are in the database.  :func:`create` writes one
uncompressed tar holding

- ``database.pgc``: ``pg_dump -Fc`` of the database (PostGIS's own
  ``spatial_ref_sys`` rows excepted: they come with the extension);
- ``photos/ab/cd/<sha256>.jpg`` and their thumbnails: every file a photo row
  of the dump refers to;
- ``manifest.json``, last: the migrations applied, the rows of every table,
  and the size and SHA-256 of every other member.

The dump and the manifest's figures come from one exported snapshot
(``pg_export_snapshot``), so they agree to the row while citizens and staff
go on writing.  Photo files never change once written (their name is their
hash), and the clean-up spares files younger than its grace period, so the
files copied after the snapshot are the ones its rows name.

:func:`verify` reads a backup whole and checks every checksum and the dump's
table of contents; :func:`restore` verifies first, then writes the photos,
then restores the dump in one transaction, compares every table's rows with
the manifest, and applies the migrations newer than the backup.  A restore
never writes over a database that holds cities: on the embedded cluster,
``replace`` keeps the old one under another name, and puts it back if the
restore fails.

A backup holds reporters' contacts of its day: after the rows, a restore
removes the contacts past their retention period and carries out again the
erasure requests of the erasure journal (:mod:`sesizari.erasure_log`),
read beside the backup file and in this installation's backups folder, so
a request made after the backup does not come undone.  It is written
readable by its owner only (mode 0600), and its member names are checked
on the way in, so a crafted archive cannot write outside the photo folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import Connection, make_url

from sesizari import db, erasure_log
from sesizari.cluster import APP_DB, find_bindir
from sesizari.erasure_log import Journal
from sesizari.errors import SesizariError
from sesizari.photos import _KEY_RE, thumb_key
from sesizari.settings import Settings, load_settings

if TYPE_CHECKING:
    from sesizari.privacy import Reapplied

FORMAT = "sesizari-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.pgc"
PHOTOS = "photos/"
_CHUNK = 1 << 20

#: ``progress(label, done, total)``: what a long step has done so far.
Progress = Callable[[str, int, int], None]


class BackupError(SesizariError):
    """A backup cannot be made, read or restored; the message says why and what to do."""


@dataclass
class Manifest:
    """What a backup holds, as written in its ``manifest.json``."""

    created_at: str
    migrations: list[str]
    tables: dict[str, int]
    cities: dict[str, int]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing_photos: list[str] = field(default_factory=list)
    server_version: str = ""

    def to_json(self) -> bytes:
        return json.dumps({"format": FORMAT, **self.__dict__}, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes, source: Path) -> Manifest:
        try:
            data = json.loads(raw)
            if data.pop("format", None) != FORMAT:
                raise ValueError("format")
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise BackupError(
                f"{source}: its {MANIFEST} is not one this version of Sesizari reads"
                f" ({FORMAT}); it was not made by `python -m sesizari backup create`, or is damaged"
            ) from exc

    @property
    def photo_count(self) -> int:
        return sum(1 for name in self.files if name.startswith(PHOTOS))


# -- the server's command-line tools ----------------------------------------------


def _tool(name: str) -> str:
    """Path of ``pg_dump``/``pg_restore``: those of the PostgreSQL that serves
    the embedded cluster (the newest with PostGIS), else the one on PATH."""
    try:
        return str(find_bindir() / name)
    except SesizariError:
        found = shutil.which(name)
        if not found:
            raise BackupError(
                f"`{name}` is not installed: on Debian/Ubuntu run `make setup`, or install the"
                " PostgreSQL client of your server's version (postgresql-client-NN)"
            ) from None
        return found


def _conninfo(url: str) -> tuple[str, dict[str, str]]:
    """The libpq connection string of a SQLAlchemy URL, and the environment
    that carries its password (never on a command line, which others can read)."""
    u = make_url(url)
    params: dict[str, str] = {}
    for key, value in u.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    if u.host:
        params["host"] = u.host
    if u.port:
        params["port"] = str(u.port)
    if u.username:
        params["user"] = u.username
    params["dbname"] = u.database or ""
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return make_conninfo(**params), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-5:]
        hint = ""
        if "server version mismatch" in proc.stderr:
            hint = (
                "; install the PostgreSQL client of the server's version"
                " (postgresql-client-NN) and run again"
            )
        raise BackupError(f"{what} failed: {' / '.join(detail) or proc.returncode}{hint}")


# -- what the database holds ------------------------------------------------------


def _tables(conn: Connection) -> list[str]:
    """The tables whose rows a backup carries: every table of ``public``
    except those of extensions (PostGIS's ``spatial_ref_sys``)."""
    return list(
        conn.execute(
            sa.text(
                """
                SELECT c.relname FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                  WHERE d.objid = c.oid AND d.deptype = 'e')
                ORDER BY 1
                """
            )
        ).scalars()
    )


def _row_counts(conn: Connection) -> dict[str, int]:
    counts = {}
    for table in _tables(conn):
        ident = conn.dialect.identifier_preparer.quote(table)
        # A name read from the catalogue, quoted as an identifier.
        sql = f"SELECT count(*) FROM public.{ident}"  # noqa: S608
        counts[table] = conn.execute(sa.text(sql)).scalar_one()
    return counts


def _has_schema(conn: Connection) -> bool:
    return conn.execute(sa.text("SELECT to_regclass('public.cities') IS NOT NULL")).scalar_one()


def _cities(conn: Connection) -> dict[str, int]:
    """Slug -> incidents, of every city."""
    rows = conn.execute(
        sa.text(
            "SELECT c.slug, (SELECT count(*) FROM incidents i WHERE i.city_id = c.city_id)"
            " FROM cities c ORDER BY c.slug"
        )
    )
    return {slug: n for slug, n in rows}


def _migrations(conn: Connection) -> list[str]:
    found = "SELECT to_regclass('public._yoyo_migration') IS NOT NULL"
    if not conn.execute(sa.text(found)).scalar_one():
        return []
    rows = conn.execute(sa.text("SELECT migration_id FROM _yoyo_migration ORDER BY 1"))
    return list(rows.scalars())


# -- writing -------------------------------------------------------------------------


class _Hashing:
    """A file object that hashes what is read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(n)
        self.sha.update(chunk)
        self.size += len(chunk)
        return chunk


def _add(tar: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    """Add ``path`` as ``name``; return its size and SHA-256 as read."""
    with open(path, "rb") as fh:
        info = tar.gettarinfo(fileobj=fh, arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mode = 0o600
        hashing = _Hashing(fh)
        tar.addfile(info, hashing)  # type: ignore[arg-type]
    if hashing.size != info.size:
        raise BackupError(f"{path} changed while it was copied; run the backup again")
    return {"bytes": hashing.size, "sha256": hashing.sha.hexdigest()}


def default_path(settings: Settings | None = None, now: datetime | None = None) -> Path:
    """``var/backups/sesizari-2026-11-28-193005.tar``: local time, seconds
    included, so two backups of one minute do not meet."""
    settings = settings or load_settings()
    at = (now or datetime.now(UTC)).astimezone(ZoneInfo("Europe/Bucharest"))
    return settings.data_dir / "backups" / f"sesizari-{at:%Y-%m-%d-%H%M%S}.tar"


#: Hours after which the newest backup says that the nightly one did not run.
NIGHTLY_HOURS = 26


def backups(settings: Settings | None = None) -> list[Path]:
    """The backups in the default folder (``var/backups``), oldest first."""
    settings = settings or load_settings()
    folder = settings.data_dir / "backups"
    return sorted(folder.glob("sesizari-*.tar"), key=lambda p: p.stat().st_mtime)


def backup_age_hours(path: Path, now: datetime | None = None) -> float:
    """How many hours ago the backup ``path`` was written."""
    made = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return ((now or datetime.now(UTC)) - made).total_seconds() / 3600


def latest_backup(settings: Settings | None = None, now: datetime | None = None) -> str:
    """A line on the newest backup in the default folder, and how old it is:
    a server whose nightly backup stopped says so where the operator looks."""
    settings = settings or load_settings()
    folder = settings.data_dir / "backups"
    found = backups(settings)
    if not found:
        return f"backups: none in {folder} yet (`python -m sesizari backup create`)"
    newest = found[-1]
    hours = backup_age_hours(newest, now)
    age = f"{hours:.0f} hours ago" if hours < 48 else f"{hours / 24:.0f} days ago"
    line = f"latest backup: {newest} ({age}; {len(found)} in the folder)"
    late = hours > NIGHTLY_HOURS
    return line + (" - older than a day: is the nightly backup running?" if late else "")


def create(
    url: str,
    output: Path,
    *,
    photo_root: Path | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Back up the database at ``url`` and the photos it refers to into ``output``.

    The file appears whole or not at all: it is written beside its final
    name and renamed when complete.  An existing file is never overwritten.
    """
    photo_root = photo_root or load_settings().photo_dir
    output = Path(output)
    if output.exists():
        raise BackupError(
            f"{output} already exists; choose another name (a backup is never overwritten)"
        )
    conninfo, env = _conninfo(url)
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    partial = output.with_name(f".{output.name}.partial")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        snapshot_conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with tempfile.TemporaryDirectory(prefix="sesizari-backup-") as tmp, snapshot_conn as conn:
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            if not _has_schema(conn):
                raise BackupError(
                    "the database holds no Sesizari schema: nothing to back up"
                    " (is DATABASE_URL the right database?)"
                )
            manifest = Manifest(
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                migrations=_migrations(conn),
                tables=_row_counts(conn),
                cities=_cities(conn),
                server_version=conn.execute(sa.text("SHOW server_version")).scalar_one(),
            )
            keys = sorted(
                conn.execute(sa.text("SELECT DISTINCT storage_key FROM photos")).scalars()
            )
            if progress:
                progress("database", 0, 1)
            dump = Path(tmp) / DUMP
            _run(
                [_tool("pg_dump"), "-Fc", "--no-comments",
                 "--exclude-table-data=public.spatial_ref_sys",
                 f"--snapshot={snapshot}", "-f", str(dump), "-d", conninfo],
                env, "pg_dump",
            )  # fmt: skip
            conn.rollback()
            if progress:
                progress("database", 1, 1)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
                manifest.files[DUMP] = _add(tar, DUMP, dump)
                names = [n for key in keys for n in (key, thumb_key(key))]
                for k, name in enumerate(names, 1):
                    path = photo_root / name
                    if path.is_file():
                        manifest.files[PHOTOS + name] = _add(tar, PHOTOS + name, path)
                    else:
                        manifest.missing_photos.append(name)
                    if progress and (k % 200 == 0 or k == len(names)):
                        progress("photos", k, len(names))
                body = manifest.to_json()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode, info.mtime = len(body), 0o600, int(time.time())
                tar.addfile(info, _BytesReader(body))
                raw.flush()
                os.fsync(raw.fileno())
        os.replace(partial, output)
    except OSError as exc:
        _remove(partial)
        raise BackupError(
            f"cannot write the backup: {exc}; check the free space and the permissions of"
            f" {output.parent}, or choose another --output"
        ) from exc
    except BaseException:
        _remove(partial)
        raise
    finally:
        engine.dispose()
    return manifest


def _remove(path: Path) -> None:
    """Remove a half-written file, if it could be written at all."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.pos + n
        chunk, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return chunk


# -- reading -------------------------------------------------------------------------


@contextmanager
def _open(path: Path) -> Iterator[tuple[tarfile.TarFile, Manifest]]:
    path = Path(path)
    if path.is_dir():
        backups = sorted(path.glob("sesizari-*.tar"))
        raise BackupError(
            f"{path} is a folder: give the backup file in it"
            + (f" (the newest: {backups[-1]})" if backups else "")
        )
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    try:
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a Sesizari backup (not a tar file: {exc})") from exc
    with tar:
        try:
            member = tar.getmember(MANIFEST)
            fh = tar.extractfile(member)
            raw = fh.read() if fh else b""
        except (KeyError, tarfile.TarError, OSError) as exc:
            raise BackupError(
                f"{path} has no {MANIFEST}: it is not a Sesizari backup, or it was cut short"
            ) from exc
        yield tar, Manifest.from_json(raw, path)


def _members(tar: tarfile.TarFile, manifest: Manifest, path: Path) -> Iterator[tarfile.TarInfo]:
    """The members a backup may hold, refusing any other (a name that could
    lead outside the photo folder, a link, a device)."""
    for member in tar:
        name = member.name
        if name == MANIFEST:
            continue
        allowed = name == DUMP or (
            name.startswith(PHOTOS) and _KEY_RE.match(name[len(PHOTOS) :]) is not None
        )
        if not allowed or not member.isfile() or name not in manifest.files:
            raise BackupError(
                f"{path}: unexpected member {name!r}; the file is not a Sesizari backup"
            )
        yield member


def _copy_checked(src: IO[bytes], dst: IO[bytes] | None, expected: dict[str, Any], name: str,
                  path: Path) -> None:  # fmt: skip
    sha, size = hashlib.sha256(), 0
    while chunk := src.read(_CHUNK):
        sha.update(chunk)
        size += len(chunk)
        if dst is not None:
            dst.write(chunk)
    if size != expected["bytes"] or sha.hexdigest() != expected["sha256"]:
        raise BackupError(
            f"{path}: {name} is damaged (its checksum differs from the manifest's);"
            " use another backup"
        )


def verify(path: Path, *, progress: Progress | None = None) -> Manifest:
    """Read the whole backup: every member's size and SHA-256 against the
    manifest, none missing, and the dump's table of contents.  Raise
    :class:`BackupError` naming the first fault."""
    path = Path(path)
    scratch = tempfile.TemporaryDirectory(prefix="sesizari-verify-")
    with _open(path) as (tar, manifest), scratch as tmp:
        seen: set[str] = set()
        total = len(manifest.files)
        for member in _members(tar, manifest, path):
            fh = tar.extractfile(member)
            assert fh is not None  # a regular file, checked above
            if member.name == DUMP:
                with open(Path(tmp) / DUMP, "wb") as out:
                    _copy_checked(fh, out, manifest.files[DUMP], DUMP, path)
            else:
                _copy_checked(fh, None, manifest.files[member.name], member.name, path)
            seen.add(member.name)
            if progress and (len(seen) % 200 == 0 or len(seen) == total):
                progress("verify", len(seen), total)
        missing = sorted(set(manifest.files) - seen)
        if missing:
            raise BackupError(f"{path}: {len(missing)} files named in the manifest are missing"
                              f" ({missing[0]} ...); the backup was cut short")  # fmt: skip
        _run([_tool("pg_restore"), "--list", str(Path(tmp) / DUMP)], dict(os.environ),
             f"{path}: reading the database dump")  # fmt: skip
    return manifest


# -- restoring ------------------------------------------------------------------------


@dataclass
class Restored:
    """What :func:`restore` did."""

    manifest: Manifest
    photos_written: int
    photos_present: int
    migrations_applied: list[str]
    contacts_expired: dict[str, int]
    kept_as: str | None = None
    #: The erasure journals read, and what carrying their requests out again did.
    journal: Journal | None = None
    erasures: Reapplied | None = None


def _check_version(manifest: Manifest, path: Path) -> None:
    known = {p.stem for p in db.MIGRATIONS_DIR.glob("*.sql") if p.stem != "post-apply"}
    unknown = sorted(set(manifest.migrations) - known)
    if unknown:
        raise BackupError(
            f"{path} was made by a newer version of Sesizari (migration {unknown[0]} is unknown"
            " here); install that version or newer, then restore"
        )


def _write_photos(tar: tarfile.TarFile, manifest: Manifest, path: Path, root: Path,
                  progress: Progress | None) -> tuple[int, int]:  # fmt: skip
    """Write the backup's photos into the store, each atomically; a file
    already there with the same content is left alone."""
    written = present = 0
    total = manifest.photo_count
    for member in _members(tar, manifest, path):
        if member.name == DUMP:
            continue
        expected = manifest.files[member.name]
        target = root / member.name[len(PHOTOS) :]
        if target.is_file() and target.stat().st_size == expected["bytes"]:
            with open(target, "rb") as fh:
                if hashlib.file_digest(fh, "sha256").hexdigest() == expected["sha256"]:
                    present += 1
                    continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                src = tar.extractfile(member)
                assert src is not None
                _copy_checked(src, out, expected, member.name, path)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written += 1
        if progress and ((written + present) % 200 == 0 or written + present == total):
            progress("photos", written + present, total)
    return written, present


class _Mismatch(BackupError):
    """The restored rows differ from the manifest's."""


def _describe(cities: dict[str, int]) -> str:
    return ", ".join(f"{slug} ({n} incidents)" for slug, n in cities.items())


def _prepare_embedded(settings: Settings, replace: bool) -> tuple[str, str | None]:
    """Make the embedded cluster's database ready for a restore; return its
    URL and, with ``replace``, the name the previous database is kept under."""
    cluster = db.embedded_cluster(settings)
    cluster.start()
    cluster.ensure_database()
    url = cluster.url()
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            schema = _has_schema(conn)
            cities = _cities(conn) if schema else {}
    finally:
        engine.dispose()
    if cities and not replace:
        raise BackupError(
            f"the database already holds {_describe(cities)}; nothing was changed. Add --replace"
            " to keep it under another name and restore beside it"
        )
    kept_as = None
    others = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'sesizari'"
    if cities:
        kept_as = f"{APP_DB}_before_restore_{datetime.now(UTC):%Y%m%d%H%M%S}"
        cluster.psql(others)
        cluster.psql(f'ALTER DATABASE "{APP_DB}" RENAME TO "{kept_as}"')
    elif schema:  # migrated, no city: nothing to keep
        cluster.psql(f'DROP DATABASE "{APP_DB}" WITH (FORCE)')
    cluster.ensure_database()
    return url, kept_as


def _undo_embedded(settings: Settings, kept_as: str | None) -> None:
    """After a failed restore: the previous database back under its name."""
    cluster = db.embedded_cluster(settings)
    cluster.psql(f'DROP DATABASE IF EXISTS "{APP_DB}" WITH (FORCE)')
    if kept_as:
        cluster.psql(f'ALTER DATABASE "{kept_as}" RENAME TO "{APP_DB}"')
    cluster.ensure_database()


def _check_external(url: str) -> None:
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if not _has_schema(conn):
                return
            cities = _cities(conn)
    except sa.exc.OperationalError as exc:
        raise BackupError(f"cannot reach DATABASE_URL's server: {exc.orig}") from exc
    finally:
        engine.dispose()
    held = f"holds {_describe(cities)}" if cities else "already holds the Sesizari schema"
    raise BackupError(
        f"the database of DATABASE_URL {held}; nothing was changed. Restore into a new empty"
        " database with PostGIS (README, Backups) and point DATABASE_URL at it"
    )


def restore(
    path: Path,
    *,
    settings: Settings | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> Restored:
    """Restore a backup into the configured database and photo store.

    The target must hold no city, unless ``replace`` (embedded cluster only)
    keeps the current database as ``sesizari_before_restore_<time>``.  The
    dump is restored in one transaction; if it or the row check fails, the
    target is as it was before (on the embedded cluster, the previous
    database is put back).  Photos are written before the database, so a
    restored row never names a missing file; an interrupted restore leaves
    only unreferenced files, which ``photos clean`` removes.
    """
    from sesizari.privacy import expire_contacts, reapply_erasures

    settings = settings or load_settings()
    path = Path(path)
    manifest = verify(path, progress=progress)
    # Read before anything is written: a journal that cannot be read stops the restore here.
    journal = erasure_log.read([path.parent / erasure_log.JOURNAL,
                                erasure_log.journal_path(settings)])  # fmt: skip
    _check_version(manifest, path)
    if settings.embedded:
        url, kept_as = _prepare_embedded(settings, replace)
    else:
        if replace:
            raise BackupError(
                "--replace works on the embedded cluster only; with DATABASE_URL, restore into a"
                " new empty database and point DATABASE_URL at it"
            )
        url, kept_as = settings.database_url or "", None
        _check_external(url)
    try:
        try:
            with _open(path) as (tar, _):
                written, present = _write_photos(tar, manifest, path, settings.photo_dir,
                                                 progress)  # fmt: skip
        except OSError as exc:
            raise BackupError(
                f"cannot write the photos: {exc}; check the free space and the permissions of"
                f" SESIZARI_PHOTO_DIR ({settings.photo_dir})"
            ) from exc
        conninfo, env = _conninfo(url)
        scratch = tempfile.TemporaryDirectory(prefix="sesizari-restore-")
        with _open(path) as (tar, _), scratch as tmp:
            dump = Path(tmp) / DUMP
            src = tar.extractfile(DUMP)
            assert src is not None
            with open(dump, "wb") as out:
                _copy_checked(src, out, manifest.files[DUMP], DUMP, path)
            if progress:
                progress("database", 0, 1)
            _run(
                [_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner",
                 # Grants name roles this server may not have; the migrations grant again.
                 "--no-privileges", "-d", conninfo, str(dump)],
                env, "pg_restore",
            )  # fmt: skip
            if progress:
                progress("database", 1, 1)
        engine = db.make_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                counts = _row_counts(conn)
        finally:
            engine.dispose()
        differ = {t: (n, counts.get(t)) for t, n in manifest.tables.items() if counts.get(t) != n}
        if differ:
            table, (want, got) = next(iter(differ.items()))
            raise _Mismatch(
                f"the restored database does not match the backup ({table}: {got} rows, the"
                f" backup has {want})"
            )
    except BaseException as exc:
        if settings.embedded:
            _undo_embedded(settings, kept_as)
        elif isinstance(exc, _Mismatch):
            raise BackupError(
                f"{exc}. The database of DATABASE_URL holds this incomplete restore: drop it,"
                " create it again empty (README, Backups) and restore another backup"
            ) from exc
        raise
    applied = db.migrate(url)
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        expired = expire_contacts(engine)
        erasures = reapply_erasures(engine, journal)
    finally:
        engine.dispose()
    return Restored(manifest, written, present, applied, expired, kept_as, journal, erasures)


def describe(manifest: Manifest) -> str:
    """A few lines on what a backup holds, for the command line."""
    size = sum(f["bytes"] for f in manifest.files.values())
    last = manifest.migrations[-1] if manifest.migrations else "-"
    lines = [
        f"made {manifest.created_at} (PostgreSQL {manifest.server_version}),"
        f" {len(manifest.migrations)} migrations, the last {last}",
        f"cities: {_describe(manifest.cities) or 'none'}",
        f"rows: {sum(manifest.tables.values())} in {len(manifest.tables)} tables;"
        f" photo files: {manifest.photo_count}; {size / 1e6:.1f} MB",
    ]
    if manifest.missing_photos:
        lines.append(
            f"{len(manifest.missing_photos)} photo files were missing from the store when it was"
            f" made ({manifest.missing_photos[0]} ...)"
        )
    return "\n".join(lines)


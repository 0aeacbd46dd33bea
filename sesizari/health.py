"""Is the installation doing its work?  ``python -m sesizari check``.

The platform leans on jobs that run beside it (the nightly backup, the
e-mail sender, the mailbox import, the feeds) and on folders it must be
able to write (photos, the erasure journal).  Each fails quietly: a
sender that stopped leaves messages waiting, a full disk refuses the next
photo.  :func:`check` looks at each and says, in one line, what is wrong
and what to do; a monitoring system runs the command and reads its exit
status.  It changes nothing (it does not start the embedded cluster).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from sesizari import db, erasure_log
from sesizari.backup import NIGHTLY_HOURS, backup_age_hours, backups
from sesizari.mailer import mail_settings_missing
from sesizari.settings import SETTINGS_DOC, Settings, load_settings

#: A message waiting longer than this says the sender (`notify send`) is not running.
OUTBOX_LATE = timedelta(minutes=30)
#: A mailbox not read for this long, after it was read before, says the import stopped.
INBOX_LATE = timedelta(days=1)
#: A feed run still "running" after this was cut off (a crash or kill -9).
FEED_STUCK = timedelta(hours=6)

LEVELS = ("ok", "warn", "fail")


@dataclass(frozen=True)
class Finding:
    """One thing looked at: ``ok``, ``warn`` (works, needs a look) or ``fail`` (broken)."""

    level: str
    what: str
    says: str

    def __str__(self) -> str:
        return f"{self.level:<4}  {self.what:<16}  {self.says}"


def _writable(folder: Path) -> str | None:
    """None when a file can be written in ``folder``, or ``folder`` can be made
    (then its nearest existing parent is tried: nothing is created); else why not."""
    target = folder
    while not target.exists() and target != target.parent:
        target = target.parent
    if not target.is_dir():
        return f"{target} is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".check-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _folders(settings: Settings) -> list[Finding]:
    found = []
    for what, folder, use in (
        ("photos", settings.photo_dir, "photos cannot be stored (SESIZARI_PHOTO_DIR)"),
        ("erasure journal", erasure_log.journal_path(settings).parent,
         "erasure requests fail until it can be written (SESIZARI_DATA_DIR)"),
    ):  # fmt: skip
        why = _writable(folder)
        found.append(Finding("fail", what, f"{folder} cannot be written ({why}): {use}")
                     if why else Finding("ok", what, f"{folder} is writable"))  # fmt: skip
    return found


def _backups(settings: Settings, now: datetime) -> Finding:
    found = backups(settings)
    if not found:
        return Finding("warn", "backups", f"none in {settings.data_dir / 'backups'}: run"
                       " `python -m sesizari backup create` each night (README, Backups)")
    hours = backup_age_hours(found[-1], now)
    if hours > NIGHTLY_HOURS:
        return Finding("warn", "backups", f"the newest, {found[-1].name}, is {hours:.0f} hours"
                       " old: is the nightly `backup create` running?")
    return Finding("ok", "backups", f"the newest, {found[-1].name}, is {hours:.0f} hours old")


def _secret(settings: Settings) -> Finding:
    """The salt of the client hashes (rate limits, sign-in failures): left at
    its published default, anyone can recompute which address made a report."""
    if settings.secret == SETTINGS_DOC["SESIZARI_SECRET"][0]:
        return Finding("warn", "secret", "SESIZARI_SECRET is the published default: set a"
                       " random value in .env (`python -c 'import secrets;"
                       " print(secrets.token_hex(32))'`)")
    return Finding("ok", "secret", "SESIZARI_SECRET is set")


def _database(settings: Settings) -> tuple[Finding, str | None]:
    if settings.embedded:
        cluster = db.embedded_cluster(settings)
        if not cluster.initialised or not cluster.is_running():
            return Finding("fail", "database", f"the embedded cluster is {cluster.status()}:"
                           " `python -m sesizari db start`"), None
    url = db.database_url(settings, start=False)  # checked by load_settings
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar_one()
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return Finding("fail", "database", f"cannot connect ({reason}): check DATABASE_URL"
                       " and that the server runs"), None
    finally:
        engine.dispose()
    return Finding("ok", "database", f"PostgreSQL {version} answers"), url


def _migrations(url: str) -> Finding:
    pending = db.pending_migrations(url)
    if pending:
        return Finding("fail", "migrations", f"{len(pending)} not applied ({pending[0]} ...):"
                       " `python -m sesizari db migrate`")
    return Finding("ok", "migrations", "all applied")


_OUTBOX = sa.text(
    "SELECT count(*) FILTER (WHERE status = 'pending' AND next_attempt_at < :late) AS late,"
    " count(*) FILTER (WHERE status = 'failed') AS failed FROM notifications"
)

_INBOX = sa.text(
    "SELECT c.slug, max(m.imported_at) FROM cities c JOIN inbound_messages m USING (city_id)"
    " GROUP BY c.slug ORDER BY c.slug"
)

#: Each city's and source's latest feed run.
_FEEDS = sa.text(
    "SELECT DISTINCT ON (f.city_id, f.source) c.slug, f.source, f.status, f.started_at, f.error"
    " FROM feed_runs f JOIN cities c USING (city_id)"
    " ORDER BY f.city_id, f.source, f.started_at DESC"
)


def _work(url: str, settings: Settings, now: datetime) -> list[Finding]:
    """What the jobs beside the platform left: e-mails, the mailbox, the feeds."""
    found: list[Finding] = []
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            late, failed = conn.execute(_OUTBOX, {"late": now - OUTBOX_LATE}).one()
            read = conn.execute(_INBOX).all()
            feeds = conn.execute(_FEEDS).all()
    finally:
        engine.dispose()
    minutes = int(OUTBOX_LATE.total_seconds() // 60)
    if late:
        missing = mail_settings_missing(settings)
        cause = (f"set {', '.join(missing)}" if missing
                 else "is `python -m sesizari notify send` running?")  # fmt: skip
        found.append(Finding("warn", "e-mails", f"{late} waiting for more than {minutes}"
                             f" minutes: {cause}"))  # fmt: skip
    if failed:
        found.append(Finding("warn", "e-mails", f"{failed} could not be delivered: see"
                             " Administration, E-mailuri (`notify status --city SLUG`)"))
    if not late and not failed:
        found.append(Finding("ok", "e-mails", "none late, none failed"))
    for slug, last in read:
        age = now - last
        if age > INBOX_LATE:
            found.append(Finding("warn", f"mailbox {slug}", f"last read {age.days} days ago:"
                                 " is `inbox import` running?"))  # fmt: skip
        else:
            found.append(Finding("ok", f"mailbox {slug}", "read within the day"))
    for slug, source, status, started, error in feeds:
        what = f"feed {slug}/{source}"
        if status in ("failed", "aborted"):
            said = (error or status).strip().splitlines()[0][:200]
            found.append(Finding("warn", what, f"the latest run {status}: {said}"
                                 " (`python -m etl runs`)"))  # fmt: skip
        elif status == "running" and now - started > FEED_STUCK:
            found.append(Finding("warn", what, f"a run started {started:%Y-%m-%d %H:%M} UTC"
                                 " never finished: run the feed again to complete it"))
        else:
            found.append(Finding("ok", what, f"the latest run {status}"))
    return found


def check(settings: Settings | None = None, now: datetime | None = None) -> list[Finding]:
    """Look at everything; the database's findings stop at the first that fails."""
    settings = settings or load_settings()
    now = now or datetime.now(UTC)
    found = [*_folders(settings), _backups(settings, now), _secret(settings)]
    database, url = _database(settings)
    found.append(database)
    if url is not None:
        migrations = _migrations(url)
        found.append(migrations)
        if migrations.level == "ok":
            found += _work(url, settings, now)
    return found


def worst(findings: list[Finding]) -> str:
    """The most serious level among ``findings``."""
    return max((f.level for f in findings), key=LEVELS.index, default="ok")

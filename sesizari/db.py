"""Engines and migrations: the only place that knows where the database is.

``database_url()`` answers "which PostGIS do we use": ``DATABASE_URL`` when set,
else the embedded cluster, started on demand.  ``migrate()`` applies the
numbered SQL files of ``sql/migrations`` with yoyo, the same way for the demo,
the tests and production.  ``get_read_engine()`` is the one the dashboard's
analytics use: a login that can only read (RELIABILITY R6).
"""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sesizari.cluster import READ_ROLE, Cluster
from sesizari.errors import ValidationError
from sesizari.settings import REPO_ROOT, Settings, load_settings

MIGRATIONS_DIR = REPO_ROOT / "sql" / "migrations"


def embedded_cluster(settings: Settings | None = None) -> Cluster:
    """The project's own cluster, as configured (not started)."""
    settings = settings or load_settings()
    return Cluster(
        root=settings.data_dir / "pg",
        port=settings.pg_port,
        listen=settings.pg_listen,
        server_user=settings.pg_user,
    )


def database_url(settings: Settings | None = None, start: bool = True) -> str:
    """URL of the database to use; starts and prepares the embedded cluster if needed."""
    settings = settings or load_settings()
    if settings.database_url:
        return settings.database_url
    cluster = embedded_cluster(settings)
    if start:
        cluster.start()
        cluster.ensure_database()
    return cluster.url()


def unreachable(exc: BaseException) -> bool:
    """Whether an operational error means the server cannot be reached (no
    connection, or one lost or refused: SQLSTATE class 08, 57P01-57P03 for a
    server shutting down or starting), not a statement's own failure (a lock
    or statement timeout, a full disk), which has another cause."""
    orig = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None)
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


def make_engine(url: str, **kwargs: object) -> Engine:
    """A SQLAlchemy engine with the project's defaults (UTC sessions, pre-ping,
    parameters kept out of error messages: they hold what citizens wrote and
    their contacts, and a message ends in a log).

    Every statement's parameters are checked for NUL characters first
    (:func:`_refuse_nul`), so text PostgreSQL cannot store is a
    :class:`ValidationError` with the parameter's name, wherever it came from.
    """
    options: dict[str, object] = {
        "pool_pre_ping": True,
        "hide_parameters": True,
        "connect_args": {"options": "-c timezone=UTC"},
    }
    options.update(kwargs)
    engine = sa.create_engine(url, **options)
    sa.event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


def describe_error(exc: BaseException) -> str:
    """What went wrong with a statement, for a log: the error's class, its
    SQLSTATE, and the constraint, table and column it names; never the
    values (PostgreSQL's DETAIL quotes the refused row, contacts included)."""
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    if diag is None:
        return type(exc).__name__
    named = [f"{what} {value}" for what, value in (
        ("constraint", diag.constraint_name), ("table", diag.table_name),
        ("column", diag.column_name)) if value]  # fmt: skip
    return " ".join([type(orig).__name__, diag.sqlstate or "", *named]).strip()


def _nul_in(value: object, name: str) -> str | None:
    """Name of the first text in ``value`` (nested JSON too) holding a NUL, or None."""
    if isinstance(value, str):
        return name if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_in(key, name) or _nul_in(item, f"{name}.{key}" if name else str(key))
            if found:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = _nul_in(item, name)
            if found:
                return found
    return None


def _refuse_nul(conn, cursor, statement, parameters, context, executemany) -> None:
    """Refuse a NUL character before PostgreSQL does.

    PostgreSQL's text (and JSON) cannot hold U+0000.  Without this, a NUL
    pasted into any form field (a description, a user name, a search) ended
    as a driver ``DataError``: a traceback on the page instead of a message.
    """
    found = _nul_in(parameters, "")
    if found is not None:
        raise ValidationError(
            found or "text", "text cannot contain a NUL character (\\x00); remove it"
        )


def get_engine() -> Engine:
    """The process-wide engine for the configured database, migrated on first use."""
    return _engine_for(database_url())


@functools.cache
def _engine_for(url: str) -> Engine:
    migrate(url)
    return make_engine(url)


def read_database_url(settings: Settings | None = None) -> str:
    """URL of the login the analytics read through.

    ``SESIZARI_READ_DATABASE_URL`` when set; the embedded cluster's
    ``sesizari_reader`` (granted SELECT by ``sql/migrations/post-apply.sql``);
    otherwise ``DATABASE_URL`` itself, whose reads still run in read-only
    transactions (weaker: a login that may write can switch that off).
    """
    settings = settings or load_settings()
    if settings.read_database_url:
        return settings.read_database_url
    if settings.database_url:
        return settings.database_url
    return embedded_cluster(settings).url(user=READ_ROLE)


def get_read_engine() -> Engine:
    """The process-wide engine of the dashboard's analytics: reads only.

    User input reaches SQL through the analytics' filters; they bind it as
    parameters, and this engine is the second line: its login may only read,
    and not the tables of personal data or secrets (``post-apply.sql``), and
    every transaction is read-only.
    """
    get_engine()  # started and migrated (the grants come with the migrations)
    return _read_engine_for(read_database_url())


@functools.cache
def _read_engine_for(url: str) -> Engine:
    return make_engine(
        url, connect_args={"options": "-c timezone=UTC -c default_transaction_read_only=on"}
    )


def _yoyo_url(url: str) -> str:
    # yoyo names the psycopg 3 backend the same way SQLAlchemy does.
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def pending_migrations(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """The ids of the migrations not yet applied to ``url``'s database (changes nothing)."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(_yoyo_url(url))
    try:
        return [m.id for m in backend.to_apply(read_migrations(str(migrations_dir)))]
    finally:
        backend.connection.close()


def migrate(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; return the ids applied (empty when up to date)."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(_yoyo_url(url))
    migrations = read_migrations(str(migrations_dir))
    applied: list[str] = []
    with backend.lock():
        pending = backend.to_apply(migrations)
        applied = [m.id for m in pending]
        backend.apply_migrations_only(pending)
        # yoyo runs post-apply.sql only after new migrations; the grants of a
        # read-only role created since (README) must not wait for the next one.
        backend.run_post_apply(migrations)
    backend.connection.close()
    return applied

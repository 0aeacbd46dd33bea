"""Engines and migrations: the only place that knows where the database is.

``database_url()`` answers "which PostGIS do we use": ``DATABASE_URL`` when set,
else the embedded cluster, started on demand.  ``migrate()`` applies the
numbered SQL files of ``sql/migrations`` with yoyo, the same way for the demo,
the tests and production.
"""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sesizari.cluster import Cluster
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


def make_engine(url: str, **kwargs: object) -> Engine:
    """A SQLAlchemy engine with the project's defaults (UTC sessions, pre-ping)."""
    options: dict[str, object] = {
        "pool_pre_ping": True,
        "connect_args": {"options": "-c timezone=UTC"},
    }
    options.update(kwargs)
    return sa.create_engine(url, **options)


def get_engine() -> Engine:
    """The process-wide engine for the configured database, migrated on first use."""
    return _engine_for(database_url())


@functools.cache
def _engine_for(url: str) -> Engine:
    migrate(url)
    return make_engine(url)


def _yoyo_url(url: str) -> str:
    # yoyo names the psycopg 3 backend the same way SQLAlchemy does.
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def migrate(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; return the ids applied (empty when up to date)."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(_yoyo_url(url))
    migrations = read_migrations(str(migrations_dir))
    applied: list[str] = []
    with backend.lock():
        pending = backend.to_apply(migrations)
        applied = [m.id for m in pending]
        backend.apply_migrations(pending)
    backend.connection.close()
    return applied

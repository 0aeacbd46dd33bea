"""Test fixtures: a real PostgreSQL + PostGIS cluster started for the session.

The cluster lives in a temporary folder (fsync off: tests need no durability)
and is managed by the same :class:`sesizari.cluster.Cluster` as the embedded
default.  A template database is migrated once; each test that writes gets a
fresh copy (``CREATE DATABASE ... TEMPLATE``), so tests never see each other.
With ``TEST_DATABASE_URL`` unset this never touches any other server.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely.geometry import box
from sqlalchemy.engine import Engine

from sesizari import catalog, db
from sesizari.cluster import Cluster

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
# A checkout's own settings file (.env: a real DATABASE_URL, a mail server)
# never reaches the tests, nor the commands they start.
os.environ["SESIZARI_ENV_FILE"] = str(REPO / "tests" / "no-such.env")
ARTIFACTS = REPO / "test-artifacts"
TEMPLATE = "sesizari_template"
DEMO_TEMPLATE = "sesizari_demo"
#: Fixed end of the demo history in tests, so figures are reproducible.
DEMO_AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DEMO_INCIDENTS = 3000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="sz-test-", dir="/tmp"))
    os.chmod(root, 0o755)
    cluster = Cluster(root=root / "pg", port=_free_port(), fast=True)
    cluster.start()
    cluster.ensure_database(TEMPLATE)
    db.migrate(cluster.url(TEMPLATE))
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


def clone_database(cluster: Cluster, template: str) -> str:
    # uuid, not a counter: this module is imported twice (as conftest and as tests.conftest)
    name = f"t_{uuid.uuid4().hex[:16]}"
    cluster.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" OWNER sesizari')
    return name


def migrations_before(folder: Path, first_left_out: str) -> None:
    """Copy into ``folder`` the migrations numbered below ``first_left_out``
    ("0044"), and the files run after every migration: a database migrated
    from ``folder`` is one an older version left behind."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in db.MIGRATIONS_DIR.glob("*.sql"):
        if not p.name[:4].isdigit() or p.name[:4] < first_left_out:
            shutil.copy(p, folder / p.name)


def migrations_but_the_newest(folder: Path) -> Path:
    """Copy every migration but the newest into ``folder``; return the newest."""
    newest = sorted(db.MIGRATIONS_DIR.glob("0*.sql"))[-1]
    migrations_before(folder, newest.name[:4])
    return newest


@pytest.fixture
def engine(pg_cluster: Cluster) -> Iterator[Engine]:
    """A fresh, migrated, empty database for one test."""
    name = clone_database(pg_cluster, TEMPLATE)
    eng = db.make_engine(pg_cluster.url(name), pool_size=10, max_overflow=60)
    yield eng
    eng.dispose()
    pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def demo_template(pg_cluster: Cluster) -> str:
    """A database holding a small, fixed demo (3,000 incidents), used only as a template."""
    from sesizari.demo.load import load_demo

    pg_cluster.psql(f'CREATE DATABASE "{DEMO_TEMPLATE}" TEMPLATE "{TEMPLATE}" OWNER sesizari')
    eng = db.make_engine(pg_cluster.url(DEMO_TEMPLATE))
    load_demo(eng, total=DEMO_INCIDENTS, seed=7, as_of=DEMO_AS_OF)
    eng.dispose()
    return DEMO_TEMPLATE


@pytest.fixture(scope="session")
def demo_database(pg_cluster: Cluster, demo_template: str) -> str:
    """Name of a session-wide copy of the demo, for tests that only read."""
    return clone_database(pg_cluster, demo_template)


@pytest.fixture
def demo_copy(pg_cluster: Cluster, demo_template: str) -> Iterator[str]:
    """URL of a private copy of the demo, for one test that writes."""
    name = clone_database(pg_cluster, demo_template)
    yield pg_cluster.url(name)
    pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def demo(demo_copy: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    """A private copy of the demo as the database of the app under test; its engine.

    The app reads ``DATABASE_URL`` and its own data folder (photos, the
    erasure journal) from the environment, so both point at this test's;
    Streamlit's caches are process-wide, so each test starts them afresh.
    """
    import streamlit as st

    monkeypatch.setenv("DATABASE_URL", demo_copy)
    monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path / "var"))
    st.cache_data.clear()
    st.cache_resource.clear()
    eng = db.make_engine(demo_copy)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_engine(pg_cluster: Cluster, demo_database: str) -> Iterator[Engine]:
    eng = db.make_engine(pg_cluster.url(demo_database))
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright (``tests/browser_support.py``), one per module."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import ARGS, CHROMIUM

    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


# A small square "city" for domain tests: 0.1 x 0.1 degrees around Lugoj.
TEST_LON, TEST_LAT = 21.90, 45.69
TEST_BOUNDARY = box(21.85, 45.64, 21.95, 45.74)


@pytest.fixture
def city(engine: Engine) -> dict[str, object]:
    """A test city with two departments, three categories, users and an area rule."""
    with engine.begin() as conn:
        cid = catalog.create_city(
            conn,
            slug="testville",
            name_ro="Testville",
            name_en="Testville",
            registry_prefix="TST",
            boundary=TEST_BOUNDARY,
        )
        catalog.create_department(conn, cid, "roads", "Drumuri", "Roads")
        catalog.create_department(conn, cid, "lighting", "Iluminat", "Lighting")
        catalog.create_department(conn, cid, "police", "Poliția Locală", "Local police")
        catalog.create_category(conn, cid, "pothole", "Groapă", "Pothole", "roads", 72)
        catalog.create_category(conn, cid, "street_light", "Iluminat", "Light", "lighting", 48)
        catalog.create_category(conn, cid, "noise", "Zgomot", "Noise", "police", 4, True)
        catalog.create_user(
            conn, cid, username="ana", full_name="Ana", role="staff", department_code="roads"
        )
        catalog.create_user(
            conn, cid, username="ion", full_name="Ion", role="staff", department_code="lighting"
        )
    return {"city_id": cid, "slug": "testville"}


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()

"""A load interrupted by SIGKILL of the loader and by an immediate stop of the
server, on a cluster of its own with fsync on: after each interruption only
whole batches are visible, with their events, registry numbers and run
counts; the next run completes the load exactly.
``bench/crash_drill.py`` runs the same drill at 1,000,000 rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.crash_drill import drill, write_rows
from bench.etl_bench import _make_city
from sesizari import db
from sesizari.cluster import Cluster
from tests.conftest import _free_port

ROWS, BATCH = 20_000, 500


@pytest.fixture
def durable_cluster():
    root = Path(tempfile.mkdtemp(prefix="sz-crash-", dir="/tmp"))
    os.chmod(root, 0o755)
    cluster = Cluster(root=root / "pg", port=_free_port(), fast=False)
    cluster.start()
    cluster.ensure_database("drill")
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


def test_a_load_killed_and_a_server_crash_leave_whole_batches(durable_cluster):
    cluster = durable_cluster
    url = cluster.url("drill")
    db.migrate(url)
    engine = db.make_engine(url)
    city = _make_city(engine, "drill", "DRL")["city"]
    engine.dispose()
    csv_path = cluster.root / "drill.csv"
    write_rows(csv_path, ROWS)

    rounds = drill(cluster, url, csv_path, "drill", city, ROWS, BATCH,
                   [(0.2, "loader"), (0.5, "server")], log=lambda line: None)

    assert [r.how for r in rounds] == ["loader SIGKILL", "server -m immediate", "complete"]
    for r in rounds[:2]:
        assert r.at >= r.target  # it was interrupted mid-load...
        assert r.target <= r.visible < ROWS  # ...and kept what it had committed
    for r in rounds:
        assert r.whole_batches and r.consistent and r.unlogged == 0, r
    assert rounds[-1].visible == ROWS
    engine = db.make_engine(url)
    with engine.connect() as conn:
        statuses = conn.execute(sa.text("SELECT status FROM feed_runs ORDER BY run_id")).all()
    engine.dispose()
    assert [s for (s,) in statuses] == ["aborted", "aborted", "succeeded"]

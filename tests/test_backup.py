"""A pg_dump backup of the database restores whole, generated columns included.

pg_restore loads table data with an empty ``search_path``; a function that a
generated column calls must therefore find everything it uses by its schema
(migration 0014), or the restore of ``incidents`` fails.
"""

from __future__ import annotations

import subprocess
import uuid

import sqlalchemy as sa

from sesizari import db
from sesizari.cluster import APP_ROLE
from sesizari.incidents import NewIncident, create_incident
from tests.conftest import TEST_LAT, TEST_LON

ROWS = (
    "SELECT registry_number, x3844, y3844, hex250 FROM incidents ORDER BY registry_number"
)
GRID = "SELECT city_id, key FROM city_hex_grid ORDER BY 1, 2"
ROLLUP = "SELECT * FROM incident_daily ORDER BY 1, 2, 3, 4, 5, 6"


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_a_backup_restores_into_an_empty_database(pg_cluster, engine, city, tmp_path):
    for k in range(3):
        create_incident(
            engine,
            NewIncident(city="testville", category="pothole", latitude=TEST_LAT + k / 1000,
                        longitude=TEST_LON, description=f"Groapă {k}"),
        )  # fmt: skip
    connect = ["-h", str(pg_cluster.socket_dir), "-p", str(pg_cluster.port), "-U", APP_ROLE]
    dump = tmp_path / "backup.pgc"
    subprocess.run(
        [str(pg_cluster.bindir / "pg_dump"), *connect, "-Fc", "--no-comments",
         # PostGIS's own table: its rows come with the extension.
         "--exclude-table-data=public.spatial_ref_sys",
         "-f", str(dump), engine.url.database],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    target = f"restored_{uuid.uuid4().hex[:8]}"
    pg_cluster.ensure_database(target)
    restore = subprocess.run(
        [str(pg_cluster.bindir / "pg_restore"), *connect, "--exit-on-error",
         # Grants name roles the target server may not have; the next start grants again.
         "--no-privileges", "-d", target, str(dump)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert restore.returncode == 0, restore.stderr
    reader_may = "SELECT has_table_privilege('sesizari_reader', 'incidents', 'SELECT')"
    assert pg_cluster.psql(reader_may, database=target) == "f"
    assert db.migrate(pg_cluster.url(target)) == []  # what the application's start runs
    assert pg_cluster.psql(reader_may, database=target) == "t"
    restored = db.make_engine(pg_cluster.url(target))
    try:
        assert len(_rows(restored, ROWS)) == 3
        assert _rows(restored, ROWS) == _rows(engine, ROWS)
        assert _rows(restored, GRID) == _rows(engine, GRID) != []
        assert _rows(restored, ROLLUP) == _rows(engine, ROLLUP) != []
        # The restored database keeps its rollup current.
        create_incident(
            restored,
            NewIncident(city="testville", category="pothole", latitude=TEST_LAT,
                        longitude=TEST_LON, description="După restaurare"),
        )  # fmt: skip
        assert _rows(restored, "SELECT sum(n) FROM incident_daily") == [(4,)]
    finally:
        restored.dispose()

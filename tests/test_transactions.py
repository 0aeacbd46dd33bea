"""A write that PostgreSQL cancels for a deadlock is run again, not lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from etl.load import load_file
from sesizari.incidents import NewIncident, create_incident
from sesizari.transactions import run_in_transaction
from tests.conftest import TEST_LAT, TEST_LON
from tests.etl_helpers import row, test_mapping, write_csv
from tests.test_rollup import assert_rollup_exact, stored


def _report(text: str) -> NewIncident:
    return NewIncident(
        city="testville", category="pothole", latitude=TEST_LAT, longitude=TEST_LON,
        description=text,
    )  # fmt: skip


def _waiting_for_a_lock(engine: sa.Engine, seconds: float = 10.0) -> bool:
    """Whether another backend is waiting for a row lock within ``seconds``."""
    deadline = time.monotonic() + seconds
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND pid <> pg_backend_pid() AND datname = current_database()"
    )
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(query).scalar_one() > 0:
                return True
            conn.rollback()
            time.sleep(0.05)
    return False


def _insert_pothole(
    conn: sa.Connection, city_id: int, number: str, created: str | None
) -> None:
    """A new pothole of the test city, written as another writer would (no counter)."""
    conn.execute(
        sa.text(
            "INSERT INTO incidents (city_id, registry_number, category_id, department_id,"
            " channel, geom, description, created_at)"
            " SELECT c.city_id, :n, c.category_id, c.default_department_id,"
            " 'web', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'Alt scriitor',"
            " COALESCE(CAST(:t AS timestamptz), now())"
            " FROM categories c WHERE c.city_id = :c AND c.code = 'pothole'"
        ),
        {"c": city_id, "n": number, "lon": TEST_LON, "lat": TEST_LAT, "t": created},
    )


def _deadlock(
    engine: sa.Engine, city_id: int, created: str | None, run: Callable[[], object]
) -> dict[str, object]:
    """Another writer takes the rollup rows of a pothole created at ``created``;
    ``run`` (in a thread) takes the registry counter and waits for them; the
    other writer then wants the counter.  Returns what ``run`` returned or raised."""
    other = engine.connect()
    outcome: dict[str, object] = {}
    try:
        other.begin()
        _insert_pothole(other, city_id, "TST-2026-900001", created)

        def work() -> None:
            try:
                outcome["result"] = run()
            except Exception as exc:  # recorded for the caller's assertions
                outcome["error"] = exc

        worker = threading.Thread(target=work)
        worker.start()
        assert _waiting_for_a_lock(engine), "the writer should wait for the rollup row"
        # PostgreSQL cancels the transaction whose wait reaches deadlock_timeout
        # first: let the writer's start well ahead of the one below.
        time.sleep(0.3)
        # Blocks until PostgreSQL cancels the waiting writer (deadlock_timeout).
        other.execute(
            sa.text("SELECT last_value FROM registry_counters WHERE city_id = :c FOR UPDATE"),
            {"c": city_id},
        )
        other.commit()
        worker.join(timeout=60)
        assert not worker.is_alive()
    finally:
        other.close()
    return outcome


def test_a_report_survives_a_deadlock_with_an_import(engine, city):
    """The report takes the registry counter, then waits for its group's rollup
    row, held by another writer (an import's first statement), which then
    wants the registry counter: a deadlock.  PostgreSQL cancels the report
    (it waited longest); run again, it waits for the import and is stored."""
    create_incident(engine, _report("Prima"))  # the year's counter row exists
    outcome = _deadlock(
        engine, city["city_id"], None, lambda: create_incident(engine, _report("A doua"))
    )
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].registry_number.startswith("TST-")
    assert stored(engine)["n"].sum() == 3
    assert_rollup_exact(engine)


def test_an_import_batch_survives_a_deadlock_with_a_report(engine, city, tmp_path):
    """The same with the roles swapped: the batch's insert takes the counter of
    2026 and waits for the rollup rows of its day, which a report holds."""
    create_incident(engine, _report("Prima"))  # the year's counter row exists
    path = write_csv(tmp_path / "a.csv", [row(id="A1"), row(id="A2", creat="2026-05-04 11:00")])
    outcome = _deadlock(
        engine, city["city_id"], "2026-05-04 10:00+03",
        lambda: load_file(engine, path, "testville", test_mapping()),
    )  # fmt: skip
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert (result.read, result.inserted, result.rejected) == (2, 2, 0)
    assert stored(engine)["n"].sum() == 4
    assert_rollup_exact(engine)


def test_other_errors_are_not_run_again(engine, city):
    calls = []

    def work(conn: sa.Connection) -> None:
        calls.append(1)
        conn.execute(sa.text("SELECT 1 / 0"))

    with pytest.raises(sa.exc.DataError):
        run_in_transaction(engine, work)
    assert len(calls) == 1

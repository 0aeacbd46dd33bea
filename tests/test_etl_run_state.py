"""A run left 'running' by a load that stopped without finishing (kill -9, a
lost machine) shows as 'aborted' at once, in the CLI's and the dashboard's
run lists, while a load that holds its source's lock shows as running."""

from __future__ import annotations

import sqlalchemy as sa

from etl.load import load_file
from etl.runs import list_runs
from sesizari import auth, catalog, feeds
from tests.etl_helpers import GOOD, test_mapping, write_csv

STOPPED = ("the loading process stopped before the end; rows committed by its finished"
           " batches are kept")


def _manager(engine, city_id):
    with engine.begin() as conn:
        catalog.create_user(conn, city_id, username="sefa", full_name="Șefa", role="manager")
        return auth.load_user(conn, "testville", "sefa")


def test_a_running_run_without_its_lock_shows_as_aborted(engine, city, tmp_path):
    load_file(engine, write_csv(tmp_path / "a.csv", [GOOD]), "testville", test_mapping())
    manager = _manager(engine, city["city_id"])
    with engine.connect() as load, engine.connect() as other:
        # A load in progress: its run row, and its session holding the lock.
        load.execute(sa.text(
            "SELECT pg_advisory_lock(etl_lock_key(city_id, 'primarie')) FROM cities"
            " WHERE slug = 'testville'"))
        other.execute(sa.text(
            "INSERT INTO feed_runs (city_id, source, file_name)"
            " SELECT city_id, 'primarie', 'b.csv' FROM cities WHERE slug = 'testville'"))
        other.commit()
        newest = list_runs(engine, "testville")[0]
        assert (newest["file_name"], newest["status"], newest["error"]) == (
            "b.csv", "running", None)
        assert feeds.runs(engine, manager)["status"].tolist() == ["running", "succeeded"]
        # The lock of another source is not this one's.
        load.execute(sa.text("SELECT pg_advisory_unlock_all()"))
        load.execute(sa.text(
            "SELECT pg_advisory_lock(etl_lock_key(city_id, 'altceva')) FROM cities"
            " WHERE slug = 'testville'"))
        newest = list_runs(engine, "testville")[0]
        assert (newest["status"], newest["error"]) == ("aborted", STOPPED)
        shown = feeds.runs(engine, manager)
        assert shown["status"].tolist() == ["aborted", "succeeded"]
        assert shown["error"].iloc[0] == STOPPED
        # The table itself is unchanged: the next load of the source records the end.
        assert other.execute(sa.text(
            "SELECT status FROM feed_runs WHERE file_name = 'b.csv'")).scalar_one() == "running"
    load_file(engine, write_csv(tmp_path / "a.csv", [GOOD]), "testville", test_mapping())
    statuses = [r["status"] for r in list_runs(engine, "testville")]
    assert statuses == ["succeeded", "aborted", "succeeded"]

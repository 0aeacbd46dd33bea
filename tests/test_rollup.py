"""The rollups (migrations 0015 and 0017) always equal a recount of the incidents.

The expected rollups are computed here in pandas from the incidents, their
categories' targets and the city's zone, independently of the SQL that keeps
them, after every kind of write: the demo's COPY, single inserts, bulk
updates, the workflow, deletes, a changed target and a changed time zone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from sesizari import db
from sesizari.incidents import Actor, NewIncident, create_incident, perform
from sesizari.queries.resolution import ROLLUP_BINS
from sesizari.vocab import Action
from tests.conftest import TEST_LAT, TEST_LON

KEY = ["city_id", "day", "category_id", "department_id", "district_id", "status"]
BINS = [0, 4, 8, 24, 48, 72, 168, 336, 720, np.inf]
BIN_COLUMNS = list(ROLLUP_BINS)
SUMS = ["n", "n_acknowledged", "ack_sum_h", "n_resolved", "resolve_sum_h", "n_within", *BIN_COLUMNS]


def _read(engine: sa.Engine, query: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(query), conn)


def expected(engine: sa.Engine) -> pd.DataFrame:
    """The rollup recomputed from the incidents, in pandas."""
    inc = _read(
        engine,
        "SELECT i.city_id, i.created_at, i.category_id, i.department_id,"
        " i.district_id, i.status, i.acknowledged_at, i.resolved_at,"
        " CAST(c.target_hours AS float8) AS target, ct.timezone"
        " FROM incidents i JOIN categories c USING (city_id, category_id)"
        " JOIN cities ct USING (city_id)",
    )
    if inc.empty:
        return pd.DataFrame(columns=KEY + SUMS)
    for col in ("created_at", "acknowledged_at", "resolved_at"):
        inc[col] = pd.to_datetime(inc[col], utc=True)
    inc["day"] = [
        ts.tz_convert(tz).date() for ts, tz in zip(inc["created_at"], inc["timezone"], strict=True)
    ]
    ack_h = (inc["acknowledged_at"] - inc["created_at"]).dt.total_seconds() / 3600
    res_h = (inc["resolved_at"] - inc["created_at"]).dt.total_seconds() / 3600
    inc = inc.assign(
        n=1,
        n_acknowledged=ack_h.notna().astype(int),
        ack_sum_h=ack_h.fillna(0),
        n_resolved=res_h.notna().astype(int),
        resolve_sum_h=res_h.fillna(0),
        n_within=(res_h <= inc["target"]).astype(int),
        **{
            column: ((res_h >= lo) & (res_h < hi)).astype(int)
            for column, lo, hi in zip(BIN_COLUMNS, BINS[:-1], BINS[1:], strict=True)
        },
        district_id=inc["district_id"].fillna(0).astype("int64"),
    )
    return inc.groupby(KEY, dropna=False, as_index=False)[SUMS].sum()


def stored(engine: sa.Engine, table: str = "incident_daily") -> pd.DataFrame:
    frame = _read(engine, f"SELECT * FROM {table}")
    if "month" in frame:
        frame = frame.rename(columns={"month": "day"})
    return frame


def _by_month(daily: pd.DataFrame) -> pd.DataFrame:
    month = pd.to_datetime(daily["day"]).dt.to_period("M").dt.start_time.dt.date
    return daily.assign(day=month).groupby(KEY, as_index=False)[SUMS].sum()


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    want = want.sort_values(KEY).reset_index(drop=True)
    got = got.sort_values(KEY).reset_index(drop=True)
    assert len(got) == len(want), "the rollup has a different number of groups"
    assert (got["n"] > 0).all(), "empty groups must be dropped"
    counts = [c for c in SUMS if not c.endswith("_sum_h")]
    got = got[KEY + SUMS].astype(dict.fromkeys(counts, "int64"))
    want = want[KEY + SUMS].astype(got.dtypes.to_dict())
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9, atol=1e-6)


CELL_KEY = ["city_id", "cy", "cx", "category_id", "district_id", "department_id", "status"]
#: The side of the clusters' default grid: 60 m / sqrt(2) (GRID_CELL_M).
CELL_M = 60 / np.sqrt(2)


def expected_cells(engine: sa.Engine) -> pd.DataFrame:
    """incident_cells recomputed from the incidents' EPSG:3844 coordinates, in pandas."""
    inc = _read(
        engine,
        "SELECT city_id, x3844, y3844, category_id, department_id, district_id, status"
        " FROM incidents",
    )
    inc = inc.assign(
        cy=np.floor(inc["y3844"] / CELL_M).astype("int64"),
        cx=np.floor(inc["x3844"] / CELL_M).astype("int64"),
        district_id=inc["district_id"].fillna(0).astype("int64"),
        n=1,
    )
    return inc.groupby(CELL_KEY, as_index=False).agg(
        n=("n", "sum"), sx=("x3844", "sum"), sy=("y3844", "sum")
    )


def _assert_same_cells(engine: sa.Engine) -> None:
    got = stored(engine, "incident_cells").sort_values(CELL_KEY).reset_index(drop=True)
    want = expected_cells(engine).sort_values(CELL_KEY).reset_index(drop=True)
    assert len(got) == len(want), "the cells have a different number of groups"
    assert (got["n"] > 0).all(), "empty groups must be dropped"
    cols = [*CELL_KEY, "n", "sx", "sy"]
    got = got[cols].astype(dict.fromkeys([*CELL_KEY[:-1], "n"], "int64"))
    want = want[cols].astype(got.dtypes.to_dict())
    # Sums of coordinates of about 400,000 m, kept by adding and taking away.
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-6)


HEX_KEY = ["city_id", "hex250", "category_id", "district_id", "department_id", "status"]


def _assert_same_hexes(engine: sa.Engine) -> None:
    """incident_hexes equals the incidents counted per hexagon (and the keys) in pandas."""
    inc = _read(engine, "SELECT * FROM incidents")
    inc["district_id"] = inc["district_id"].fillna(0).astype("int64")
    want = inc.groupby(HEX_KEY).size().rename("n").reset_index()
    got = stored(engine, "incident_hexes")
    assert len(got) == len(want), "the hexagon counts have a different number of groups"
    assert (got["n"] > 0).all(), "empty groups must be dropped"
    got = got.sort_values(HEX_KEY).reset_index(drop=True)[[*HEX_KEY, "n"]]
    want = want.sort_values(HEX_KEY).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def _assert_same_days(engine: sa.Engine) -> None:
    want = expected(engine)
    _assert_same(stored(engine), want)
    _assert_same(stored(engine, "incident_monthly"), _by_month(want))


#: Each rollup's check, by the name of its refresh function (refresh_incident_<name>).
CHECKS = {"daily": _assert_same_days, "cells": _assert_same_cells, "hexes": _assert_same_hexes}


def assert_rollup_exact(engine: sa.Engine) -> None:
    """The rollups (daily, monthly, per cell, per hexagon) equal the recount of the incidents."""
    for check in CHECKS.values():
        check(engine)


def test_the_demo_load_fills_the_rollup(demo_engine):
    assert len(stored(demo_engine)) > 100
    assert len(stored(demo_engine, "incident_cells")) > 100
    assert len(stored(demo_engine, "incident_hexes")) > 100
    assert_rollup_exact(demo_engine)


def test_every_kind_of_write_keeps_it_exact(demo_copy):
    engine = db.make_engine(demo_copy)
    try:
        with engine.begin() as conn:
            # Status, times and district of many incidents at once.
            conn.execute(sa.text(
                "UPDATE incidents SET status = 'resolved', resolution_text = 'Reparat',"
                " acknowledged_at = COALESCE(acknowledged_at, created_at + interval '2 hours'),"
                " resolved_at = created_at + interval '30 hours'"
                " WHERE incident_id % 7 = 0 AND status IN ('new', 'acknowledged', 'in_progress')"
            ))  # fmt: skip
            conn.execute(sa.text(
                "UPDATE incidents SET district_id = NULL WHERE incident_id % 11 = 0"
            ))  # fmt: skip
            # Moved incidents change cells (about 80 m east, 55 m north).
            conn.execute(sa.text(
                "UPDATE incidents SET geom = ST_Translate(geom, 0.001, 0.0005)"
                " WHERE incident_id % 17 = 0"
            ))  # fmt: skip
            # An update that changes nothing the rollup counts.
            conn.execute(
                sa.text("UPDATE incidents SET updated_at = now() WHERE incident_id % 5 = 0")
            )
        assert_rollup_exact(engine)
        with engine.begin() as conn:
            # Events, contacts and photos go with their incident (ON DELETE CASCADE).
            deleted = conn.execute(sa.text(
                "DELETE FROM incidents i WHERE i.incident_id % 13 = 0 AND NOT EXISTS ("
                " SELECT 1 FROM incidents j WHERE j.city_id = i.city_id"
                " AND i.incident_id IN (j.duplicate_of, j.recurrence_of))"
            )).rowcount  # fmt: skip
            assert deleted > 100
        assert_rollup_exact(engine)
        # A changed target and a changed time zone rebuild the rows concerned.
        for change in (
            "UPDATE categories SET target_hours = target_hours * 3"
            " WHERE category_id = (SELECT min(category_id) FROM categories)",
            "UPDATE cities SET timezone = 'America/New_York'"
            " WHERE city_id = (SELECT min(city_id) FROM cities)",
        ):
            with engine.begin() as conn:
                conn.execute(sa.text(change))
            assert_rollup_exact(engine)
    finally:
        engine.dispose()


def test_single_inserts_and_the_workflow(engine, city):
    clerk = Actor("clerk")
    numbers = [
        create_incident(
            engine,
            NewIncident(city="testville", category=cat, latitude=TEST_LAT + k / 1000,
                        longitude=TEST_LON, description=f"Sesizare {k}"),
        ).registry_number
        for k, cat in enumerate(["pothole", "pothole", "street_light", "noise"])
    ]  # fmt: skip
    assert_rollup_exact(engine)
    assert stored(engine)["n"].sum() == 4
    perform(engine, "testville", numbers[0], Action.ACKNOWLEDGE, clerk)
    perform(engine, "testville", numbers[0], Action.RESOLVE, clerk, text="Astupată")
    perform(engine, "testville", numbers[2], Action.ACKNOWLEDGE, clerk)
    assert_rollup_exact(engine)
    resolved = stored(engine)
    assert resolved["n_resolved"].sum() == 1
    assert resolved["n_acknowledged"].sum() == 2


def test_two_writers_of_the_same_group_both_count(engine, city):
    """The second writer waits for the first one's row lock and adds to its sums."""
    import threading

    def insert(conn: sa.Connection, text: str) -> None:
        conn.execute(
            sa.text(
                "INSERT INTO incidents (city_id, registry_number, category_id, department_id,"
                " channel, geom, description)"
                " SELECT c.city_id, :number, c.category_id, c.default_department_id, 'web',"
                " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :text"
                " FROM categories c WHERE c.code = 'pothole'"
            ),
            {"number": f"TST-2026-{abs(hash(text)) % 10**6:06d}", "lon": TEST_LON,
             "lat": TEST_LAT, "text": text},
        )  # fmt: skip

    first, second = engine.connect(), engine.connect()
    try:
        first.begin()
        insert(first, "Prima")
        done = threading.Event()

        def other() -> None:
            with second.begin():
                insert(second, "A doua")  # blocks on the group's rows until `first` commits
            done.set()

        worker = threading.Thread(target=other)
        worker.start()
        assert not done.wait(0.5), "the second writer should wait for the first one's lock"
        first.commit()
        worker.join(timeout=30)
        assert done.is_set()
    finally:
        first.close()
        second.close()
    assert stored(engine)["n"].sum() == 2
    assert_rollup_exact(engine)


#: The rollups' triggers (``<name>_insert``, ``_update``, ``_delete``).
TRIGGERS = tuple(f"incident_{name}" for name in CHECKS)


def test_refresh_rebuilds_what_a_load_without_triggers_missed(demo_copy):
    engine = db.make_engine(demo_copy)
    try:
        with engine.begin() as conn:
            for trigger in TRIGGERS:
                conn.execute(sa.text(f"ALTER TABLE incidents DISABLE TRIGGER {trigger}_update"))
            conn.execute(
                sa.text("UPDATE incidents SET district_id = NULL WHERE incident_id % 3 = 0")
            )
            for trigger in TRIGGERS:
                conn.execute(sa.text(f"ALTER TABLE incidents ENABLE TRIGGER {trigger}_update"))
        # Each rollup stays wrong until its own refresh rebuilds it.
        for name, check in CHECKS.items():
            with pytest.raises(AssertionError):
                check(engine)
            with engine.begin() as conn:
                conn.execute(sa.text(f"SELECT refresh_incident_{name}(city_id) FROM cities"))
            check(engine)
        assert_rollup_exact(engine)
    finally:
        engine.dispose()


def test_truncating_the_incidents_empties_the_rollups(demo_copy):
    engine = db.make_engine(demo_copy)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE incidents CASCADE"))
        for table in ("incident_daily", "incident_monthly", "incident_cells", "incident_hexes"):
            assert stored(engine, table).empty, table
        assert_rollup_exact(engine)
    finally:
        engine.dispose()

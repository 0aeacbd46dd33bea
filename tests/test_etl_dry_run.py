"""``etl load --dry-run``: what a load would do, counted by the load itself, and
nothing kept: no incident, event, registry number, rollup, run or reject."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl.load import load_file
from sesizari.errors import ValidationError
from tests.etl_helpers import row, test_mapping, write_csv
from tests.test_etl_agency_and_registry import REGISTRY_HEADER
from tests.test_etl_cli import MAPPING_TOML, _run

TABLES = ("incidents", "incident_events", "feed_runs", "feed_rejects", "incident_cells",
          "incident_daily", "incident_hexes")


def _state(engine) -> dict[str, object]:
    with engine.connect() as conn:
        state: dict[str, object] = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in TABLES
        }
        state["counters"] = conn.execute(sa.text(
            "SELECT array_agg(last_value ORDER BY year) FROM registry_counters")).scalar_one()
        state["statuses"] = conn.execute(sa.text(
            "SELECT array_agg(status ORDER BY external_id) FROM incidents")).scalar_one()
    return state


def _file(tmp_path):
    """Known rows (one changed), new ones, and one of each kind of reject,
    across batches of two (the duplicate id sits in a later batch)."""
    return write_csv(tmp_path / "b.csv", [
        row(id="A1"),                                                   # unchanged
        row(id="A2", stare="Închisă", inchis="2026-05-06 09:00"),       # updated: closed
        row(id="A3"),                                                   # new
        row(id="A4", lat=""),                                           # missing_coordinates
        row(id="A5", creat="2026-13-45 10:00"),                         # bad_date
        row(id="A3"),                                                   # duplicate_external_id
        row(id="A6", tip="Necunoscut"),                                 # unknown_category
    ])


def test_a_dry_run_counts_what_the_load_then_does_and_keeps_nothing(engine, city, tmp_path):
    load_file(engine, write_csv(tmp_path / "a.csv", [row(id="A1"), row(id="A2")]),
              "testville", test_mapping())
    before = _state(engine)
    path = _file(tmp_path)
    out = tmp_path / "dry.csv"

    dry = load_file(engine, path, "testville", test_mapping(), batch_size=2, dry_run=True,
                    rejects_csv=out)
    assert dry.run_id is None
    assert (dry.read, dry.inserted, dry.updated, dry.unchanged, dry.rejected) == (7, 1, 1, 1, 4)
    assert _state(engine) == before
    assert out.read_text("utf-8-sig").splitlines()[0] == "source_row,reason,message"
    assert [line.split(",")[:2] for line in out.read_text("utf-8-sig").splitlines()[1:]] == [
        ["4", "missing_coordinates"], ["5", "bad_date"], ["6", "duplicate_external_id"],
        ["7", "unknown_category"]]

    real = load_file(engine, path, "testville", test_mapping(), batch_size=2)
    assert (real.read, real.inserted, real.updated, real.unchanged, real.rejected) == (
        dry.read, dry.inserted, dry.updated, dry.unchanged, dry.rejected)
    assert real.reasons == dry.reasons
    assert _state(engine)["incidents"] == before["incidents"] + 1


def test_a_dry_run_without_rejects_empties_its_file_and_refuses_bulk(engine, city, tmp_path):
    # The file of an earlier dry run is replaced: no stale rows under the fixed name.
    out = tmp_path / "dry.csv"
    out.write_text("source_row,reason,message\r\n9,bad_date,old\r\n", "utf-8")
    path = write_csv(tmp_path / "a.csv", [row(id="A1")])
    dry = load_file(engine, path, "testville", test_mapping(), dry_run=True, rejects_csv=out)
    assert (dry.inserted, dry.rejected) == (1, 0)
    assert out.read_bytes() == b"\xef\xbb\xbfsource_row,reason,message\r\n"
    assert list(tmp_path.glob(".*.part")) == []
    with pytest.raises(ValidationError, match="leave out --bulk"):
        load_file(engine, path, "testville", test_mapping(), dry_run=True, bulk=True)
    assert _state(engine)["incidents"] == 0


def test_dry_run_from_the_command_line(engine, city, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    path = write_csv(tmp_path / "a.csv", [row(), row(id="A2", lat="")])
    out = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping),
                "--dry-run"], engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert ("dry run, nothing kept: read 2 = would insert 1 + update 0 + leave unchanged 0"
            " + reject 1") in out.stdout
    assert "rejects-testville-dry-run.csv" in out.stdout
    assert (tmp_path / "rejects-testville-dry-run.csv").read_text("utf-8-sig").splitlines() == [
        "source_row,reason,message",
        "2,missing_coordinates,no coordinates ('lon'/'lat' empty)",
    ]
    assert _state(engine)["incidents"] == 0 and _state(engine)["feed_runs"] == 0


def test_a_dry_run_of_a_registry_source_finds_a_number_repeated_in_a_later_batch(
    engine, city, tmp_path
):
    # Batches of two: R3 repeats R1's number in the second batch.  The dry run
    # rolls the first batch back, yet finds it as the load does.
    rows = [row(id="R1", nr="TST-2026-000120"), row(id="R2", nr="TST-2026-000121"),
            row(id="R3", nr="TST-2026-000120"), row(id="R4", nr="TST-2026-000122")]
    path = write_csv(tmp_path / "r.csv", rows, header=REGISTRY_HEADER)
    mapping = test_mapping(columns__registry_number="nr")
    dry = load_file(engine, path, "testville", mapping, batch_size=2, dry_run=True)
    assert (dry.inserted, dry.rejected, dict(dry.reasons)) == (
        3, 1, {"registry_number_taken": 1})
    assert _state(engine)["incidents"] == 0
    real = load_file(engine, path, "testville", mapping, batch_size=2)
    assert (real.inserted, real.rejected, real.reasons) == (
        dry.inserted, dry.rejected, dry.reasons)
    # A second dry run on the same pooled session starts from an empty list.
    again = load_file(engine, path, "testville", mapping, batch_size=2, dry_run=True)
    assert (again.unchanged, again.inserted, again.rejected) == (3, 0, 1)

"""Loading feeds: statuses, registry numbers, routing, idempotency, re-projection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from etl.load import load_file
from etl.mapping import load_mapping
from etl.runs import list_runs
from sesizari import catalog
from sesizari.errors import SesizariError, ValidationError
from sesizari.incidents import NewIncident, create_incident
from tests.etl_helpers import GOOD, HEADER, events, incidents, row, test_mapping, write_csv


def test_new_rows_are_numbered_routed_and_logged(engine, city, tmp_path):
    path = write_csv(
        tmp_path / "a.csv",
        [
            GOOD,
            row(id="A2", tip="Bec ars", stare="Închisă", inchis="2026-05-05 09:00"),
            row(id="A3", creat="2025-12-31 23:30"),  # 2025 in Bucharest, 21:30 UTC
        ],
    )
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.read, result.inserted, result.rejected) == (3, 3, 0)
    got = {i["external_id"]: i for i in incidents(engine)}
    assert got["A1"]["registry_number"] == "TST-2026-000001"
    assert got["A2"]["registry_number"] == "TST-2026-000002"
    assert got["A3"]["registry_number"] == "TST-2025-000001"
    assert got["A1"]["created_at"] == datetime(2026, 5, 4, 7, 15, tzinfo=UTC)
    assert (got["A1"]["status"], got["A1"]["department"]) == ("new", "roads")
    assert (got["A2"]["status"], got["A2"]["department"]) == ("closed", "lighting")
    assert (
        got["A2"]["resolved_at"] == got["A2"]["closed_at"] == datetime(2026, 5, 5, 6, 0, tzinfo=UTC)
    )
    assert got["A2"]["resolution_text"] == "Închisă în sistemul sursă"
    assert all(i["channel"] == "feed" for i in got.values())
    (event,) = events(engine, "A2")
    assert event["kind"] == "created" and event["to_status"] == "closed"
    assert (event["actor_label"], event["channel"]) == ("etl:primarie", "feed")
    assert event["data"]["department"] == "lighting"


def test_numbers_continue_the_registry_without_gaps(engine, city, tmp_path):
    create_incident(
        engine,
        NewIncident(
            city="testville",
            category="pothole",
            latitude=45.69,
            longitude=21.9,
            description="la ghișeu",
            created_at=datetime(2026, 1, 5, 10, tzinfo=UTC),
        ),
    )
    rows = [row(id=f"N{k}", creat=f"2026-02-{k % 27 + 1:02d} 10:00") for k in range(23)]
    path = write_csv(tmp_path / "n.csv", rows)
    load_file(engine, path, "testville", test_mapping(), batch_size=5)
    numbers = sorted(i["registry_number"] for i in incidents(engine))
    assert numbers == [f"TST-2026-{k:06d}" for k in range(2, 25)]
    with engine.connect() as conn:
        last = conn.execute(
            sa.text("SELECT last_value FROM registry_counters WHERE year = 2026")
        ).scalar_one()
    assert last == 24


def test_same_file_twice_adds_nothing(engine, city, tmp_path):
    rows = [row(id=f"R{k}") for k in range(7)]
    path = write_csv(tmp_path / "r.csv", rows)
    first = load_file(engine, path, "testville", test_mapping(), batch_size=3)
    second = load_file(engine, path, "testville", test_mapping(), batch_size=3)
    assert (first.inserted, first.unchanged) == (7, 0)
    assert (second.read, second.inserted, second.updated, second.unchanged) == (7, 0, 0, 7)
    assert len(incidents(engine)) == 7
    assert all(len(events(engine, f"R{k}")) == 1 for k in range(7))


def test_a_changed_row_is_updated_with_an_event(engine, city, tmp_path):
    path = write_csv(tmp_path / "u.csv", [GOOD, row(id="A2")])
    load_file(engine, path, "testville", test_mapping())
    before = {i["external_id"]: i["registry_number"] for i in incidents(engine)}
    closed = row(stare="Închisă", inchis="2026-05-06 12:00")
    path = write_csv(tmp_path / "u2.csv", [closed, row(id="A2")])
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    after = {i["external_id"]: i for i in incidents(engine)}
    assert {k: v["registry_number"] for k, v in after.items()} == before
    assert after["A1"]["status"] == "closed"
    assert after["A1"]["resolution_text"] == "Închisă în sistemul sursă"
    kinds = [(e["kind"], e["from_status"], e["to_status"]) for e in events(engine, "A1")]
    assert kinds == [("created", None, "new"), ("updated", "new", "closed")]
    assert set(events(engine, "A1")[1]["data"]["changed"]) == {
        "status",
        "resolved_at",
        "closed_at",
        "resolution_text",
    }
    # A new category re-routes.
    path = write_csv(tmp_path / "u3.csv", [row(id="A2", tip="Bec ars")])
    load_file(engine, path, "testville", test_mapping())
    assert {i["external_id"]: i["department"] for i in incidents(engine)}["A2"] == "lighting"


def test_area_rules_and_districts_apply_set_wise(engine, city, tmp_path):
    with engine.begin() as conn:
        cid = city["city_id"]
        catalog.create_routing_rule(
            conn,
            cid,
            name="Centru: iluminat",
            category_code="pothole",
            department_code="lighting",
            area=box(21.89, 45.68, 21.91, 45.70),
            assignee_username="ion",
        )
        district = catalog.create_district(conn, cid, "Nord", box(21.85, 45.70, 21.95, 45.74))
    path = write_csv(tmp_path / "r.csv", [GOOD, row(id="A2", lat="45.72", lon="21.86")])
    load_file(engine, path, "testville", test_mapping())
    got = {i["external_id"]: i for i in incidents(engine)}
    assert (got["A1"]["department"], got["A1"]["district_id"]) == ("lighting", None)
    assert (got["A2"]["department"], got["A2"]["district_id"]) == ("roads", district)


def test_projected_coordinates_are_reprojected(engine, city, tmp_path):
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 3844, always_xy=True).transform(21.9, 45.69)
    path = write_csv(tmp_path / "s70.csv", [row(lon=f"{x:.3f}", lat=f"{y:.3f}")])
    result = load_file(engine, path, "testville", test_mapping(geometry__crs="EPSG:3844"))
    assert result.inserted == 1
    (got,) = incidents(engine)
    assert got["lon"] == pytest.approx(21.9, abs=1e-6)
    assert got["lat"] == pytest.approx(45.69, abs=1e-6)


def test_wkt_column(engine, city, tmp_path):
    header = [h for h in HEADER if h not in ("lat", "lon")] + ["wkt"]
    path = write_csv(
        tmp_path / "w.csv",
        [row(wkt="POINT(21.9 45.69)"), row(id="B", wkt="POINT(21.9"), row(id="C", wkt="")],
        header=header,
    )
    mapping = test_mapping(geometry={"wkt": "wkt"})
    result = load_file(engine, path, "testville", mapping)
    assert result.inserted == 1
    assert result.reasons == {"bad_coordinates": 1, "missing_coordinates": 1}


def test_geojson_feature_collection(engine, city, tmp_path):
    import json

    features = [
        {
            "type": "Feature",
            "properties": {
                "id": "G1",
                "created_at": "2026-05-04T10:15:00",
                "category": "pothole",
                "status": "new",
                "description": "Groapă",
                "address": "Str. Mare 1",
            },
            "geometry": {"type": "Point", "coordinates": [21.9, 45.69]},
        },
        {
            "type": "Feature",
            "properties": {
                "id": "G2",
                "created_at": "2025-10-26T03:30:00+03:00",
                "closed_at": "2025-10-27T08:00:00+02:00",
                "category": "noise",
                "status": "closed",
                "description": "Muzică tare",
            },
            "geometry": {"type": "Point", "coordinates": [21.91, 45.70]},
        },
        {
            "type": "Feature",
            "properties": {
                "id": "G3",
                "created_at": "2026-05-04T10:15:00",
                "category": "pothole",
                "description": "fără loc",
            },
            "geometry": None,
        },
    ]
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    result = load_file(engine, path, "testville", load_mapping("geojson"))
    assert (result.read, result.inserted, result.rejected) == (3, 2, 1)
    assert result.reasons == {"missing_coordinates": 1}
    got = {i["external_id"]: i for i in incidents(engine, "geojson")}
    assert got["G1"]["created_at"] == datetime(2026, 5, 4, 7, 15, tzinfo=UTC)
    assert got["G2"]["created_at"] == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    assert got["G2"]["status"] == "closed"


def test_an_empty_feature_collection_loads_nothing_and_succeeds(engine, city, tmp_path):
    """A feed's quiet day: no features, so no property names either.  It reads
    0 rows, like a CSV with a header only; a missing column is not the cause."""
    path = tmp_path / "none.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', "utf-8")
    result = load_file(engine, path, "testville", load_mapping("geojson"))
    assert (result.read, result.inserted, result.rejected) == (0, 0, 0)
    (run,) = list_runs(engine, "testville")
    assert run["status"] == "succeeded"
    # With features but not the mapping's properties, the file is still refused.
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature",'
                    ' "properties": {"x": 1}, "geometry": null}]}', "utf-8")
    with pytest.raises(ValidationError, match="no column"):
        load_file(engine, path, "testville", load_mapping("geojson"))


def test_geopackage_in_stereo70(engine, city, tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame(
        {
            "id": ["P1", "P2"],
            "created_at": ["2026-05-04 10:15:00", "2026-05-04 11:00:00"],
            "category": ["pothole", "street_light"],
            "status": ["new", "new"],
            "description": ["Groapă", "Bec ars"],
            "address": [None, None],
            "closed_at": [None, None],
        },
        geometry=[Point(21.9, 45.69), Point(23.59, 46.77)],
        crs=4326,
    ).to_crs(3844)
    path = tmp_path / "p.gpkg"
    frame.to_file(path, driver="GPKG")
    result = load_file(engine, path, "testville", load_mapping("geojson"))
    assert (result.inserted, result.reasons) == (1, {"outside_boundary": 1})
    (got,) = incidents(engine, "geojson")
    assert got["lon"] == pytest.approx(21.9, abs=1e-6)


def test_runs_are_recorded(engine, city, tmp_path):
    path = write_csv(tmp_path / "x.csv", [GOOD, row(id="B", lat="")])
    result = load_file(engine, path, "testville", test_mapping())
    (run,) = list_runs(engine, "testville")
    assert run["run_id"] == result.run_id
    assert run["status"] == "succeeded" and run["file_name"] == "x.csv"
    assert (run["rows_read"], run["rows_inserted"], run["rows_rejected"]) == (2, 1, 1)
    assert run["watermark"] == datetime(2026, 5, 4, 7, 15, tzinfo=UTC)


def test_mapping_and_file_mismatches_fail_before_writing(engine, city, tmp_path):
    path = write_csv(tmp_path / "h.csv", [GOOD], header=[h for h in HEADER if h != "tip"])
    with pytest.raises(ValidationError, match="no column"):
        load_file(engine, path, "testville", test_mapping())
    with pytest.raises(ValidationError, match="does not have"):
        load_file(
            engine,
            write_csv(tmp_path / "ok.csv", [GOOD]),
            "testville",
            test_mapping(category__map={"Groapă": "potholes"}),
        )
    with pytest.raises(SesizariError, match="No city"):
        load_file(engine, tmp_path / "ok.csv", "nowhere", test_mapping())
    assert list_runs(engine) == []


def test_mapping_validation():
    with pytest.raises(ValidationError, match="time zone"):
        test_mapping(time__timezone="Europe/Nowhere")
    with pytest.raises(ValidationError, match="unknown status"):
        test_mapping(status__map={"x": "done"})
    with pytest.raises(ValidationError, match="lon and lat"):
        test_mapping(geometry={"lon": "lon"})
    with pytest.raises(ValidationError, match="no file"):
        load_mapping("no-such-mapping")
    assert load_mapping("nyc311").timezone == "America/New_York"


def test_shapefile_with_its_own_mapping_and_absent_optional_properties(engine, city, tmp_path):
    """A GIS file lists only the fields of its export (one generic mapping
    serves several): a field the mapping names and the file lacks reads as
    empty, and the result names it, for a misspelt name (a Shapefile cuts
    names at ten characters) looks the same."""
    import geopandas as gpd
    from shapely.geometry import Point

    from etl.mapping import parse_mapping

    frame = gpd.GeoDataFrame(
        {
            "nr": ["S1", "S2"],
            "data": ["2026-05-04 10:15", "2026-05-04 11:00"],
            "tip": ["pothole", "noise"],
            "descr": ["Groapă mare", "Zgomot noaptea"],
            "DataInch": [None, "2026-05-05 09:00"],
        },
        geometry=[Point(21.9, 45.69), Point(21.91, 45.7)],
        crs=4326,
    ).to_crs(3844)
    path = tmp_path / "sesizari.shp"
    frame.to_file(path, driver="ESRI Shapefile", encoding="utf-8")
    columns = {"external_id": "nr", "created": "data", "description": "descr",
               "address": "adresa", "closed": "Data inchidere"}
    spec = {"source": "shp", "columns": columns,
            "time": {"format": "YYYY-MM-DD HH24:MI"}, "category": {"column": "tip"}}
    result = load_file(engine, path, "testville", parse_mapping(spec))
    assert (result.inserted, result.rejected) == (2, 0)
    assert result.absent_columns == ["Data inchidere", "adresa"]
    assert result.file_columns == ["nr", "data", "tip", "descr", "DataInch"]
    got = {i["external_id"]: i for i in incidents(engine, "shp")}
    assert got["S1"]["description"] == "Groapă mare"
    assert got["S2"]["lon"] == pytest.approx(21.91, abs=1e-6)
    assert got["S1"]["address"] is None and got["S2"]["status"] == "new"
    # The name put right, the same file again: the closed report is updated.
    columns["closed"] = "DataInch"
    result = load_file(engine, path, "testville", parse_mapping(spec))
    assert (result.updated, result.unchanged, result.absent_columns) == (1, 1, ["adresa"])
    assert {i["external_id"]: i["status"] for i in incidents(engine, "shp")} == {
        "S1": "new", "S2": "closed"}


def test_geojson_properties_no_feature_has_load_empty_and_are_named(engine, city, tmp_path):
    """GeoJSON has no schema: a property that no feature carries (no report
    closed yet) reads as empty, and the result names it, since a misspelt
    name looks the same."""
    from etl.mapping import parse_mapping

    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [21.9, 45.69]},
         "properties": {"nr": "J1", "data": "2026-05-04 10:15", "tip": "pothole"}}]}), "utf-8")
    mapping = parse_mapping({
        "source": "gj", "columns": {"external_id": "nr", "created": "data",
                                    "address": "adresa", "closed": "inchis"},
        "time": {"format": "YYYY-MM-DD HH24:MI"}, "category": {"column": "tip"}})
    result = load_file(engine, path, "testville", mapping)
    assert (result.inserted, result.absent_columns) == (1, ["adresa", "inchis"])
    (got,) = incidents(engine, "gj")
    assert got["address"] is None and got["status"] == "new"


def test_csv_is_read_in_batches_not_whole(tmp_path):
    from etl.readers import open_source

    path = write_csv(tmp_path / "big.csv", [row(id=f"Z{k}") for k in range(20_000)])
    source = open_source(path)
    batches = source.batches(1000)
    first = next(batches)
    assert (first.first_row, len(first.rows)) == (1, 1000)
    assert first.position < path.stat().st_size / 2  # the rest is not read yet
    second = next(batches)
    assert second.first_row == 1001
    batches.close()


def test_a_refused_batch_fails_the_run_without_quoting_row_values(engine, city, tmp_path):
    from etl.load import LoadError

    with engine.begin() as conn:  # a rule the loader does not know about
        conn.execute(
            sa.text(
                "ALTER TABLE incidents ADD CONSTRAINT no_secret CHECK (address <> 'Str. Secretă 7')"
            )
        )
    rows = [row(id=f"S{k}") for k in range(4)] + [row(id="S9", adresa="Str. Secretă 7")]
    path = write_csv(tmp_path / "s.csv", rows)
    with pytest.raises(LoadError, match="batch from row 5") as info:
        load_file(engine, path, "testville", test_mapping(), batch_size=4)
    assert "Secretă" not in str(info.value) and "no_secret" in str(info.value)
    (run,) = list_runs(engine, "testville")
    assert run["status"] == "failed" and "no_secret" in run["error"]
    assert "Secretă" not in run["error"]
    assert (run["rows_read"], run["rows_inserted"]) == (4, 4)  # the first batch stays
    assert len(incidents(engine)) == 4
    # The row has its own column (the Feeds page words it); the command line says it.
    assert run["error_row"] == 5 and "batch from row" not in run["error"]
    from tests.test_etl_cli import _run

    out = _run(["runs", "--city", "testville"], engine)
    assert f"run {run['run_id']} failed: batch from row 5: " in out.stdout, out.stdout


def _batches(n: int, fail_at: int | None = None):
    from etl.readers import Batch

    for k in range(n):
        if k == fail_at:
            raise ValidationError("encoding", f"bad bytes in batch {k}")
        yield Batch(k + 1, [{"id": str(k)}], None, [None], k + 1)


def test_read_ahead_keeps_order_and_raises_a_reader_error_in_its_place():
    from etl.load import read_ahead

    got = [(b.first_row, p) for b, p in read_ahead(_batches(5), lambda b: b.rows[0]["id"])]
    assert got == [(1, "0"), (2, "1"), (3, "2"), (4, "3"), (5, "4")]
    seen = []
    with pytest.raises(ValidationError, match="batch 3"):
        for batch, _ in read_ahead(_batches(5, fail_at=3), lambda b: None):
            seen.append(batch.first_row)
    assert seen == [1, 2, 3]


def test_read_ahead_stops_its_thread_when_the_load_stops_early():
    import threading

    from etl.load import read_ahead

    reader = read_ahead(_batches(1000), lambda b: None)
    next(reader)
    reader.close()  # what a failed batch does to the loop's generator
    assert not any(t.name == "etl-read-ahead" for t in threading.enumerate())


def test_a_batch_the_helper_session_cannot_prepare_fails_the_load_instead_of_hanging(
    engine, city, tmp_path, monkeypatch
):
    """Batches are checked on a second session while the main one inserts: if
    that session cannot get a lock (here another session holds routing_rules),
    the load ends with an error naming the batch, and nothing is half-written."""
    import etl.load as load_module

    monkeypatch.setattr(load_module, "HELPER_LOCK_TIMEOUT", "500ms")
    path = write_csv(tmp_path / "l.csv", [row(id=f"L{k}") for k in range(6)])
    with engine.connect() as blocker:
        blocker.execute(sa.text("LOCK TABLE routing_rules IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(load_module.LoadError, match="batch from row 1") as info:
            load_file(engine, path, "testville", test_mapping(), batch_size=4)
        blocker.rollback()
    assert "lock timeout" in str(info.value)
    (run,) = list_runs(engine, "testville")
    assert run["status"] == "failed" and run["rows_read"] == 0
    assert incidents(engine) == []
    # Once the lock is gone the same load goes through (the helper is not stuck).
    result = load_file(engine, path, "testville", test_mapping(), batch_size=4)
    assert (result.read, result.inserted) == (6, 6)


def test_batches_prepared_ahead_see_duplicates_and_updates_in_file_order(
    engine, city, tmp_path
):
    """With batches of two rows, each batch is checked before the one before it
    is inserted: duplicates across batches and rows already loaded must still
    be told apart as in a one-session load."""
    first = write_csv(tmp_path / "f.csv", [row(id="U1"), row(id="U2")])
    load_file(engine, first, "testville", test_mapping())
    rows = [
        row(id="N1"), row(id="U1", stare="Închisă", inchis="2026-05-05 09:00"),
        row(id="N2"), row(id="N1"),  # a repeat of row 1, one batch later
        row(id="U2"), row(id="N2"),  # unchanged, then a repeat two batches later
    ]
    result = load_file(engine, write_csv(tmp_path / "g.csv", rows), "testville",
                       test_mapping(), batch_size=2)
    assert (result.read, result.inserted, result.updated, result.unchanged,
            result.rejected) == (6, 2, 1, 1, 2)
    assert result.reasons == {"duplicate_external_id": 2}
    assert sorted(i["external_id"] for i in incidents(engine)) == ["N1", "N2", "U1", "U2"]


def test_a_file_that_is_not_the_mappings_names_a_short_header(engine, city, tmp_path):
    """A binary or wrongly delimited file can have a header cell of megabytes:
    the message shows the first names, each cut, and how many are left out."""
    path = tmp_path / "junk.csv"
    path.write_text(",".join(["x" * 100_000] + [f"c{k}" for k in range(40)]) + "\n1\n")
    with pytest.raises(ValidationError, match="no column") as info:
        load_file(engine, path, "testville", test_mapping())
    message = str(info.value)
    assert len(message) < 1500
    assert "x" * 60 + "…" in message and "x" * 61 not in message
    assert "'c28'" in message and "'c29'" not in message and "and 11 more" in message


def test_a_crs_postgis_does_not_know_refuses_the_mapping_before_any_row(engine, city, tmp_path):
    """Before, EPSG:999999 passed and every row was rejected as bad coordinates."""
    path = write_csv(tmp_path / "c.csv", [GOOD])
    with pytest.raises(ValidationError, match=r"EPSG:999999, is not a coordinate reference"):
        load_file(engine, path, "testville", test_mapping(geometry__crs=999999))
    assert list_runs(engine, "testville") == []
    result = load_file(engine, path, "testville", test_mapping(geometry__crs=4326))
    assert result.inserted == 1


def test_staff_work_on_a_fed_incident_survives_loads_that_do_not_change_it(
        engine, city, tmp_path):
    """The source is authoritative for what it changes, and only for that: a
    reload of an unchanged row (an Open311 pull revisits 30 days every run)
    must not reopen what staff closed, nor undo a re-routing."""
    from sesizari.incidents import Actor, perform, reroute
    from sesizari.vocab import Action

    clerk = Actor("ana", None, "staff")
    path = write_csv(tmp_path / "a.csv", [GOOD, row(id="A2")])
    load_file(engine, path, "testville", test_mapping())
    number = {i["external_id"]: i["registry_number"] for i in incidents(engine)}
    for action in (Action.ACKNOWLEDGE, Action.START):
        perform(engine, "testville", number["A1"], action, clerk)
    perform(engine, "testville", number["A1"], Action.RESOLVE, clerk, text="Plombat cu asfalt")
    reroute(engine, "testville", number["A2"], clerk, department="lighting", reason="Stâlp")

    again = load_file(engine, path, "testville", test_mapping())
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    got = {i["external_id"]: i for i in incidents(engine)}
    assert (got["A1"]["status"], got["A1"]["resolution_text"]) == ("resolved", "Plombat cu asfalt")
    assert got["A2"]["department"] == "lighting"

    # The source changes a description: that field alone follows it.
    path = write_csv(tmp_path / "b.csv", [row(descriere="Groapă și mai adâncă"), row(id="A2")])
    changed = load_file(engine, path, "testville", test_mapping())
    assert (changed.updated, changed.unchanged) == (1, 1)
    got = {i["external_id"]: i for i in incidents(engine)}
    assert got["A1"]["description"] == "Groapă și mai adâncă"
    assert (got["A1"]["status"], got["A1"]["resolution_text"]) == ("resolved", "Plombat cu asfalt")
    assert events(engine, "A1")[-1]["data"]["changed"] == ["description"]

    # The source closes it: its status, dates and resolution, as one.
    path = write_csv(tmp_path / "c.csv", [
        row(descriere="Groapă și mai adâncă", stare="Închisă", inchis="2026-05-06 12:00"),
        row(id="A2"),
    ])
    closed = load_file(engine, path, "testville", test_mapping())
    assert (closed.updated, closed.unchanged) == (1, 1)
    got = {i["external_id"]: i for i in incidents(engine)}
    assert (got["A1"]["status"], got["A1"]["resolution_text"]) == (
        "closed", "Închisă în sistemul sursă")
    assert got["A2"]["department"] == "lighting"


def test_rows_loaded_before_source_hashes_get_them_on_the_next_load(engine, city, tmp_path):
    """A row without hashes (loaded before migration 0025) is compared field by
    field once; equal, it is unchanged (no event, no new updated_at) and gets
    its hashes, and from then on staff work on it survives reloads."""
    from sesizari.incidents import Actor, perform
    from sesizari.vocab import Action

    path = write_csv(tmp_path / "a.csv", [GOOD])
    load_file(engine, path, "testville", test_mapping())
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE incidents SET source_hashes = NULL"))
        before = conn.execute(sa.text("SELECT updated_at FROM incidents")).scalar_one()
    again = load_file(engine, path, "testville", test_mapping())
    assert (again.updated, again.unchanged) == (0, 1)
    with engine.connect() as conn:
        hashes, updated_at = conn.execute(
            sa.text("SELECT source_hashes, updated_at FROM incidents")).one()
    assert len(hashes) == 7 and updated_at == before
    assert [e["kind"] for e in events(engine, "A1")] == ["created"]
    number = incidents(engine)[0]["registry_number"]
    perform(engine, "testville", number, Action.ACKNOWLEDGE, Actor("ana", None, "staff"))
    load_file(engine, path, "testville", test_mapping())
    assert incidents(engine)[0]["status"] == "acknowledged"


def test_a_corrected_mapping_corrects_the_rows_it_read_wrongly(engine, city, tmp_path):
    """The hashes are of the values read, not of the raw text: loading again
    with a fixed format is a change of the source's values, and applies."""
    path = write_csv(tmp_path / "d.csv", [row(creat="04/05/2026 10:15")])
    load_file(engine, path, "testville", test_mapping(time__format="MM/DD/YYYY HH24:MI"))
    assert incidents(engine)[0]["created_at"] == datetime(2026, 4, 5, 7, 15, tzinfo=UTC)
    fixed = load_file(engine, path, "testville", test_mapping(time__format="DD/MM/YYYY HH24:MI"))
    assert fixed.updated == 1
    assert incidents(engine)[0]["created_at"] == datetime(2026, 5, 4, 7, 15, tzinfo=UTC)
    assert events(engine, "A1")[-1]["data"]["changed"] == ["created_at"]


def test_a_later_creation_time_from_the_source_keeps_staff_times_after_it(
        engine, city, tmp_path):
    """Staff resolved the incident on 20 April; the corrected source says it was
    made on 4 May.  The load applies the date and moves the staff times up to
    it (as it does for the acknowledgement) instead of failing the batch on
    "resolved before created"."""
    from sesizari.incidents import Actor, perform
    from sesizari.vocab import Action

    clerk = Actor("ana", None, "staff")
    path = write_csv(tmp_path / "d.csv", [row(creat="04/05/2026 10:15")])
    load_file(engine, path, "testville", test_mapping(time__format="MM/DD/YYYY HH24:MI"))
    number = incidents(engine)[0]["registry_number"]
    for action, day in ((Action.ACKNOWLEDGE, 10), (Action.START, 11), (Action.RESOLVE, 20)):
        perform(engine, "testville", number, action, clerk, text="Plombat" if day == 20 else None,
                at=datetime(2026, 4, day, 9, 0, tzinfo=UTC))
    fixed = load_file(engine, path, "testville", test_mapping(time__format="DD/MM/YYYY HH24:MI"))
    assert (fixed.updated, fixed.rejected) == (1, 0)
    (got,) = incidents(engine)
    may_4 = datetime(2026, 5, 4, 7, 15, tzinfo=UTC)
    assert (got["created_at"], got["resolved_at"], got["status"]) == (may_4, may_4, "resolved")
    assert got["resolution_text"] == "Plombat"



def test_a_row_older_than_the_version_loaded_changes_nothing(engine, city, tmp_path):
    """With an 'updated' column, the newest version of a row wins whatever the
    order the files come in.  An unreadable time is a bad date, one more than
    a day ahead a date in the future; one a little ahead (clocks) is kept as
    the present, so that later versions still apply."""
    from tests.etl_helpers import rejects

    header = [*HEADER, "modificat"]
    mapping = test_mapping(columns__updated="modificat")
    old = [row(id="U1", modificat="2026-05-04 10:15"), row(id="U2", modificat="2026-05-04 10:15")]
    new = [row(id="U1", stare="Închisă", inchis="2026-05-06 09:00",
               modificat="2026-05-06 09:00"),
           row(id="U2", modificat="2026-05-04 10:15")]
    load = lambda rows, name: load_file(  # noqa: E731
        engine, write_csv(tmp_path / name, rows, header=header), "testville", mapping)
    assert load(old, "old.csv").inserted == 2
    result = load(new, "new.csv")
    assert (result.updated, result.unchanged) == (1, 1)
    again = load(old, "old-again.csv")  # the older export, loaded after the newer
    assert (again.read, again.updated, again.unchanged, again.rejected) == (2, 0, 2, 0)
    assert {i["external_id"]: i["status"] for i in incidents(engine)} == {
        "U1": "closed", "U2": "new"}
    assert [e["kind"] for e in events(engine, "U1")] == ["created", "updated"]

    soon = (datetime.now(ZoneInfo("Europe/Bucharest")) + timedelta(hours=2)).strftime(
        "%Y-%m-%d %H:%M")
    bad = [row(id="U3", modificat="ieri"), row(id="U4", modificat="2099-01-01 00:00"),
           row(id="U5", modificat=soon)]
    result = load(bad, "bad.csv")
    assert (result.inserted, result.reasons) == (1, {"bad_date": 1, "date_in_future": 1})
    messages = [r["message"] for r in rejects(engine, result.run_id)]
    assert messages[0].startswith("'modificat' 'ieri' does not match")
    assert messages[1].startswith("'modificat' '2099-01-01 00:00' is more than a day after")
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT source_updated_at <= now() FROM incidents WHERE external_id = 'U5'"
        )).scalar_one()
    assert stored  # two hours ahead (clocks) is kept as the present, so later versions apply


def test_gis_files_people_make_by_mistake_are_explained(engine, city, tmp_path):
    """A folder zipped whole (GDAL looks only at the top of a .zip), a JSON list
    or a web page saved as .geojson, a bare geometry: each said what GDAL
    said ("not recognized as being in a supported file format ... 'CSV:path'")
    or "its header is []"."""
    import zipfile

    import geopandas as gpd
    from shapely.geometry import Point

    folder = tmp_path / "sesizari"
    folder.mkdir()
    gpd.GeoDataFrame(
        {"id": ["Z1"], "created_at": ["2026-05-04T10:15:00"], "category": ["pothole"]},
        geometry=[Point(21.9, 45.69)], crs=4326,
    ).to_file(folder / "s.shp")
    zipped = tmp_path / "sesizari.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"sesizari/{f.name}")
    result = load_file(engine, zipped, "testville", load_mapping("geojson"))
    assert (result.inserted, result.rejected) == (1, 0)
    # With a metadata file beside the folder; a GeoJSON in a zipped folder.
    with zipfile.ZipFile(zipped, "a") as zf:
        zf.writestr("metadata.json", "{}")
    assert load_file(engine, zipped, "testville", load_mapping("geojson")).unchanged == 1
    gj = tmp_path / "gj.zip"
    with zipfile.ZipFile(gj, "w") as zf:
        zf.writestr("export/sesizari.geojson", json.dumps({
            "type": "FeatureCollection", "features": [{
                "type": "Feature", "geometry": {"type": "Point", "coordinates": [21.9, 45.69]},
                "properties": {"id": "Z2", "created_at": "2026-05-04T10:15:00",
                               "category": "pothole"}}]}))
    assert load_file(engine, gj, "testville", load_mapping("geojson")).inserted == 1

    empty = tmp_path / "nothing.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "x")
    cases = {
        empty: "nothing.zip holds no GIS file",
        tmp_path / "list.geojson": "it holds a JSON list; GeoJSON is an object",
        tmp_path / "page.geojson": "it is a web page (HTML), not GeoJSON",
        tmp_path / "bare.geojson": "has no columns at all (no properties)",
    }
    (tmp_path / "list.geojson").write_text(json.dumps([{"id": 1}]), "utf-8")
    (tmp_path / "page.geojson").write_text("<!DOCTYPE html><html><body>Login</body></html>",
                                           "utf-8")
    (tmp_path / "bare.geojson").write_text(
        json.dumps({"type": "Point", "coordinates": [21.9, 45.69]}), "utf-8")
    for path, said in cases.items():
        with pytest.raises(ValidationError) as refused:
            load_file(engine, path, "testville", load_mapping("geojson"))
        assert said in str(refused.value), str(refused.value)
        assert "CSV:path" not in str(refused.value)

"""The bad-input corpus: one small file per reject reason, exact counts each time."""

from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa

from etl.load import load_file
from etl.rejects import forget_raw, write_rejects_csv
from etl.runs import reject_counts
from sesizari.errors import SesizariError, ValidationError
from tests.etl_helpers import GOOD, HEADER, incidents, rejects, row, test_mapping, write_csv

#: reason -> the bad row (the file's second row; the first is always good).
CORPUS: dict[str, dict[str, str]] = {
    "missing_external_id": row(id=""),
    "external_id_too_long": row(id="Q" * 201),
    "duplicate_external_id": row(id=GOOD["id"], descriere="Aceeași sesizare, din nou"),
    "missing_date": row(id="B", creat=""),
    "bad_date": row(id="B", creat="2026-13-45 10:00"),
    "nonexistent_local_time": row(id="B", creat="2026-03-29 03:30"),
    "ambiguous_local_time": row(id="B", creat="2025-10-26 03:30"),
    "closed_before_created": row(id="B", stare="Închisă", inchis="2026-05-03 09:00"),
    "closed_without_date": row(id="B", stare="Închisă", inchis=""),
    "date_in_future": row(id="B", creat="2099-05-04 10:15"),
    "missing_coordinates": row(id="B", lat="", lon=""),
    "bad_coordinates": row(id="B", lat="45,69,1"),
    "outside_boundary": row(id="B", lat="46.77", lon="23.59"),
    "unknown_category": row(id="B", tip="Câini fără stăpân"),
    "description_too_long": row(id="B", descriere="x" * 5001),
    "address_too_long": row(id="B", adresa="y" * 501),
}
# Distinct ids, so that in one file each bad row fails for its own reason only.
for _n, (_reason, _row) in enumerate(sorted(CORPUS.items())):
    if _row["id"] not in ("", GOOD["id"]) and len(_row["id"]) < 200:
        _row["id"] = f"B{_n}"


@pytest.mark.parametrize("reason", sorted(CORPUS))
def test_each_bad_row_is_rejected_with_its_reason(engine, city, tmp_path, reason):
    path = write_csv(tmp_path / f"{reason}.csv", [GOOD, CORPUS[reason]])
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.read, result.inserted, result.updated, result.unchanged, result.rejected) == (
        2,
        1,
        0,
        0,
        1,
    )
    assert result.reasons == {reason: 1}
    assert reject_counts(engine, "testville", result.run_id) == {reason: 1}
    (rej,) = rejects(engine, result.run_id)
    assert rej["source_row"] == 2
    assert rej["raw"]["id"] == (CORPUS[reason]["id"] or None)  # the raw row, as read
    assert rej["message"]
    # The same message in Romanian, for the Data feeds page: a translation,
    # naming the same column.
    assert rej["message_ro"] and rej["message_ro"] != rej["message"]
    assert {c for c in HEADER if f"'{c}'" in rej["message"]} == {
        c for c in HEADER if f"'{c}'" in rej["message_ro"]}
    assert [i["external_id"] for i in incidents(engine)] == [GOOD["id"]]
    # ... and in the run's reject CSV, with its row number and reason.
    out = tmp_path / "rejects.csv"
    assert write_rejects_csv(engine, "testville", result.run_id, out) == 1
    # With a byte-order mark: Excel then reads the Romanian messages as UTF-8.
    assert out.read_bytes().startswith(b"\xef\xbb\xbfsource_row,")
    with out.open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh)) == [["source_row", "reason", "message"],
                                        ["2", reason, rej["message"]]]
    assert write_rejects_csv(engine, "testville", result.run_id, out, "ro") == 1
    with out.open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh))[1] == ["2", reason, rej["message_ro"]]


def test_the_whole_corpus_in_one_file_counts_every_row_once(engine, city, tmp_path):
    bad = [CORPUS[r] for r in sorted(CORPUS)]
    path = write_csv(tmp_path / "all.csv", [GOOD, *bad])
    result = load_file(engine, path, "testville", test_mapping(), batch_size=4)
    assert result.read == 1 + len(CORPUS)
    assert result.inserted == 1
    assert result.rejected == len(CORPUS)
    assert result.reasons == dict.fromkeys(CORPUS, 1)
    assert result.read == result.inserted + result.updated + result.unchanged + result.rejected
    out = tmp_path / "rejects.csv"
    assert write_rejects_csv(engine, "testville", result.run_id, out) == len(CORPUS)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.DictReader(fh))
    # Every rejected row once, in the file's order (the rows after the good one).
    assert [int(r["source_row"]) for r in lines] == list(range(2, 2 + len(CORPUS)))
    assert [r["reason"] for r in lines] == sorted(CORPUS)


def test_a_reject_csv_that_cannot_be_written_says_so_and_leaves_no_file(
    engine, city, tmp_path
):
    path = write_csv(tmp_path / "a.csv", [GOOD, CORPUS["missing_date"]])
    result = load_file(engine, path, "testville", test_mapping())
    target = tmp_path / "no-such-dir" / "rejects.csv"
    with pytest.raises(ValidationError, match=r"cannot write .*give a writable path"):
        write_rejects_csv(engine, "testville", result.run_id, target)
    assert not target.parent.exists()
    # A file in the way of the final name is only replaced once the new one is complete.
    (tmp_path / "rejects.csv").write_text("old", "utf-8")
    write_rejects_csv(engine, "testville", result.run_id, tmp_path / "rejects.csv")
    assert (tmp_path / "rejects.csv").read_text("utf-8-sig").startswith("source_row,reason")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "rejects.csv"]


def test_messages_name_the_column_and_value(engine, city, tmp_path):
    path = write_csv(tmp_path / "m.csv", [GOOD, CORPUS["bad_date"], CORPUS["outside_boundary"]])
    result = load_file(engine, path, "testville", test_mapping())
    by_row = {r["source_row"]: r["message"] for r in rejects(engine, result.run_id)}
    assert "'creat'" in by_row[2] and "2026-13-45 10:00" in by_row[2]
    assert "Testville" in by_row[3]


def test_a_date_in_the_future_names_its_column(engine, city, tmp_path):
    rows = [row(id="C1", stare="Închisă", inchis="2099-01-01 10:00"),
            row(id="C2", stare="Închisă", inchis="2026-05-03 09:00"),
            row(id="C3", stare="Închisă", inchis="2026-05-05 09:00")]
    result = load_file(engine, write_csv(tmp_path / "f.csv", rows), "testville", test_mapping())
    got = {r["source_row"]: (r["reason"], r["message"]) for r in rejects(engine, result.run_id)}
    assert got[1][0] == "date_in_future" and got[1][1].startswith("'inchis' '2099-01-01 10:00'")
    assert got[2][0] == "closed_before_created" and "before 'creat'" in got[2][1]
    assert result.inserted == 1


def test_a_closed_report_without_its_closing_date_is_refused_not_given_one(
        engine, city, tmp_path):
    """A closing time made up from the creation time would be a time to
    resolve of zero in every median; the message says what is missing, also
    when the mapping has no closing-date column at all."""
    rows = [row(id="C1", stare="Închisă", inchis=""), row(id="C2", stare="Deschisă", inchis="")]
    path = write_csv(tmp_path / "c.csv", rows)
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.inserted, result.reasons) == (1, {"closed_without_date": 1})
    (rej,) = rejects(engine, result.run_id)
    assert rej["message"] == (
        "'stare' 'Închisă' says the report is closed, but 'inchis' is empty; give the date it"
        " was closed: a closing time is never made up (it would be a time to resolve of zero)")
    assert rej["message_ro"].startswith(
        "'stare' 'Închisă' spune că sesizarea este închisă, dar 'inchis' este gol;")
    columns = {"external_id": "id", "created": "creat", "description": "descriere"}
    result = load_file(engine, path, "testville", test_mapping(columns=columns,
                                                                 source="fara_inchis"))
    assert result.reasons == {"closed_without_date": 1}
    (rej,) = rejects(engine, result.run_id)
    assert "but the mapping names no closing-date column; add closed = \"COLUMN\"" in (
        rej["message"])
    assert [i["status"] for i in incidents(engine, "fara_inchis")] == ["new"]


def test_wrong_number_of_fields_is_a_malformed_row(engine, city, tmp_path):
    path = tmp_path / "short.csv"
    good = ",".join(GOOD[h] for h in HEADER)
    path.write_text(",".join(HEADER) + "\n" + good + "\nZ9,2026-05-04 10:15,,Groapă\n", "utf-8")
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.read, result.inserted, result.rejected) == (2, 1, 1)
    assert result.reasons == {"malformed_row": 1}
    (rej,) = rejects(engine, result.run_id)
    assert rej["message"] == f"the row has 4 fields where the header has {len(HEADER)}"
    assert rej["message_ro"] == f"rândul are 4 câmpuri, iar antetul are {len(HEADER)}"


def test_a_language_without_messages_is_refused_before_the_load(engine, city, tmp_path):
    path = write_csv(tmp_path / "a.csv", [GOOD])
    with pytest.raises(ValidationError, match="lang: use one of en, ro"):
        load_file(engine, path, "testville", test_mapping(), dry_run=True, lang="fr")
    assert incidents(engine) == []


def test_every_message_is_written_in_both_languages_with_the_same_values():
    """A translation that drops or renames a value would fail at load time
    (KeyError) or lose the value at fault: each text of :mod:`etl.messages`
    has the same placeholders in every language."""
    import string

    from etl.messages import LANGUAGES, PIECES, REASONS

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key, texts in {**REASONS, **PIECES}.items():
        assert set(texts) == set(LANGUAGES), key
        assert len({frozenset(fields(t)) for t in texts.values()}) == 1, key
        assert texts["ro"] != texts["en"], key


def test_the_fixes_a_message_names_are_in_romanian_too(engine, city, tmp_path):
    """The hints after a reason (swapped coordinates, a date pattern) follow
    the message's language."""
    rows = [GOOD, row(id="S", lat="21.92", lon="45.69"), row(id="D", creat="04.05.2026 10:15")]
    result = load_file(engine, write_csv(tmp_path / "h.csv", rows), "testville",
                       test_mapping(time__format="iso"))
    got = {r["source_row"]: r for r in rejects(engine, result.run_id)}
    assert "wrong way round" in got[2]["message"]
    assert "sunt 'lon' și 'lat' inversate în mapare?" in got[2]["message_ro"]
    assert "'iso' is YYYY-MM-DD" in got[3]["message"]
    assert "'iso' înseamnă AAAA-LL-ZZ" in got[3]["message_ro"]


def test_unknown_category_goes_to_the_fallback_when_there_is_one(engine, city, tmp_path):
    path = write_csv(tmp_path / "f.csv", [GOOD, row(id="B", tip="Altceva")])
    result = load_file(engine, path, "testville", test_mapping(category__fallback="noise"))
    assert (result.inserted, result.rejected) == (2, 0)
    assert {i["external_id"]: i["category"] for i in incidents(engine)} == {
        "A1": "pothole",
        "B": "noise",
    }


def test_a_closed_date_that_does_not_parse_is_rejected_too(engine, city, tmp_path):
    path = write_csv(tmp_path / "c.csv", [GOOD, row(id="B", stare="Închisă", inchis="mâine")])
    result = load_file(engine, path, "testville", test_mapping())
    assert result.reasons == {"bad_date": 1}
    (rej,) = rejects(engine, result.run_id)
    assert "'inchis'" in rej["message"]


def test_old_rejects_lose_their_raw_values_and_keep_the_rest(engine, city, tmp_path):
    old = load_file(engine, write_csv(tmp_path / "old.csv", [GOOD, CORPUS["missing_date"]]),
                    "testville", test_mapping())
    recent = load_file(engine, write_csv(tmp_path / "new.csv", [CORPUS["bad_date"]]),
                       "testville", test_mapping())
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE feed_runs SET started_at = now() - interval '100 days'"
                             " WHERE run_id = :r"), {"r": old.run_id})
    assert forget_raw(engine, 90) == 1
    (gone,) = rejects(engine, old.run_id)
    assert gone["raw"] == {} and gone["reason"] == "missing_date" and gone["message"]
    (kept,) = rejects(engine, recent.run_id)
    assert kept["raw"]["creat"] == "2026-13-45 10:00"
    assert forget_raw(engine, 90) == 0  # nothing left to forget
    assert forget_raw(engine, 0, "testville") == 1
    with pytest.raises(SesizariError, match="nowhere"):
        forget_raw(engine, 0, "nowhere")
    with pytest.raises(ValidationError, match="0 or more"):
        forget_raw(engine, -1)


def test_a_cell_past_the_csv_modules_default_limit_is_a_reject_not_a_failed_load(
        engine, city, tmp_path):
    """The csv module stops at 131,072 characters a field by default: one pasted
    e-mail thread failed the whole load.  Such a row is now too long, like any."""
    long_text = "Sesizare retrimisă. " * 10_000  # 200,000 characters
    path = write_csv(tmp_path / "long.csv", [GOOD, row(id="B", descriere=long_text), row(id="C")])
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.read, result.inserted, result.rejected) == (3, 2, 1)
    assert result.reasons == {"description_too_long": 1}
    (rej,) = rejects(engine, result.run_id)
    assert rej["source_row"] == 2 and "199999 characters" in rej["message"]


def test_a_quote_never_closed_stops_the_load_with_advice(engine, city, tmp_path):
    from etl.readers import CSV_FIELD_LIMIT

    path = tmp_path / "quote.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(",".join(HEADER) + "\n")
        fh.write('A1,2026-05-04 10:15,,Groapă,Deschisă,45.69,21.90,"Str. Bucegi 3,x\n')
        line = "B,2026-05-04 10:15,,Groapă,Deschisă,45.69,21.90,Str. Bucegi 3,x\n"
        fh.write(line * (CSV_FIELD_LIMIT // len(line) + 10))
    with pytest.raises(ValidationError, match=r"row 1: field larger than field limit .*"
                       "check quotes and delimiter"):
        load_file(engine, path, "testville", test_mapping())


def test_a_point_inside_once_its_coordinates_are_swapped_says_so(engine, city, tmp_path):
    """Latitude before longitude (or Stereo 70 northing before easting) puts a
    whole file outside the city: the message names the likely fix."""
    import json

    path = write_csv(tmp_path / "s.csv", [GOOD, row(id="B", lat="21.90", lon="45.69"),
                                           row(id="C", lat="47.69", lon="21.90")])
    result = load_file(engine, path, "testville", test_mapping())
    assert result.reasons == {"outside_boundary": 2}
    swapped, far = rejects(engine, result.run_id)
    assert swapped["message"].endswith(
        "with the two values swapped it falls inside: are 'lon' and 'lat' the wrong way"
        " round in the mapping?")
    assert far["message"] == "the point is outside the boundary of Testville"
    # A file's geometry, [lat, lon] in GeoJSON, and WKT.
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [45.69, 21.9]},
               "properties": {"id": "G", "created_at": "2026-05-04T10:15", "category": "pothole",
                              "description": "Groapă"}}
    gpath = tmp_path / "s.geojson"
    gpath.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8")
    from etl.mapping import load_mapping

    for result in (
        load_file(engine, gpath, "testville", load_mapping("geojson")),
        load_file(engine, write_csv(tmp_path / "w.csv", [row(id="W", lon="POINT(45.69 21.9)")]),
                  "testville", test_mapping(geometry={"wkt": "lon"})),
    ):
        (rej,) = rejects(engine, result.run_id)
        assert rej["reason"] == "outside_boundary"
        assert "with x and y swapped it falls inside" in rej["message"]


def test_stereo70_metres_under_a_lon_lat_mapping_name_the_crs_to_set(engine, city, tmp_path):
    """(21.90, 45.69) is Stereo 70 (258737.07 E, 470270.35 N): an export in the
    national grid loaded with the default crs fails every row as bad
    coordinates; the message says which crs puts them inside the city."""
    path = write_csv(tmp_path / "s70.csv", [
        GOOD,
        row(id="B", lon="258737.07", lat="470270.35"),
        row(id="C", lon="470270,35", lat="258737,07"),
        row(id="D", lon="9258737", lat="470270"),
        row(id="E", lon="x", lat="470270"),
    ])
    result = load_file(engine, path, "testville", test_mapping())
    assert result.reasons == {"bad_coordinates": 4}
    as_is, swapped, far, text = (r["message"] for r in rejects(engine, result.run_id))
    assert as_is.endswith("read as Stereo 70 metres they fall inside the city: set"
                          ' crs = "EPSG:3844" in the mapping\'s [geometry]')
    assert swapped.endswith("read as Stereo 70 metres, swapped, they fall inside the city:"
                            ' set crs = "EPSG:3844" in the mapping\'s [geometry] and swap'
                            " 'lon' and 'lat'")
    plain = "coordinates in 'lon'/'lat' are not valid numbers/geometry for EPSG:4326"
    assert far == plain and text == plain


def test_a_shapefile_without_its_prj_in_stereo70_names_the_crs_to_set(engine, city, tmp_path):
    """Without its .prj a Shapefile names no CRS, so its Stereo 70 metres are read
    as degrees and every row fails; the message says what to set.  WKT the same."""
    import geopandas as gpd
    from shapely.geometry import Point

    from etl.mapping import load_mapping

    frame = gpd.GeoDataFrame(
        {"id": ["S1", "S2"], "created_at": ["2026-05-04 10:15:00"] * 2,
         "category": ["pothole"] * 2},
        geometry=[Point(258737.07, 470270.35), Point(470270.35, 258737.07)], crs=3844,
    )
    frame.to_file(tmp_path / "s70.shp")
    (tmp_path / "s70.prj").unlink()
    result = load_file(engine, tmp_path / "s70.shp", "testville", load_mapping("geojson"))
    assert result.reasons == {"bad_coordinates": 2}
    as_is, swapped = (r["message"] for r in rejects(engine, result.run_id))
    why = ("(the file names no CRS: a Shapefile without its .prj?): set crs = \"EPSG:3844\""
           " in the mapping's [geometry]")
    assert as_is.endswith(f"read as Stereo 70 metres it falls inside the city {why}")
    assert swapped.endswith(
        f"read as Stereo 70 metres with x and y swapped it falls inside the city {why}")
    # With the .prj (the file's own CRS) the first loads, the swapped one is outside.
    frame.to_file(tmp_path / "s70b.shp")
    result = load_file(engine, tmp_path / "s70b.shp", "testville", load_mapping("geojson"))
    assert (result.inserted, result.reasons) == (1, {"outside_boundary": 1})
    (rej,) = rejects(engine, result.run_id)
    assert "with x and y swapped it falls inside" in rej["message"]
    path = write_csv(tmp_path / "w.csv", [row(id="W", lon="POINT(258737.07 470270.35)")])
    result = load_file(engine, path, "testville", test_mapping(geometry={"wkt": "lon"}))
    (rej,) = rejects(engine, result.run_id)
    assert rej["message"].endswith("read as Stereo 70 metres it falls inside the city: set"
                                   ' crs = "EPSG:3844" in the mapping\'s [geometry]')


def test_map_keys_match_values_written_in_another_case_or_spacing(engine, city, tmp_path):
    """A hand-kept export writes one category several ways: each matches the
    map's key (exactly first, then ignoring case and repeated spaces), the
    status map too; a value that is none of them still goes by its reason."""
    rows = [row(id="C1", tip="GROAPĂ"), row(id="C2", tip="  groapă "),
            row(id="C3", tip="Bec  ars", stare="ÎNCHISĂ", inchis="2026-05-05 10:00"),
            row(id="C4", tip="Groapa")]  # no diacritics: another word for the map
    result = load_file(engine, write_csv(tmp_path / "case.csv", rows), "testville",
                       test_mapping())
    assert (result.inserted, result.reasons) == (3, {"unknown_category": 1})
    got = {i["external_id"]: (i["category"], i["status"]) for i in incidents(engine)}
    assert got == {"C1": ("pothole", "new"), "C2": ("pothole", "new"),
                   "C3": ("street_light", "closed")}


def test_map_keys_that_differ_only_in_case_must_agree():
    with pytest.raises(ValidationError, match=r"'Groapă' and 'GROAPĂ' differ only in case or"
                       r" spaces but map to 'pothole' and 'noise'"):
        test_mapping(category__map={"Groapă": "pothole", "GROAPĂ": "noise"})
    same = test_mapping(category__map={"Groapă": "pothole", "GROAPĂ": "pothole"})
    assert same.category_map == {"Groapă": "pothole", "GROAPĂ": "pothole"}


def test_a_rejected_row_keeps_only_the_columns_the_mapping_reads(engine, city, tmp_path):
    """What fixing and reloading the row needs: the petitioner's name and phone
    of a registry export, which the load never read, are not kept with it."""
    header = [*HEADER, "Nume petent", "Telefon"]
    bad = {**CORPUS["bad_date"], "Nume petent": "Ion Popescu", "Telefon": "0744 123 456"}
    good = {**GOOD, "Nume petent": "Ana Pop", "Telefon": "0755 000 111"}
    path = write_csv(tmp_path / "p.csv", [good, bad], header=header)
    result = load_file(engine, path, "testville", test_mapping())
    (rej,) = rejects(engine, result.run_id)
    assert set(rej["raw"]) == set(HEADER)
    assert rej["raw"]["creat"] == "2026-13-45 10:00"
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT raw::text FROM feed_rejects")).scalar_one()
    assert "Popescu" not in stored and "0744" not in stored


def test_a_closed_default_without_a_closing_date_names_the_default(engine, city, tmp_path):
    """An empty or unmapped status falls to the mapping's default: the message
    must not credit the row's value ("'stare' '' says ...")."""
    path = write_csv(tmp_path / "d.csv", [row(id="D1", stare="", inchis="")])
    result = load_file(engine, path, "testville", test_mapping(status__default="closed"))
    (rej,) = rejects(engine, result.run_id)
    assert rej["message"].startswith(
        "the mapping's [status] default, 'closed', says the report is closed, but 'inchis'"
        " is empty")
    assert rej["message_ro"].startswith("valoarea implicită din [status] a mapării, 'closed',")

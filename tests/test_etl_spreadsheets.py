"""Spreadsheets (.xlsx, .ods): a registry's usual export, loaded end to end.

Written here with GDAL's XLSX/ODS drivers (files from another program than
the reader, etl/spreadsheets.py): text cells, and date cells
(typed by the file, so read as dates whatever pattern the mapping gives for
text dates), one sheet or several.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pyogrio
import pytest

from etl.load import load_file
from sesizari.errors import ValidationError
from tests.etl_helpers import GOOD, incidents, rejects, test_mapping, write_csv
from tests.test_etl_cli import MAPPING_TOML, _run

# The test mapping reads text dates as "YYYY-MM-DD HH24:MI" in Europe/Bucharest.
OPENED_UTC = datetime(2026, 5, 4, 7, 15, tzinfo=UTC)  # 10:15 in Bucharest (UTC+3)


def _sheet(path, rows: list[dict], layer: str = "Sesizari", append: bool = False):
    driver = "XLSX" if path.suffix == ".xlsx" else "ODS"
    pyogrio.write_dataframe(pd.DataFrame(rows), path, driver=driver, layer=layer,
                            append=append)
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_a_sheet_of_text_cells_loads_with_its_header(engine, city, tmp_path, suffix):
    # Every cell is text: the first row is still the header (GDAL's own guess
    # reads it as data).
    path = _sheet(tmp_path / f"export{suffix}", [GOOD, {**GOOD, "id": "A2", "lat": ""}])
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.read, result.inserted, result.rejected) == (2, 1, 1)
    assert result.reasons == {"missing_coordinates": 1}
    (got,) = incidents(engine)
    assert (got["external_id"], got["created_at"], got["address"]) == (
        "A1", OPENED_UTC, "Str. Bucegi 3")


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_date_cells_are_read_as_dates_whatever_the_text_pattern(engine, city, tmp_path, suffix):
    rows = [
        {**GOOD, "creat": datetime(2026, 5, 4, 10, 15), "inchis": datetime(2026, 5, 6, 9, 0),
         "stare": "Închisă", "lat": 45.69, "lon": 21.9},
        {**GOOD, "id": "A2", "creat": datetime(2026, 5, 4, 10, 15), "inchis": None},
        # Closed before opened, both date cells: compared as instants.
        {**GOOD, "id": "A3", "creat": datetime(2026, 5, 4, 10, 15),
         "inchis": datetime(2026, 5, 1, 8, 0), "stare": "Închisă"},
    ]
    path = _sheet(tmp_path / f"dates{suffix}", rows)
    result = load_file(engine, path, "testville", test_mapping())
    assert (result.inserted, result.rejected) == (2, 1), result.reasons
    assert result.reasons == {"closed_before_created": 1}
    got = {i["external_id"]: i for i in incidents(engine)}
    assert got["A1"]["created_at"] == OPENED_UTC
    assert got["A1"]["resolved_at"] == datetime(2026, 5, 6, 6, 0, tzinfo=UTC)
    assert (got["A1"]["status"], got["A1"]["lat"], got["A1"]["lon"]) == ("closed", 45.69, 21.9)
    assert (got["A2"]["status"], got["A2"]["resolved_at"]) == ("new", None)


def test_the_sheet_is_chosen_by_name_and_the_first_is_the_default(engine, city, tmp_path):
    path = _sheet(tmp_path / "two.xlsx", [GOOD], layer="Sesizari")
    _sheet(path, [{**GOOD, "id": "B1"}, {**GOOD, "id": "B2"}], layer="Arhiva", append=True)
    first = load_file(engine, path, "testville", test_mapping())
    assert first.inserted == 1
    second = load_file(engine, path, "testville", test_mapping(), layer="Arhiva")
    assert second.inserted == 2
    assert sorted(i["external_id"] for i in incidents(engine)) == ["A1", "B1", "B2"]
    # A first sheet without the mapped columns: the message names the sheets.
    cover = _sheet(tmp_path / "cover.xlsx", [{"Titlu": "Registru 2025"}], layer="Coperta")
    _sheet(cover, [GOOD], layer="Date", append=True)
    with pytest.raises(ValidationError, match=r"sheet or layer 'Coperta' of \['Coperta', 'Date'\]"
                       r".*--layer"):
        load_file(engine, cover, "testville", test_mapping())
    assert load_file(engine, cover, "testville", test_mapping(), layer="Date").unchanged == 1
    with pytest.raises(ValidationError, match=r"no layer or sheet 'Anexa'.*'Sesizari', 'Arhiva'"):
        load_file(engine, path, "testville", test_mapping(), layer="Anexa")
    csv_path = write_csv(tmp_path / "a.csv", [GOOD])
    with pytest.raises(ValidationError, match="is a text file"):
        load_file(engine, csv_path, "testville", test_mapping(), layer="Arhiva")


def test_the_command_line_names_the_sheet_it_reads(engine, city, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    path = _sheet(tmp_path / "two.ods", [GOOD], layer="Sesizari")
    _sheet(path, [{**GOOD, "id": "B1"}], layer="Arhiva", append=True)
    out = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping)], engine,
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Reading 'Sesizari', the first of 2 sheets or layers (also Arhiva)" in out.stderr
    assert "inserted 1" in out.stdout
    out = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping),
                "--layer", "Arhiva"], engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Reading" not in out.stderr and "inserted 1" in out.stdout
    assert rejects(engine, 1) == []

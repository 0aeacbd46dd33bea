"""Mapping files: TOML or YAML, the same keys, every mistake named."""

from __future__ import annotations

import tomllib

import pytest
import yaml

from etl.load import load_file
from etl.mapping import MAPPINGS_DIR, load_mapping, parse_mapping
from sesizari.errors import ValidationError
from tests.etl_helpers import GOOD, incidents, row, test_mapping, write_csv

YAML_MAPPING = """\
# The test export, in YAML.
source: primarie
columns:
  external_id: id
  created: creat
  closed: inchis
  address: adresa
  description: [descriere]
time:
  format: YYYY-MM-DD HH24:MI
  timezone: Europe/Bucharest
category:
  column: tip
  map:
    "Groapă": pothole
status:
  column: stare
  map:
    "Deschisă": new
    "Închisă": closed
geometry:
  lon: lon
  lat: lat
  crs: "EPSG:4326"
"""


@pytest.mark.parametrize("name", sorted(p.stem for p in MAPPINGS_DIR.glob("*.toml")))
def test_every_shipped_mapping_reads_the_same_from_yaml(tmp_path, name):
    toml_path = MAPPINGS_DIR / f"{name}.toml"
    data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    yaml_path = tmp_path / f"{name}.yaml"
    yaml_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_mapping(yaml_path) == load_mapping(toml_path) == load_mapping(name)


def test_a_yaml_mapping_loads_a_file(engine, city, tmp_path):
    path = tmp_path / "export.yml"
    path.write_text(YAML_MAPPING, encoding="utf-8")
    result = load_file(engine, write_csv(tmp_path / "a.csv", [GOOD]), "testville",
                       load_mapping(path))
    assert (result.inserted, result.rejected) == (1, 0)
    assert incidents(engine)[0]["category"] == "pothole"


def test_yaml_pitfalls_get_a_message_that_says_what_to_do(tmp_path):
    # YAML 1.1 reads an unquoted "yes" as a boolean: the map must say so.
    path = tmp_path / "m.yaml"
    path.write_text(YAML_MAPPING.replace('"Deschisă": new', 'yes: new'), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"status.map.*quote both sides in YAML"):
        load_mapping(path)
    path.write_text("source: [unclosed", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"m\.yaml is not valid YAML"):
        load_mapping(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(ValidationError, match="must be a table of keys"):
        load_mapping(path)


def test_a_misspelt_key_is_refused_not_ignored():
    data = tomllib.loads((MAPPINGS_DIR / "nyc311.toml").read_text(encoding="utf-8"))
    data["columns"]["adress"] = "Incident Address"
    with pytest.raises(ValidationError, match=r"columns.adress.*is not a mapping key"):
        parse_mapping(data)
    data["columns"].pop("adress")
    data["geometry_crs"] = 4326
    with pytest.raises(ValidationError, match=r"geometry_crs.*the top level takes"):
        parse_mapping(data)


def test_the_nyc_mapping_maps_agencies_and_a_name_finds_yaml_too(tmp_path, monkeypatch):
    nyc = load_mapping("nyc311")
    assert nyc.department == "Agency"
    assert nyc.department_map["NYPD"] == "police"
    assert "Agency" in nyc.columns()
    monkeypatch.setattr("etl.mapping.MAPPINGS_DIR", tmp_path)
    (tmp_path / "local.yml").write_text(YAML_MAPPING, encoding="utf-8")
    assert load_mapping("local").source == "primarie"
    with pytest.raises(ValidationError, match="one of: local"):
        load_mapping("missing")


def test_null_values_read_as_empty_in_every_mapped_column(engine, city, tmp_path):
    # "NA" closing date: not closed, not a bad date; "N/A" address: none; the
    # same text inside a longer value stays.
    rows = [row(id="A1", inchis=" NA ", adresa="N/A", descriere="NA"),
            row(id="A2", adresa="Str. NA 1")]
    path = write_csv(tmp_path / "na.csv", rows)
    result = load_file(engine, path, "testville", test_mapping(null_values=["NA", "N/A"]))
    assert (result.inserted, result.rejected) == (2, 0)
    got = {i["external_id"]: i for i in incidents(engine)}
    assert (got["A1"]["status"], got["A1"]["closed_at"], got["A1"]["address"]) == (
        "new", None, None)
    assert got["A1"]["description"] == "Groapă"  # no text: the source category
    assert got["A2"]["address"] == "Str. NA 1"
    # Without the key the same file rejects the "NA" date.
    again = load_file(engine, path, "testville", test_mapping(source="other"))
    assert again.reasons == {"bad_date": 1}


@pytest.mark.parametrize("value", [[""], [1], "x" * 21, {"NA": 1}])
def test_bad_null_values_are_refused(value):
    with pytest.raises(ValidationError, match=r'null_values.*mean "no value"'):
        test_mapping(null_values=value)


def test_a_mapped_column_twice_in_the_header_is_refused(engine, city, tmp_path):
    header = ["id", "creat", "inchis", "tip", "stare", "lat", "lon", "adresa", "adresa",
              "descriere"]
    path = tmp_path / "twice.csv"
    path.write_text(",".join(header) + "\nA1,2026-05-04 10:15,,Groapă,Deschisă,45.69,21.90,"
                    "Str. 1,Str. 2,x\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"\['adresa'\] more than once in its header"):
        load_file(engine, path, "testville", test_mapping())
    assert incidents(engine) == []


@pytest.mark.parametrize(("fmt", "message"), [
    ("DD.MM.YYYY HH:MI", "without AM/PM"),          # HH is 12-hour: 12:30 read as 00:30
    ("DD.MM.YYYY HH12:MI", "without AM/PM"),
    ("dd.mm.yyyy hh:mi", "without AM/PM"),
    ("DD.MM.YYYY HH24:MM", "MM is the month, minutes are MI"),
])
def test_date_patterns_that_would_load_wrong_times_are_refused(fmt, message):
    with pytest.raises(ValidationError, match=message) as info:
        test_mapping(time__format=fmt)
    assert info.value.field == "time.format"


@pytest.mark.parametrize("fmt", [
    "iso", "DD.MM.YYYY HH24:MI", "MM/DD/YYYY HH12:MI:SS AM", "dd.mm.yyyy hh24:mi",
    'YYYY-MM-DD"T"HH24:MI:SS', "YYYYMMDD", "DD.MM.YYYY", "MM/DD/YYYY HH:MI P.M.",
])
def test_date_patterns_in_use_are_accepted(fmt):
    assert test_mapping(time__format=fmt).date_format == fmt

"""The real San Francisco 311 sample (4,984 cases), with the shipped ``sf311`` mapping.

The export writes empty values as "NA" (222 open cases have Closed = "NA"):
the mapping's ``null_values`` must read them as empty, not reject them as
bad dates, and keep them out of descriptions and resolutions.  Expected
counts come from a plain row-by-row reading here (csv + zoneinfo).
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from etl.load import load_file
from etl.mapping import load_mapping
from sesizari import catalog
from tests.conftest import SHARED

SF_SAMPLE = SHARED / "data" / "311-samples" / "sf" / "sf311_cases_sample.csv"
LA = ZoneInfo("America/Los_Angeles")
BOX = (-122.52, 37.70, -122.36, 37.84)
DEPARTMENTS = {
    "garbage": "sanitation", "abandoned_car": "police", "sewer": "water",
    "street_light": "lighting", "pothole": "roads", "sidewalk": "roads",
    "fallen_tree": "green", "traffic_sign": "traffic", "public_order": "police",
    "other": "roads",
}

pytestmark = pytest.mark.skipif(not SF_SAMPLE.exists(), reason="shared SF 311 sample not present")


@pytest.fixture
def sf(engine):
    with engine.begin() as conn:
        cid = catalog.create_city(
            conn, slug="sf", name_ro="San Francisco", name_en="San Francisco",
            registry_prefix="SFO", boundary=box(*BOX), timezone="America/Los_Angeles",
        )
        for dep in sorted(set(DEPARTMENTS.values())):
            catalog.create_department(conn, cid, dep, dep, dep)
        for code, dep in DEPARTMENTS.items():
            catalog.create_category(conn, cid, code, code, code, dep, 72)
    return cid


def _instant(text: str) -> tuple[datetime | None, str | None]:
    naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    a, b = naive.replace(tzinfo=LA, fold=0), naive.replace(tzinfo=LA, fold=1)
    if a.utcoffset() != b.utcoffset():
        roundtrip = a.astimezone(UTC).astimezone(LA).replace(tzinfo=None)
        return None, "ambiguous_local_time" if roundtrip == naive else "nonexistent_local_time"
    return a.astimezone(UTC), None


def _expected():
    """(accepted rows by case id, reject reasons) from a plain reading of the file."""
    mapping = load_mapping("sf311")
    accepted, reasons = {}, Counter()
    with SF_SAMPLE.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            created, problem = _instant(rec["Opened"])
            closed, closed_problem = (None, None) if rec["Closed"] == "NA" else _instant(
                rec["Closed"]
            )
            lon, lat = float(rec["Long"]), float(rec["Lat"])
            if problem or closed_problem:
                reasons[problem or closed_problem] += 1
            elif closed is not None and closed < created:
                reasons["closed_before_created"] += 1
            elif not (BOX[0] <= lon <= BOX[2] and BOX[1] <= lat <= BOX[3]):
                reasons["outside_boundary"] += 1
            else:
                code = mapping.category_map.get(rec["Category"], "other")
                accepted[rec["CaseID"]] = (rec, created, closed, code)
    return accepted, reasons


def test_the_sf_311_sample_loads_with_na_as_empty(engine, sf):
    accepted, reasons = _expected()
    assert sum(1 for rec, *_ in accepted.values() if rec["Closed"] == "NA") > 200

    result = load_file(engine, SF_SAMPLE, "sf", load_mapping("sf311"), batch_size=1000)
    assert result.read == 4984
    assert dict(result.reasons) == {k: v for k, v in reasons.items() if v}
    assert reasons["closed_before_created"] == 55  # the sample's negative durations
    assert "bad_date" not in result.reasons  # "NA" is no date, and no bad one either
    assert result.inserted == len(accepted)
    assert result.read == result.inserted + result.rejected

    with engine.connect() as conn:
        got = {
            r.external_id: r
            for r in conn.execute(
                sa.text(
                    "SELECT i.external_id, i.status, i.created_at, i.resolved_at,"
                    " i.description, i.resolution_text, i.address, c.code"
                    " FROM incidents i JOIN categories c USING (city_id, category_id)"
                    " WHERE i.city_id = :c"
                ),
                {"c": sf},
            )
        }
    assert set(got) == set(accepted)
    for key, (rec, created, closed, code) in accepted.items():
        row = got[key]
        assert (row.created_at, row.code, row.address) == (created, code, rec["Address"].strip())
        parts = [p.strip() for p in (rec["Request.Type"], rec["Request.Details"]) if p != "NA"]
        # No text at all: the loader describes the row by its source category.
        assert row.description == (" — ".join(parts) or rec["Category"])
        if rec["Status"] == "Open":
            assert (row.status, row.resolved_at, row.resolution_text) == ("new", None, None)
        else:
            assert (row.status, row.resolved_at) == ("closed", closed)
            notes = rec["Status.Notes"]
            assert row.resolution_text == (
                notes.strip() if notes != "NA" else "Închisă în sistemul sursă"
            )

    again = load_file(engine, SF_SAMPLE, "sf", load_mapping("sf311"), batch_size=1000)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(accepted))

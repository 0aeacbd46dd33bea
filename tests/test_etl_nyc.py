"""A real NYC 311 export (5,895 rows), into a test city covering New York.

Expected counts are computed here independently (csv + zoneinfo), so the
loader's set-wise SQL is checked against a plain row-by-row reading.
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

NYC_SAMPLE = SHARED / "data" / "311-samples" / "nyc" / "nyc311_sample.csv"
NY = ZoneInfo("America/New_York")
FORMAT = "%m/%d/%Y %I:%M:%S %p"


@pytest.fixture
def nyc(engine):
    with engine.begin() as conn:
        cid = catalog.create_city(
            conn,
            slug="nyc",
            name_ro="New York",
            name_en="New York",
            registry_prefix="NYC",
            boundary=box(-74.3, 40.45, -73.65, 40.95),
            timezone="America/New_York",
        )
        catalog.create_department(conn, cid, "health", "Sănătate", "Health")
        catalog.create_department(conn, cid, "roads", "Drumuri", "Roads")
        catalog.create_department(conn, cid, "police", "Poliție", "Police")
        # Animals route to the local police here; the mapping's agency map
        # sends the sample's DOHMH rows to health instead.
        for code, dep in (
            ("animal", "police"),
            ("other", "health"),
            ("pothole", "roads"),
            ("street_light", "roads"),
            ("noise", "police"),
        ):
            catalog.create_category(conn, cid, code, code, code, dep, 72)
    return cid


def _instant(text: str) -> tuple[datetime | None, str | None]:
    naive = datetime.strptime(text, FORMAT)
    a, b = naive.replace(tzinfo=NY, fold=0), naive.replace(tzinfo=NY, fold=1)
    if a.utcoffset() != b.utcoffset():
        roundtrip = a.astimezone(UTC).astimezone(NY).replace(tzinfo=None)
        return (None, "ambiguous_local_time" if roundtrip == naive else "nonexistent_local_time")
    return a.astimezone(UTC), None


def _expected(path):
    """(accepted rows by id, reject reasons, rows read) from a plain reading of the file."""
    accepted, reasons, n = {}, Counter(), 0
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            n += 1
            created, problem = _instant(rec["Created Date"])
            closed, closed_problem = (
                _instant(rec["Closed Date"]) if rec["Closed Date"] else (None, None)
            )
            if problem or closed_problem:
                reasons[problem or closed_problem] += 1
            elif closed is not None and closed < created:
                reasons["closed_before_created"] += 1
            elif not rec["Latitude"] or not rec["Longitude"]:
                reasons["missing_coordinates"] += 1
            elif not (
                -74.3 <= float(rec["Longitude"]) <= -73.65
                and 40.45 <= float(rec["Latitude"]) <= 40.95
            ):
                reasons["outside_boundary"] += 1
            else:
                accepted[rec["Unique Key"]] = (rec, created, closed)
    return accepted, reasons, n


@pytest.mark.skipif(not NYC_SAMPLE.exists(), reason="shared NYC 311 sample not present")
def test_the_nyc_311_sample(engine, nyc):
    path = NYC_SAMPLE
    accepted, reasons, n = _expected(path)
    assert n == 5895
    assert reasons["missing_coordinates"] > 0  # the sample is messy on purpose

    result = load_file(engine, path, "nyc", load_mapping("nyc311"), batch_size=1000)
    assert result.read == n
    assert result.inserted == len(accepted)
    assert dict(result.reasons) == {k: v for k, v in reasons.items() if v}
    assert result.read == result.inserted + result.updated + result.unchanged + result.rejected

    with engine.connect() as conn:
        rows = {
            r.external_id: r
            for r in conn.execute(
                sa.text(
                    "SELECT i.external_id, i.status, i.created_at, i.resolved_at, c.code,"
                    " i.registry_number, i.resolution_text, i.description,"
                    " d.code AS department"
                    " FROM incidents i JOIN categories c USING (city_id, category_id)"
                    " JOIN departments d ON d.city_id = i.city_id"
                    " AND d.department_id = i.department_id"
                    " WHERE i.city_id = :c"
                ),
                {"c": nyc},
            )
        }
        years = dict(
            conn.execute(
                sa.text("SELECT year, last_value FROM registry_counters WHERE city_id = :c"),
                {"c": nyc},
            ).all()
        )
    assert set(rows) == set(accepted)
    status_map = load_mapping("nyc311").status_map
    for key, (rec, created, closed) in accepted.items():
        got = rows[key]
        assert got.created_at == created
        assert got.status == status_map.get(rec["Status"], "new")
        assert got.code == "animal"
        assert rec["Agency"] == "DOHMH" and got.department == "health"
        if got.status == "closed":
            assert got.resolved_at == (closed or created)
            assert got.resolution_text == (
                rec["Resolution Description"] or "Închisă în sistemul sursă"
            )
    # Registry numbers: per local year, 1..n without gaps.
    per_year = Counter(created.astimezone(NY).year for _, created, _ in accepted.values())
    assert years == dict(per_year)
    for year, n in per_year.items():
        numbers = sorted(
            r.registry_number for r in rows.values() if r.registry_number.startswith(f"NYC-{year}-")
        )
        assert numbers == [f"NYC-{year}-{k:06d}" for k in range(1, n + 1)]

    again = load_file(engine, path, "nyc", load_mapping("nyc311"), batch_size=1000)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(accepted))

"""Registry numbers: sequential per city and local year, no duplicates, no gaps."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from sesizari import registry
from sesizari.errors import ValidationError
from sesizari.incidents import NewIncident, create_incident, create_incident_in
from tests.conftest import TEST_LAT, TEST_LON


def _new(**kw) -> NewIncident:
    base = dict(
        city="testville",
        category="pothole",
        latitude=TEST_LAT,
        longitude=TEST_LON,
        description="Groapă",
    )
    base.update(kw)
    return NewIncident(**base)


def test_format_and_parse():
    assert registry.format_number("LUG", 2026, 123) == "LUG-2026-000123"
    assert registry.parse_number(" lug-2026-000123 ") == ("LUG", 2026, 123)
    assert registry.parse_number("LUG-26-1") is None


def test_a_typed_number_finds_the_stored_one_or_shows_the_form():
    assert registry.read_number(" lug-2026-123 ") == ("LUG", "LUG-2026-000123")
    assert registry.read_number("LUG-2026-0000123") == ("LUG", "LUG-2026-000123")
    for typed in ("", None, "LUG 2026 123", "2026-000123"):
        with pytest.raises(ValidationError) as err:
            registry.read_number(typed)
        assert err.value.field == "registry_number"
        assert "LUG-2026-000123" in str(err.value) and "LUG-2026-000123" in err.value.ro


def test_fifty_concurrent_submissions_get_distinct_consecutive_numbers(engine, city):
    year = datetime.now(UTC).year  # the test runs well away from New Year in Bucharest
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(
            pool.map(lambda i: create_incident(engine, _new(description=f"n{i}")), range(60))
        )
    numbers = sorted(r.registry_number for r in results)
    assert len(set(numbers)) == 60
    seqs = sorted(registry.parse_number(n)[2] for n in numbers)
    assert seqs == list(range(1, 61))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT last_value FROM registry_counters")).scalar_one() == 60
        prefixes = {registry.parse_number(n)[:2] for n in numbers}
    assert prefixes in ({("TST", year)}, {("TST", year + 1)})


def test_rolled_back_submission_leaves_no_gap(engine, city):
    first = create_incident(engine, _new())
    with pytest.raises(RuntimeError), engine.begin() as conn:
        create_incident_in(conn, _new())
        raise RuntimeError("rollback after numbering")
    second = create_incident(engine, _new())
    assert registry.parse_number(first.registry_number)[2] == 1
    assert registry.parse_number(second.registry_number)[2] == 2


def test_year_follows_the_city_time_zone(engine, city):
    # 22:30 UTC on 31 December is already 00:30 on 1 January in Bucharest (UTC+2).
    late = create_incident(engine, _new(created_at=datetime(2025, 12, 31, 21, 30, tzinfo=UTC)))
    new_year = create_incident(engine, _new(created_at=datetime(2025, 12, 31, 22, 30, tzinfo=UTC)))
    assert late.registry_number == "TST-2025-000001"
    assert new_year.registry_number == "TST-2026-000001"


def test_numbers_are_per_city(engine, city):
    from sesizari import catalog
    from tests.conftest import TEST_BOUNDARY

    with engine.begin() as conn:
        cid = catalog.create_city(
            conn,
            slug="other",
            name_ro="Alt",
            name_en="Other",
            registry_prefix="OTH",
            boundary=TEST_BOUNDARY,
        )
        catalog.create_department(conn, cid, "roads", "Drumuri", "Roads")
        catalog.create_category(conn, cid, "pothole", "Groapă", "Pothole", "roads", 72)
    a = create_incident(engine, _new())
    b = create_incident(engine, _new(city="other"))
    assert a.registry_number.endswith("-000001") and a.registry_number.startswith("TST-")
    assert b.registry_number.endswith("-000001") and b.registry_number.startswith("OTH-")


def test_staff_and_citizens_find_a_report_by_the_number_as_they_type_it(engine, city, tmp_path,
                                                                        monkeypatch):  # fmt: skip
    """Lower case, no leading zeros: the tracking page, a support, a duplicate
    link and an erasure request all find the stored number, and the erasure
    journal keeps it as stored."""
    from sesizari import erasure_log, intake, privacy, tracking
    from sesizari.incidents import Action, Actor, Contact, perform

    monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path))
    original = create_incident(engine, _new()).registry_number
    again = create_incident(engine, _new(contact=Contact(name="Ana Pop", consent=True)))
    typed = lambda number: number.lower().replace("-000", "-")  # noqa: E731
    assert typed(original) != original.lower()  # e.g. tst-2026-1

    assert tracking.track(engine, typed(original))["registry_number"] == original
    assert intake.add_support(engine, "testville", typed(original)) == 1
    perform(engine, "testville", typed(again.registry_number), Action.MARK_DUPLICATE,
            Actor("ana"), duplicate_of=typed(original))  # fmt: skip
    with engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT d.registry_number FROM incidents i JOIN incidents d"
            " ON d.incident_id = i.duplicate_of WHERE i.registry_number = :n"),
            {"n": again.registry_number}).scalar_one() == original  # fmt: skip
    done = privacy.erase(engine, "testville", typed(again.registry_number), by="test")
    assert done.registry_number == again.registry_number and done.contacts
    [entry] = erasure_log.read([erasure_log.journal_path()]).entries
    assert entry.number == again.registry_number

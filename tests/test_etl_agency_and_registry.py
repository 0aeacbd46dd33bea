"""Two mapping columns beyond the incident's own fields: the agency, which can
set the department instead of routing, and the registry number, kept when
the source is the city's own registry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from etl.load import load_file
from etl.runs import reject_counts
from sesizari import catalog
from sesizari.errors import ValidationError
from sesizari.incidents import NewIncident, create_incident
from tests.etl_helpers import (
    HEADER,
    events,
    incidents,
    rejects,
    row,
    test_mapping,
    write_csv,
)

AGENCY_HEADER = [*HEADER, "agentie"]
REGISTRY_HEADER = [*HEADER, "nr"]


def _agency_mapping(**overrides: object):
    return test_mapping(
        department={"column": "agentie", "map": {"Poliția": "police", "ILUM": "lighting"}},
        **overrides,
    )


def _assignees(engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text(
                    "SELECT i.external_id, u.username FROM incidents i LEFT JOIN users u"
                    " ON u.city_id = i.city_id AND u.user_id = i.assignee_user_id"
                )
            ).all()
        )


def _own_report(engine, created_at: datetime) -> str:
    """A report the city registers itself (at the counter): its registry number."""
    return create_incident(
        engine,
        NewIncident(city="testville", category="pothole", latitude=45.69, longitude=21.9,
                    description="la ghișeu", created_at=created_at),
    ).registry_number


def test_a_mapped_agency_sets_the_department_and_an_unmapped_one_leaves_routing(
    engine, city, tmp_path
):
    with engine.begin() as conn:
        catalog.create_routing_rule(
            conn, city["city_id"], name="Centru", category_code="pothole",
            department_code="lighting", area=box(21.89, 45.68, 21.91, 45.70),
            assignee_username="ion",
        )
    rows = [
        row(id="A1", agentie="Poliția"),      # mapped: police, not the rule's lighting
        row(id="A2", agentie="ILUM"),         # mapped to the rule's own department
        row(id="A3", agentie="Altcineva"),    # unmapped: routing decides
        row(id="A4", agentie=""),             # empty: routing decides
        row(id="A5", agentie="ROADS"),        # a department code maps to itself
    ]
    path = write_csv(tmp_path / "a.csv", rows, header=AGENCY_HEADER)
    result = load_file(engine, path, "testville", _agency_mapping())
    assert (result.inserted, result.rejected) == (5, 0)
    got = {i["external_id"]: i["department"] for i in incidents(engine)}
    assert got == {"A1": "police", "A2": "lighting", "A3": "lighting", "A4": "lighting",
                   "A5": "roads"}
    # The rule's assignee goes with its department only.
    assert _assignees(engine) == {"A1": None, "A2": "ion", "A3": "ion", "A4": "ion",
                                  "A5": None}
    assert events(engine, "A1")[0]["data"]["department"] == "police"
    assert events(engine, "A1")[0]["data"]["rule_id"] is None

    # A later export moves A3 to the police: the incident follows, with an event.
    rows[2] = row(id="A3", agentie="Poliția")
    path = write_csv(tmp_path / "b.csv", rows, header=AGENCY_HEADER)
    again = load_file(engine, path, "testville", _agency_mapping())
    assert (again.updated, again.unchanged) == (1, 4)
    assert {i["external_id"]: i["department"] for i in incidents(engine)}["A3"] == "police"
    assert _assignees(engine)["A3"] is None
    last = events(engine, "A3")[-1]
    assert last["kind"] == "updated" and last["data"]["changed"] == ["department"]


def test_an_agency_map_to_a_department_the_city_lacks_fails_before_writing(
    engine, city, tmp_path
):
    path = write_csv(tmp_path / "a.csv", [row(agentie="X")], header=AGENCY_HEADER)
    mapping = test_mapping(department={"column": "agentie", "map": {"X": "parks"}})
    with pytest.raises(ValidationError, match=r"\['parks'\].*create those departments"):
        load_file(engine, path, "testville", mapping)
    assert incidents(engine) == []
    with pytest.raises(ValidationError, match=r"department\.column"):
        test_mapping(department={"map": {"X": "roads"}})
    with pytest.raises(ValidationError, match="not a department code"):
        test_mapping(department={"column": "agentie", "map": {"X": "Drumuri și poduri"}})


def _registry_mapping():
    return test_mapping(columns__registry_number="nr")


def test_a_registry_source_keeps_its_numbers_and_moves_the_counter_past_them(
    engine, city, tmp_path
):
    rows = [
        row(id="R1", nr="TST-2026-000120"),
        row(id="R2", nr=" TST-2026-000007 "),
        row(id="R3", nr="TST-2025-1234567", creat="2025-03-01 10:00"),
    ]
    path = write_csv(tmp_path / "r.csv", rows, header=REGISTRY_HEADER)
    result = load_file(engine, path, "testville", _registry_mapping(), batch_size=2)
    assert (result.inserted, result.rejected) == (3, 0)
    got = {i["external_id"]: i["registry_number"] for i in incidents(engine)}
    assert got == {"R1": "TST-2026-000120", "R2": "TST-2026-000007", "R3": "TST-2025-1234567"}
    with engine.connect() as conn:
        query = sa.text("SELECT year, last_value FROM registry_counters")
        counters = dict(conn.execute(query).all())
    assert counters == {2026: 120, 2025: 1234567}
    # The same export again: every row matched, its number its own.
    same = load_file(engine, path, "testville", _registry_mapping(), batch_size=2)
    assert (same.unchanged, same.inserted, same.rejected) == (3, 0, 0)
    # The next report the city registers itself gets the number after the highest.
    assert _own_report(engine, datetime(2026, 6, 1, 10, tzinfo=UTC)) == "TST-2026-000121"
    # A counter already past the source's numbers stays where it is.
    again = load_file(engine, write_csv(tmp_path / "s.csv", [row(id="R4", nr="TST-2026-000050")],
                                        header=REGISTRY_HEADER),
                      "testville", _registry_mapping())
    assert again.inserted == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT last_value FROM registry_counters WHERE year = 2026")).scalar_one() == 121


def test_registry_numbers_that_cannot_be_kept_are_rejected_with_their_reason(
    engine, city, tmp_path
):
    own = _own_report(engine, datetime(2026, 1, 5, 10, tzinfo=UTC))
    assert own == "TST-2026-000001"
    first = write_csv(tmp_path / "r.csv", [row(id="K1", nr="TST-2026-000500")],
                      header=REGISTRY_HEADER)
    load_file(engine, first, "testville", _registry_mapping())
    rows = [
        row(id="K1", nr="TST-2026-000501"),        # 1: changed on a loaded incident
        row(id="B1", nr=""),                       # 2: missing
        row(id="B2", nr="LUG-2026-000001"),        # 3: another city's prefix
        row(id="B3", nr="TST-2026-12"),            # 4: too few digits
        row(id="B4", nr="TST-2026-1234567890"),    # 5: more than the counter holds
        row(id="B5", nr=own),                      # 6: the city's own incident has it
        row(id="B6", nr="TST-2026-000600"),        # 7: kept
        row(id="B7", nr="TST-2026-000600"),        # 8: same number again in the file
        row(id="K1x", nr="TST-2026-000500"),       # 9: K1's number, loaded before
    ]
    path = write_csv(tmp_path / "bad.csv", rows, header=REGISTRY_HEADER)
    result = load_file(engine, path, "testville", _registry_mapping())
    assert (result.read, result.inserted, result.updated, result.unchanged, result.rejected) == (
        9, 1, 0, 0, 8)
    got = {r["source_row"]: r["reason"] for r in rejects(engine, result.run_id)}
    assert got == {
        1: "registry_number_changed",
        2: "missing_registry_number",
        3: "bad_registry_number",
        4: "bad_registry_number",
        5: "bad_registry_number",
        6: "registry_number_taken",
        8: "duplicate_registry_number",
        9: "registry_number_taken",
    }
    messages = {r["source_row"]: r["message"] for r in rejects(engine, result.run_id)}
    assert "'nr' 'LUG-2026-000001' is not a registry number of Testville" in messages[3]
    assert "never changes" in messages[1]
    assert reject_counts(engine, "testville", result.run_id)["bad_registry_number"] == 3
    numbers = {i["external_id"]: i["registry_number"] for i in incidents(engine)}
    assert numbers == {"K1": "TST-2026-000500", "B6": "TST-2026-000600"}


def test_without_a_registry_column_numbers_are_allocated_even_if_the_file_has_one(
    engine, city, tmp_path
):
    path = write_csv(tmp_path / "r.csv", [row(id="R1", nr="TST-2026-000900")],
                     header=REGISTRY_HEADER)
    load_file(engine, path, "testville", test_mapping())
    assert [i["registry_number"] for i in incidents(engine)] == ["TST-2026-000001"]


def test_a_registry_source_in_bulk_mode_checks_numbers_across_batches(engine, city, tmp_path):
    rows = [row(id=f"K{k}", nr=f"TST-2026-{100 + k:06d}") for k in range(7)]
    rows[5] = row(id="K5", nr="TST-2026-000101")  # K1's number, two batches later
    path = write_csv(tmp_path / "k.csv", rows, header=REGISTRY_HEADER)
    result = load_file(engine, path, "testville", _registry_mapping(), batch_size=2, bulk=True)
    assert (result.inserted, result.rejected) == (6, 1)
    assert [(r["source_row"], r["reason"]) for r in rejects(engine, result.run_id)] == [
        (6, "registry_number_taken")]
    with engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT last_value FROM registry_counters WHERE year = 2026")).scalar_one() == 106

"""Bulk mode: the same rows, events, rejects and rollups as a normal load,
with the indexes, foreign keys and rollup triggers of incidents and
incident_events back in place afterwards, also when the load fails."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from etl import sql
from etl.load import LoadError, load_file
from etl.runs import list_runs
from sesizari.errors import ValidationError
from tests.etl_helpers import incidents, rejects, row, test_mapping, write_csv
from tests.test_rollup import assert_rollup_exact

SCHEMA = (
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE conrelid IN ('incidents'::regclass, 'incident_events'::regclass)"
    " UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes"
    " WHERE tablename IN ('incidents', 'incident_events')"
    " UNION ALL SELECT tgrelid::regclass::text, tgname, tgenabled::text FROM pg_trigger"
    " WHERE tgrelid IN ('incidents'::regclass, 'incident_events'::regclass)"
    " AND NOT tgisinternal ORDER BY 1, 2, 3"
)


def _schema(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(SCHEMA))]


def _events(engine, source: str) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT i.external_id, e.kind, e.to_status, e.data - 'run_id' - 'source'"
                    " FROM incident_events e JOIN incidents i USING (city_id, incident_id)"
                    " WHERE i.source = :s ORDER BY i.external_id, e.event_id"
                ),
                {"s": source},
            )
        ]


def _comparable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "registry_number"} for r in rows]


def test_bulk_load_gives_the_rows_of_a_normal_load(engine, city, tmp_path):
    rows = [row(id=f"K{k}", creat=f"2026-03-{k % 27 + 1:02d} 10:00") for k in range(10)]
    rows[2] = row(id="K2", tip="Bec ars", stare="Închisă", inchis="2026-05-05 09:00")
    rows[4] = row(id="K4", lat="")  # missing coordinates
    rows[7] = row(id="K1")  # duplicate external id, in a later batch
    path = write_csv(tmp_path / "k.csv", rows)
    before = _schema(engine)
    normal = load_file(engine, path, "testville", test_mapping(), batch_size=3)
    bulk = load_file(
        engine, path, "testville", test_mapping(source="bulk"), batch_size=3, bulk=True
    )
    counts = ("read", "inserted", "updated", "unchanged", "rejected")
    assert [getattr(bulk, c) for c in counts] == [getattr(normal, c) for c in counts]
    assert (bulk.inserted, bulk.rejected) == (8, 2)
    assert _comparable(incidents(engine, "bulk")) == _comparable(incidents(engine))
    assert _events(engine, "bulk") == _events(engine, "primarie")
    assert [(r["source_row"], r["reason"]) for r in rejects(engine, bulk.run_id)] == [
        (r["source_row"], r["reason"]) for r in rejects(engine, normal.run_id)
    ]
    # Registry numbers continue without gaps after the normal load's.
    numbers = sorted(i["registry_number"] for i in incidents(engine, "bulk"))
    assert numbers == [f"TST-2026-{k:06d}" for k in range(9, 17)]
    assert _schema(engine) == before
    assert_rollup_exact(engine)
    # A second bulk load of the same source is refused; a normal one finds no change.
    runs = len(list_runs(engine, "testville"))
    with pytest.raises(ValidationError, match="first import"):
        load_file(engine, path, "testville", test_mapping(source="bulk"), bulk=True)
    assert len(list_runs(engine, "testville")) == runs  # refused, not a failed run
    again = load_file(engine, path, "testville", test_mapping(source="bulk"))
    assert (again.inserted, again.unchanged) == (0, 8)


def test_the_end_of_a_bulk_load_reports_each_step(engine, city, tmp_path):
    """Rebuilding takes minutes on a large table: every index, key, trigger
    and rollup is announced before it runs, then the end."""
    path = write_csv(tmp_path / "s.csv", [row(id=f"S{k}") for k in range(3)])
    with engine.connect() as conn:
        indexes = conn.execute(sa.text(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid IN"
            " ('incidents'::regclass, 'incident_events'::regclass)"
            " AND NOT indisunique AND NOT indisprimary"
        )).scalars().all()
        keys = conn.execute(sa.text(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid IN"
            " ('incidents'::regclass, 'incident_events'::regclass) AND confrelid IN"
            " ('incidents'::regclass, 'incident_events'::regclass)"
        )).scalars().all()
    steps: list[tuple[str, int, int]] = []
    load_file(engine, path, "testville", test_mapping(source="s"), bulk=True,
              on_step=lambda *step: steps.append(step))
    names = [what for what, _, _ in steps]
    assert {f"index {i}" for i in indexes} <= set(names)
    assert "incident_events_city_id_incident_id_fkey" in keys
    assert {f"foreign key {k}" for k in keys} <= set(names)
    assert {f"rollup {f}" for f in sql.BULK_ROLLUPS.values()} <= set(names)
    # indexes, keys, triggers on, rollups, two ANALYZEs
    total = len(indexes) + len(keys) + len(sql.BULK_ROLLUPS) * 2 + 2
    assert [(done, of) for _, done, of in steps] == [(k, total) for k in range(total + 1)]
    assert names[-1] == "done"


def test_bulk_load_on_new_sessions(engine, city, tmp_path):
    """Each session has only its own TEMP tables: no pooled leftovers to lean on."""
    path = write_csv(tmp_path / "n.csv", [row(id=f"N{k}") for k in range(5)])
    fresh = sa.create_engine(engine.url, poolclass=NullPool)
    try:
        got = load_file(fresh, path, "testville", test_mapping(source="n"), batch_size=2,
                        bulk=True)  # fmt: skip
    finally:
        fresh.dispose()
    assert (got.read, got.inserted, got.rejected) == (5, 5, 0)
    assert len(incidents(engine, "n")) == 5


def test_bulk_mode_rebuilds_every_rollup_it_turns_off(engine):
    """A rollup added later with its own insert trigger must be listed in
    BULK_ROLLUPS, or a bulk load would leave it stale."""
    with engine.connect() as conn:
        triggers = conn.execute(sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'incidents'::regclass"
            " AND NOT tgisinternal AND tgtype & 1 = 0 AND tgtype & 4 = 4 ORDER BY 1"
        )).scalars().all()  # statement-level (bit 0 clear), on INSERT (bit 2)
        functions = conn.execute(sa.text(
            "SELECT proname FROM pg_proc WHERE proname = ANY(:names)"
        ), {"names": list(sql.BULK_ROLLUPS.values())}).scalars().all()
    assert sorted(sql.BULK_ROLLUPS) == triggers
    assert sorted(functions) == sorted(sql.BULK_ROLLUPS.values())


def test_a_failed_bulk_load_leaves_the_tables_as_they_were(engine, city, tmp_path):
    """The database refuses a row in the second batch: nothing of the load
    stays, and the indexes, foreign keys and triggers are all back."""
    path = write_csv(tmp_path / "f.csv", [row(id=f"F{k}") for k in range(6)])
    load_file(engine, path, "testville", test_mapping())  # rollups with something in them
    before = _schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE FUNCTION refuse_f4() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.external_id = 'F4' THEN RAISE EXCEPTION 'F4 refused'; END IF;"
            " RETURN NEW; END $$"
        ))
        conn.execute(sa.text(
            "CREATE TRIGGER refuse_f4 BEFORE INSERT ON incidents"
            " FOR EACH ROW EXECUTE FUNCTION refuse_f4()"
        ))
    with_refusal = _schema(engine)
    with pytest.raises(LoadError, match=r"bulk load was refused by the database.*F4 refused"):
        load_file(engine, path, "testville", test_mapping(source="bulk"), batch_size=3,
                  bulk=True)
    assert _schema(engine) == with_refusal
    assert incidents(engine, "bulk") == []
    with engine.connect() as conn:
        status = conn.execute(sa.text(
            "SELECT status FROM feed_runs WHERE source = 'bulk'")).scalar_one()
    assert status == "failed"
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER refuse_f4 ON incidents"))
    assert _schema(engine) == before
    assert_rollup_exact(engine)
    # The same bulk load runs once the cause is gone.
    done = load_file(engine, path, "testville", test_mapping(source="bulk"), batch_size=3,
                     bulk=True)
    assert (done.inserted, len(incidents(engine, "bulk"))) == (6, 6)
    assert _schema(engine) == before
    assert_rollup_exact(engine)

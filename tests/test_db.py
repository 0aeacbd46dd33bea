"""Migrations from an empty database, and the schema's readiness for Citus."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sesizari import db
from sesizari.vocab import Channel, EventKind, Status

#: Reference tables (replicated to every node under Citus) and the migration tool's own.
REFERENCE_TABLES = {"cities", "spatial_ref_sys"}


def test_migrations_apply_from_empty_database(pg_cluster):
    pg_cluster.ensure_database("empty_for_migrations")
    url = pg_cluster.url("empty_for_migrations")
    applied = db.migrate(url)
    assert applied and applied[0].startswith("0001_")
    assert db.migrate(url) == []  # a second run applies nothing
    eng = db.make_engine(url)
    with eng.connect() as conn:
        tables = set(
            conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
    eng.dispose()
    assert {
        "cities",
        "districts",
        "departments",
        "users",
        "categories",
        "routing_rules",
        "registry_counters",
        "incidents",
        "incident_contacts",
        "incident_events",
        "photos",
    } <= tables


def _domain_tables(conn) -> list[str]:
    return [
        t
        for t in conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).scalars()
        if t not in REFERENCE_TABLES and not t.startswith("_yoyo") and t != "yoyo_lock"
    ]


def test_every_domain_table_is_distributable_by_city(engine):
    """Every table has city_id, and every key and foreign key includes it (Citus rule)."""
    with engine.connect() as conn:
        tables = _domain_tables(conn)
        assert len(tables) >= 10
        for table in tables:
            cols = set(
                conn.execute(
                    sa.text(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = :t"
                    ),
                    {"t": table},
                ).scalars()
            )
            assert "city_id" in cols, f"{table} has no city_id"
            constraints = conn.execute(
                sa.text(
                    "SELECT c.conname, c.contype, array_agg(a.attname::text) AS cols"
                    " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid"
                    " AND a.attnum = ANY (c.conkey) WHERE c.conrelid = CAST(:t AS regclass)"
                    " AND c.contype IN ('p', 'u', 'f') GROUP BY c.conname, c.contype"
                ),
                {"t": table},
            ).all()
            assert any(c.contype == "p" for c in constraints), f"{table} has no primary key"
            for name, kind, ccols in constraints:
                if kind == "f" and name.endswith("city_id_fkey") and ccols == ["city_id"]:
                    continue  # the reference to `cities` itself
                assert "city_id" in ccols, f"{table}.{name} ({kind}) lacks city_id: {ccols}"


def test_sql_checks_match_the_vocabulary(engine):
    with engine.connect() as conn:
        defs = {
            name: src
            for name, src in conn.execute(
                sa.text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE contype = 'c' AND conrelid IN ('incidents'::regclass,"
                    " 'incident_events'::regclass)"
                )
            )
        }
    status_check = next(v for k, v in defs.items() if k == "incidents_status_check")
    assert all(f"'{s.value}'" in status_check for s in Status)
    channel_check = next(v for k, v in defs.items() if k == "incidents_channel_check")
    assert all(f"'{c.value}'" in channel_check for c in Channel)
    kind_check = next(v for k, v in defs.items() if k == "incident_events_kind_check")
    assert all(f"'{k.value}'" in kind_check for k in EventKind)


def test_stereo70_coordinates_follow_the_point(engine, city):
    """x3844/y3844 are generated: right at insert, right after a move, never writable."""
    from tests.conftest import TEST_LAT, TEST_LON
    from tests.test_workflow import _new

    number = _new(engine)
    moved = f"SRID=4326;POINT({TEST_LON + 0.01} {TEST_LAT})"
    check = (
        "SELECT x3844 - ST_X(ST_Transform(geom, 3844)), y3844 - ST_Y(ST_Transform(geom, 3844)),"
        " x3844 FROM incidents WHERE registry_number = :n"
    )
    with engine.begin() as conn:
        dx, dy, before = conn.execute(sa.text(check), {"n": number}).one()
        assert (dx, dy) == (0.0, 0.0)
        conn.execute(
            sa.text("UPDATE incidents SET geom = ST_GeomFromEWKT(:g) WHERE registry_number = :n"),
            {"g": moved, "n": number},
        )
        dx, dy, after = conn.execute(sa.text(check), {"n": number}).one()
        assert (dx, dy) == (0.0, 0.0) and after != before
    with pytest.raises(sa.exc.ProgrammingError, match="generated column"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE incidents SET x3844 = 0 WHERE registry_number = :n"),
                     {"n": number})  # fmt: skip


def test_every_foreign_key_to_incidents_leads_an_index(engine):
    """Deleting an incident looks up the rows that refer to it, through each
    foreign key: without an index leading with the key's columns, that is a
    scan of the whole referring table per deleted incident."""
    with engine.connect() as conn:
        unindexed = conn.execute(
            sa.text(
                """
                SELECT c.conname FROM pg_constraint c
                WHERE c.contype = 'f' AND c.confrelid = 'incidents'::regclass
                  AND NOT EXISTS (
                      SELECT 1 FROM pg_index i
                      WHERE i.indrelid = c.conrelid
                        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
                        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
                ORDER BY 1
                """
            )
        ).scalars().all()
        referring = conn.execute(
            sa.text("SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
                    " AND confrelid = 'incidents'::regclass")
        ).scalar_one()
    assert referring >= 7  # events, contacts, photos, supports, checks, duplicates, recurrences
    assert unindexed == []


def test_an_error_keeps_the_statement_values_out(engine):
    """A failed statement's message ends in a log: it must not carry what a
    citizen wrote or their contacts (the statement's parameters)."""
    with pytest.raises(sa.exc.DBAPIError) as failed, engine.connect() as conn:
        conn.execute(sa.text("SELECT 1 / 0 WHERE :e <> ''"), {"e": "maria.pop@example.ro"})
    assert "maria.pop" not in str(failed.value)
    assert "parameters hidden" in str(failed.value)
    assert db.describe_error(failed.value) == "DivisionByZero 22012"

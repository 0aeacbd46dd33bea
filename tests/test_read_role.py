"""R6: the analytics read through a login that can write nothing, and any text in a filter is data.

The dashboard's cached reads (``dashboard.data``) run on ``db.get_read_engine()``:
the embedded cluster's ``sesizari_reader``, granted SELECT by
``sql/migrations/post-apply.sql``, in read-only transactions.  These tests
check the grants from the role's side (what it can and cannot do), that the
pages really read through it, and that generated text in every filter gives
either a clear validation error or a subset of the unfiltered rows, never a
database error.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import streamlit as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from psycopg import errors as pg_errors

from sesizari import db, queries
from sesizari.cluster import READ_ROLE
from sesizari.errors import ValidationError
from sesizari.queries import Filters
from sesizari.settings import load_settings
from tests.apptest_support import load_user, run_app
from tests.conftest import DEMO_AS_OF

#: Tables with personal data or secrets: the reader may not even read them.
PRIVATE = ["incident_contacts", "users", "api_keys", "submission_attempts", "staff_sessions",
           "sign_in_failures", "account_events", "notifications", "inbound_messages",
           "inbound_photos"]

WRITES = [
    "INSERT INTO incident_events (city_id, incident_id, kind) SELECT city_id, incident_id,"
    " 'note' FROM incidents LIMIT 1",
    "UPDATE incidents SET description = 'changed'",
    "DELETE FROM incident_events",
    "TRUNCATE incident_daily",
    "CREATE TABLE stolen (x int)",
    "DROP TABLE incidents",
    "ALTER TABLE incidents ADD COLUMN x int",
    "GRANT SELECT ON users TO PUBLIC",
    "SET ROLE sesizari",
    "UPDATE cities SET settings = '{}'",
    "LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE",
    "SELECT nextval('incidents_incident_id_seq')",
    "COPY incidents TO '/tmp/stolen.csv'",
    "SELECT pg_read_file('/etc/passwd')",
] + [f"SELECT * FROM {table} LIMIT 1" for table in PRIVATE]


@pytest.fixture(scope="module")
def reader(pg_cluster, demo_database):
    """The role alone, without read-only transactions: its grants must hold by themselves."""
    eng = db.make_engine(pg_cluster.url(demo_database, user=READ_ROLE))
    yield eng
    eng.dispose()


def test_the_template_grants_the_reader_its_tables(reader):
    with reader.connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar_one() == READ_ROLE
        assert conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one() > 0
        assert conn.execute(sa.text("SELECT count(*) FROM incident_daily")).scalar_one() > 0


@pytest.mark.parametrize("sql", WRITES)
def test_the_reader_can_change_nothing_and_read_no_personal_table(reader, sql):
    with reader.connect() as conn:
        # Even in a transaction that is allowed to write, the role is not.
        conn.execute(sa.text("SET default_transaction_read_only = off"))
        with pytest.raises(sa.exc.DBAPIError) as err:
            conn.execute(sa.text(sql)).fetchall()
        # Refused for want of privilege (not, say, because the table is missing).
        assert isinstance(err.value.orig, pg_errors.InsufficientPrivilege), err.value


def test_the_read_engine_refuses_even_temporary_tables(pg_cluster, demo_database):
    """PUBLIC may create temporary tables in a database; the read engine's transactions may not."""
    eng = db._read_engine_for(pg_cluster.url(demo_database, user=READ_ROLE))
    with eng.connect() as conn, pytest.raises(sa.exc.DBAPIError) as err:
        conn.execute(sa.text("CREATE TEMP TABLE stolen AS SELECT * FROM incidents"))
    assert isinstance(err.value.orig, pg_errors.ReadOnlySqlTransaction)
    eng.dispose()


def test_every_public_table_is_readable_or_private(pg_cluster, demo_database):
    """A table added by a later migration is covered: granted, or listed as private."""
    rows = pg_cluster.psql(
        "SELECT c.relname || ':' || has_table_privilege('sesizari_reader', c.oid, 'SELECT')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')"
        " AND c.relname NOT LIKE '%yoyo%' AND c.relname <> 'spatial_ref_sys'",
        database=demo_database,
    ).splitlines()
    granted = dict(row.split(":") for row in rows)
    assert set(PRIVATE) <= granted.keys()
    for table, ok in granted.items():
        assert (ok == "false") == (table in PRIVATE), table


def test_grants_follow_a_role_created_later(pg_cluster):
    """A role created after the first migration gets its grants on the next start."""
    name = "reader_later"
    pg_cluster.ensure_database(name)
    url = pg_cluster.url(name)
    pg_cluster.psql(f'DROP OWNED BY "{READ_ROLE}"', database=name)
    db.migrate(url)
    assert pg_cluster.psql(
        "SELECT has_table_privilege('sesizari_reader', 'incidents', 'SELECT')", database=name
    ) == "t"
    pg_cluster.psql("REVOKE ALL ON incidents FROM sesizari_reader", database=name)
    pg_cluster.psql("GRANT SELECT ON users TO sesizari_reader", database=name)
    assert db.migrate(url) == []  # nothing pending, and still:
    assert pg_cluster.psql(
        "SELECT has_table_privilege('sesizari_reader', 'incidents', 'SELECT')", database=name
    ) == "t"
    assert pg_cluster.psql(  # a private table granted by hand is taken back
        "SELECT has_table_privilege('sesizari_reader', 'users', 'SELECT')", database=name
    ) == "f"
    pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_which_login_reads(tmp_path):
    base = {"SESIZARI_DATA_DIR": str(tmp_path), "SESIZARI_PG_PORT": "5999"}
    embedded = db.read_database_url(load_settings(base))
    assert "sesizari_reader@" in embedded and str(tmp_path) in embedded
    external = {**base, "DATABASE_URL": "postgresql+psycopg://app:pw@db.example/x"}
    assert db.read_database_url(load_settings(external)) == external["DATABASE_URL"]
    both = {**external, "SESIZARI_READ_DATABASE_URL": "postgresql+psycopg://ro:pw@db.example/x"}
    assert db.read_database_url(load_settings(both)) == both["SESIZARI_READ_DATABASE_URL"]


def test_without_a_reader_login_reads_are_read_only_transactions(demo_copy, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_copy)
    monkeypatch.delenv("SESIZARI_READ_DATABASE_URL", raising=False)
    eng = db.get_read_engine()
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar_one() == "sesizari"
        with pytest.raises(sa.exc.DBAPIError) as err:
            conn.execute(sa.text("UPDATE incidents SET description = 'changed'"))
        assert isinstance(err.value.orig, pg_errors.ReadOnlySqlTransaction)


def test_the_pages_read_through_the_reader(pg_cluster, demo_copy, monkeypatch):
    """Every analytics page renders for a manager with the reader as the only login for reads."""
    name = sa.engine.make_url(demo_copy).database
    monkeypatch.setenv("DATABASE_URL", demo_copy)
    monkeypatch.setenv("SESIZARI_READ_DATABASE_URL", pg_cluster.url(name, user=READ_ROLE))
    st.cache_data.clear()
    st.cache_resource.clear()
    import dashboard.data

    user = load_user(db.make_engine(demo_copy), "manager")
    for page in ("live_map", "resolution", "departments", "open_data"):
        run_app(page, user=user, city="lugoj")
    # Every read went through the reader's pool; the writing login's pool never connected.
    assert dashboard.data.reader().pool.checkedin() > 0
    assert db.get_engine().pool.checkedin() == 0
    with dashboard.data.reader().connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar_one() == READ_ROLE
    st.cache_data.clear()
    st.cache_resource.clear()


# -- generated text into every filter --------------------------------------------------------

#: Everything a URL, a form or a hand-written call could put in a filter.
TEXT = hs.one_of(
    hs.text(max_size=40),
    hs.sampled_from([
        "x'); DROP TABLE incidents; --", "' OR '1'='1", "pothole' --", "%", "_", "\\",
        "$1", ":cats", "{}", "{pothole,water}", "NULL", "\x00", "a\x00b", "é" * 300,
        "pothole", "water", "new", "Centru",
    ]),
)  # fmt: skip
FIELDS = ["categories", "departments", "statuses", "districts"]


@pytest.fixture(scope="module")
def everything(reader) -> dict[str, set[str]]:
    """The unfiltered registry numbers of each demo city, read once."""
    return {
        city: set(_numbers(reader, Filters(city))) for city in ("lugoj", "alba-iulia")
    }


def _numbers(bind, filters: Filters) -> list[str]:
    frame = queries.points(bind, filters, limit=1_000_000, include_sensitive=True)
    return list(frame["registry_number"])


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    city=hs.sampled_from(["lugoj", "alba-iulia"]),
    field=hs.sampled_from([*FIELDS, "department"]),
    values=hs.lists(TEXT, min_size=1, max_size=3),
)
def test_generated_filter_text_is_data(reader, everything, city, field, values):
    value = values[0] if field == "department" else tuple(values)
    try:
        filters = Filters(city, **{field: value})
    except ValidationError as err:  # refused with a message that names the field
        assert err.field == field and str(err)
        return
    numbers = _numbers(reader, filters)
    assert len(numbers) == len(set(numbers))
    assert set(numbers) <= everything[city]
    kpis = queries.kpis(reader, filters, now=DEMO_AS_OF)
    assert kpis.loc["open", "value"] <= len(numbers)
    assert queries.resolution_stats(reader, filters)["n"].sum() == len(numbers)
    assert queries.hexagons(reader, filters, 300)["n"].sum() == len(numbers)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(city=TEXT, start=hs.dates(), end=hs.dates())
def test_generated_city_and_dates_are_data(reader, city, start, end):
    try:
        filters = Filters(city, start=start, end=end)
    except ValidationError as err:
        assert err.field in {"city", "end"} and str(err)
        return
    if city not in ("lugoj", "alba-iulia"):
        with pytest.raises(ValidationError, match="unknown city"):
            _numbers(reader, filters)
    else:
        assert set(_numbers(reader, filters)) <= set(_numbers(reader, Filters(city)))


def test_hostile_urls_render_the_pages(pg_cluster, demo_database, monkeypatch):
    """The dashboard's own filters come from the URL: hostile values there are ignored."""
    monkeypatch.setenv("DATABASE_URL", pg_cluster.url(demo_database))
    st.cache_data.clear()
    st.cache_resource.clear()
    hostile = "x'); DROP TABLE incidents; --,\x00,pothole"
    at = run_app(
        city="lugoj", cat=hostile, dep=hostile, status=hostile, district=hostile,
        **{"from": "2026-13-45'", "to": "'; SELECT pg_sleep(10); --"}, layer="' OR 1=1",
    )  # fmt: skip
    assert at.metric  # the page still shows its figures
    for key in ("cat", "dep", "district"):  # only the known value is kept
        assert at.query_params.get(key) in (None, "pothole", ["pothole"])
    assert at.query_params["from"] != "2026-13-45'"


def test_the_api_reads_through_the_reader_and_writes_through_its_engine(pg_cluster, demo_copy):
    """The public GET endpoints run as the reader; only POST /requests writes."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.api_support import form, new_key

    name = sa.engine.make_url(demo_copy).database
    writer = db.make_engine(demo_copy)
    read_only = db._read_engine_for(pg_cluster.url(name, user=READ_ROLE))
    api = TestClient(create_app(writer, reader=read_only))
    number = _numbers(read_only, Filters("lugoj"))[0]
    for path in ("/services.json", "/services/pothole.json", "/requests.json",
                 f"/requests/{number}.xml", "/requests.json?status=open&service_code=pothole",
                 "/opendata/incidents.csv", "/opendata/incidents.geojson?category=pothole"):
        assert api.get(f"{path}{'&' if '?' in path else '?'}jurisdiction_id=lugoj").status_code \
            == 200, path  # fmt: skip
    assert read_only.pool.checkedin() > 0 and writer.pool.checkedin() == 0
    posted = api.post("/requests.json", data=form(
        api_key=new_key(writer, "lugoj"), jurisdiction_id="lugoj", service_code="pothole",
        lat=45.6887, long=21.9035, description="Groapă",
    ))  # fmt: skip
    assert posted.status_code == 200, posted.text
    read_only.dispose()
    writer.dispose()

"""Descriptions that hold a phone number, an e-mail, a CNP or a number plate
are not published until staff publish them (migration 0027), whatever the
channel: a citizen's report, a feed, the incidents already stored."""

from __future__ import annotations

import shutil
import uuid

import pytest
import sqlalchemy as sa

from etl.load import load_file
from sesizari import catalog, db
from sesizari.errors import ValidationError
from sesizari.incidents import (
    Actor,
    NewIncident,
    create_incident,
    get_incident,
    perform,
    set_description_public,
)
from sesizari.opendata import public_incidents
from sesizari.tracking import track
from tests.api_support import client
from tests.conftest import TEST_BOUNDARY, TEST_LAT, TEST_LON
from tests.etl_helpers import GOOD, row, test_mapping, write_csv

PERSONAL = [
    "0722123456", "0722 123 456", "0722.123.456", "0722-123-456", "+40722123456",
    "+40 722 123 456", "0040 722 123 456", "0256 123 456", "(0256) 123456", "0256/123456",
    "021 312 34 56", "(021) 312 34 56", "+40 21 312 34 56", "0264 12 34 56",
    "tel:0744112233", "Sunați la 0744 11 22 33 vă rog", "Tel. 0722/123.456",
    "ion.popescu@yahoo.com", "scrieți la a.b-c@primarie-lugoj.ro.",
    "CNP 1850101351234", "1850101351234",
    "mașina TM 12 ABC stă de o lună", "B 123 ABC", "B-12-XYZ", "tm12abc abandonată",
    "AB 01 XYZ",
]
ORDINARY = [
    "02.03.2026 12:30", "între 07:30 și 16:00", "Sesizare din 07.03.2026 ora 07:45",
    "2026-03-02 07:45:00", "02/03/2026 07:45", "31.12.2026 21:30",
    "din 01.02.2026, 02.02.2026 și 03.02.2026", "Str. Bucegi nr. 3, bl. 12",
    "LUG-2026-000123", "anul 2026", "km 0+250", "În zona 0+300 - 0+700", "00123",
    "0.5 m adâncime", "3 gropi de 20-30 cm", "telefon 112", "cod 0256123",
    "Lampa nr. 0723 de pe stâlp", "stâlpul 2307456", "12345678901234567", "Nr. 021/2026",
    "bloc 27, ap. 312, et. 3", "bloc B 12 scara A", "nr. 2-4, ap. 12", "de 20 de zile",
    "sub 12 ani", "10 metri", "B-dul Revoluției 1989 nr. 12", "email la primărie",
    "@primarie", "groapă adâncă",
]


def test_the_check_finds_contact_data_and_leaves_ordinary_text(engine):
    with engine.connect() as conn:
        def looks(text: str | None) -> bool:
            return conn.execute(sa.text("SELECT looks_personal(:t)"), {"t": text}).scalar_one()

        assert [t for t in PERSONAL if not looks(t)] == []
        assert [t for t in ORDINARY if looks(t)] == []
        assert looks(None) is False


def _report(engine, description: str) -> str:
    new = NewIncident(city="testville", category="pothole", latitude=TEST_LAT,
                      longitude=TEST_LON, description=description)
    return create_incident(engine, new).registry_number


def _published(engine) -> dict[str, str | None]:
    frame = public_incidents(engine, "testville")
    return dict(zip(frame["registry_number"], frame["description"], strict=True))


def test_a_report_with_a_phone_number_waits_for_staff_before_it_is_published(engine, city):
    plain = _report(engine, "Groapă adâncă în fața blocului 12")
    phone = _report(engine, "Groapă mare, sunați-mă la 0722 123 456")
    assert _published(engine) == {plain: "Groapă adâncă în fața blocului 12", phone: None}
    with engine.connect() as conn:
        hidden = get_incident(conn, "testville", phone)
    assert (hidden["description_public"], hidden["description_looks_personal"]) == (False, True)
    # Staff read it and publish it anyway: their choice stands.
    set_description_public(engine, "testville", phone, True, Actor("ana", None, "staff"))
    assert _published(engine)[phone] == "Groapă mare, sunați-mă la 0722 123 456"


def test_a_resolution_text_with_contact_data_is_left_out_of_the_public_outputs(engine, city):
    staff = Actor("ana", None, "staff")
    plain, phone = _report(engine, "Groapă"), _report(engine, "Altă groapă")
    perform(engine, "testville", plain, "resolved", staff, text="Plombată cu asfalt")
    perform(engine, "testville", phone, "resolved", staff,
            text="Plombată; dl. Pop (0744 11 22 33) a confirmat")
    frame = public_incidents(engine, "testville")
    assert dict(zip(frame["registry_number"], frame["resolution_text"], strict=True)) == {
        plain: "Plombată cu asfalt", phone: None}
    notes = {r["service_request_id"]: r["status_notes"]
             for r in client(engine).get("/requests.json").json()}
    assert notes == {plain: "Plombată cu asfalt", phone: None}
    # The tracking page opens by number alone (numbers are sequential).
    assert track(engine, plain)["resolution_text"] == "Plombată cu asfalt"
    tracked = track(engine, phone)
    assert tracked["resolution_text"] is None
    assert [e["text"] for e in tracked["timeline"] if e["kind"] == "resolved"] == [None]
    assert "0744" not in str(tracked)
    with engine.connect() as conn:  # staff still read it
        assert get_incident(conn, "testville", phone)["resolution_text"].endswith("confirmat")


def test_an_address_with_contact_data_is_left_out_of_the_public_outputs(engine, city):
    """The address box is free text too: "Str. Banatului 3, Ion Pop, tel. ..."
    was published word for word by the Open311 API and the tracking page."""
    def report(address: str) -> str:
        return create_incident(engine, NewIncident(
            city="testville", category="pothole", latitude=TEST_LAT, longitude=TEST_LON,
            description="Groapă", address=address)).registry_number  # fmt: skip

    plain = report("Str. Banatului nr. 3, bl. 12")
    personal = report("Str. Banatului 3, Ion Pop, tel 0744 555 666, ion.pop@example.com")
    addresses = {r["service_request_id"]: r["address"]
                 for r in client(engine).get("/requests.json").json()}
    assert addresses == {plain: "Str. Banatului nr. 3, bl. 12", personal: None}
    assert track(engine, plain)["address"] == "Str. Banatului nr. 3, bl. 12"
    assert track(engine, personal)["address"] is None
    assert "0744" not in str(track(engine, personal))
    xml = client(engine).get(f"/requests/{personal}.xml").text
    assert "0744" not in xml and "ion.pop" not in xml
    with engine.connect() as conn:  # staff still read it
        assert get_incident(conn, "testville", personal)["address"].endswith("example.com")


def _public_by_id(engine, source: str) -> dict[str, bool]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT external_id, description_public FROM incidents WHERE source = :s"),
            {"s": source}).all()
    return dict(rows)


def test_a_feed_hides_personal_descriptions_and_never_publishes_one_again(
    engine, city, tmp_path
):
    rows = [GOOD, row(id="P1", descriere="Mașina B 123 ABC abandonată de o lună"),
            row(id="M1", descriere="Reclamant: ion@example.ro")]
    load_file(engine, write_csv(tmp_path / "a.csv", rows), "testville", test_mapping())
    assert _public_by_id(engine, "primarie") == {"A1": True, "P1": False, "M1": False}

    # The next export: A1 now quotes a phone (hidden), P1's plate is gone
    # (stays hidden: only staff publish), M1 was published by staff and is
    # unchanged (stays published).
    with engine.connect() as conn:
        number = conn.execute(sa.text(
            "SELECT registry_number FROM incidents WHERE external_id = 'M1'")).scalar_one()
    set_description_public(engine, "testville", number, True, Actor("ana", None, "staff"))
    rows = [row(id="A1", descriere="Groapă; reclamant 0744 11 22 33"),
            row(id="P1", descriere="Mașină abandonată de o lună"),
            row(id="M1", descriere="Reclamant: ion@example.ro")]
    result = load_file(engine, write_csv(tmp_path / "b.csv", rows), "testville", test_mapping())
    assert (result.updated, result.unchanged) == (2, 1)
    assert _public_by_id(engine, "primarie") == {"A1": False, "P1": False, "M1": True}


def test_a_source_whose_descriptions_may_name_people_is_not_published(engine, city, tmp_path):
    rows = [row(id="R1", descriere="Groapă adâncă"), row(id="R2", descriere="Bec ars")]
    load_file(engine, write_csv(tmp_path / "r.csv", rows), "testville",
              test_mapping(source="registru", publish_descriptions=False))
    assert _public_by_id(engine, "registru") == {"R1": False, "R2": False}
    assert set(_published(engine).values()) == {None}


def test_publish_descriptions_takes_a_boolean_only():
    assert test_mapping().publish_descriptions is True
    for wrong in ("no", "false", 0):
        with pytest.raises(ValidationError, match="publish_descriptions: must be true or false"):
            test_mapping(publish_descriptions=wrong)


def test_the_migration_hides_the_personal_descriptions_already_published(pg_cluster, tmp_path):
    """A database migrated before 0027 keeps its published descriptions
    until the migration checks them once."""
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(db.MIGRATIONS_DIR.glob("*.sql")):
        if path.name < "0027":
            shutil.copy(path, before / path.name)
    name = f"t_before_0027_{uuid.uuid4().hex[:8]}"
    pg_cluster.ensure_database(name)
    url = pg_cluster.url(name)
    db.migrate(url, before)
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            cid = catalog.create_city(conn, slug="testville", name_ro="Testville",
                                      name_en="Testville", registry_prefix="TST",
                                      boundary=TEST_BOUNDARY)
            catalog.create_department(conn, cid, "roads", "Drumuri", "Roads")
            catalog.create_category(conn, cid, "pothole", "Groapă", "Pothole", "roads", 72)
            # Written as the code before 0027 wrote them: published.
            for n, text in ((1, "Groapă adâncă"), (2, "Groapă, sunați la 0722123456")):
                conn.execute(sa.text(
                    "INSERT INTO incidents (city_id, registry_number, category_id,"
                    " department_id, channel, geom, description)"
                    " SELECT c.city_id, :n, c.category_id, c.default_department_id, 'web',"
                    " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :d"
                    " FROM categories c WHERE c.city_id = :c AND c.code = 'pothole'"),
                    {"c": cid, "n": f"TST-2026-00000{n}", "lon": TEST_LON, "lat": TEST_LAT,
                     "d": text})
        with engine.connect() as conn:  # (the code of today reads a migrated schema)
            assert conn.execute(sa.text(
                "SELECT count(*) FROM incidents WHERE description_public")).scalar_one() == 2
        assert db.migrate(url)[0] == "0027_personal_descriptions"
        assert _published(engine) == {"TST-2026-000001": "Groapă adâncă",
                                      "TST-2026-000002": None}
    finally:
        engine.dispose()
        pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')

"""Open311 GeoReport v2 endpoints against a real database: both formats, every error."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from api.app import language_of
from sesizari import apikeys, catalog, open311
from sesizari.accountability import check_pin
from sesizari.errors import SesizariError
from sesizari.incidents import Actor, NewIncident, create_incident, get_incident, perform
from tests.api_support import REPO, client, form, new_key, parse_xml, validate
from tests.conftest import TEST_LAT, TEST_LON, count

STAFF = Actor("ana", None, "staff")


@pytest.fixture
def api(engine, city):
    return client(engine)


@pytest.fixture
def key(engine, city):
    return new_key(engine)


def _report(engine, category="pothole", dlon=0.0, dlat=0.0, **kw):
    return create_incident(
        engine,
        NewIncident(
            city="testville",
            category=category,
            latitude=TEST_LAT + dlat,
            longitude=TEST_LON + dlon,
            description=kw.pop("description", "Groapă mare în carosabil"),
            **kw,
        ),
    ).registry_number


# -- services ---------------------------------------------------------------------


def test_services_json_matches_the_schema(api):
    r = api.get("/services.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    services = r.json()
    validate(services, "services.json")
    assert [s["service_code"] for s in services] == ["noise", "pothole", "street_light"]
    pothole = services[1]
    assert pothole["service_name"] == "Groapă"
    assert pothole["metadata"] is False and pothole["type"] == "realtime"


def test_services_xml_parses_with_the_same_content(api):
    r = api.get("/services.xml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    root = parse_xml(r.content)
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert codes == [s["service_code"] for s in api.get("/services.json").json()]
    assert root.find("service/metadata").text == "false"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition(api, fmt):
    r = api.get(f"/services/pothole.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        validate(r.json(), "service-definition.json")
        assert r.json() == {"service_code": "pothole", "attributes": []}
    else:
        root = parse_xml(r.content)
        assert root.tag == "service_definition"
        assert root.findtext("service_code") == "pothole"
        assert root.findall("attribute") == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_404(api, fmt):
    r = api.get(f"/services/no_such.{fmt}")
    assert r.status_code == 404
    if fmt == "json":
        [error] = r.json()
        assert error["code"] == 404 and "no_such" in error["description"]
    else:
        root = parse_xml(r.content)
        assert root.tag == "errors"
        assert root.findtext("error/code") == "404"
        assert "no_such" in root.findtext("error/description")


def test_unknown_format_is_a_spec_error(api):
    r = api.get("/services.html")
    assert r.status_code == 400
    assert "fmt" in r.json()[0]["description"]


# -- POST /requests ------------------------------------------------------------------


def test_post_request_is_routed_numbered_and_stores_the_contact(api, engine, key):
    r = api.post(
        "/requests.json",
        data=form(
            api_key=key,
            service_code="pothole",
            lat=TEST_LAT,
            long=TEST_LON,
            description="Groapă adâncă lângă trecere",
            address_string="Str. Bucegi 4",
            first_name="Maria",
            last_name="Pop",
            email="maria@example.ro",
            phone="0712345678",
            media_url="https://example.ro/photo.jpg",
        ),
    )
    assert r.status_code == 200, r.text
    [created] = r.json()
    # The year is the city's local one (Europe/Bucharest), hence the pattern.
    assert re.fullmatch(r"TST-20\d\d-000001", created["service_request_id"])
    # In the client's language, as its errors are: English unless it asks for Romanian.
    assert created["service_notice"] == (
        f"Registered as {created['service_request_id']}; responsible: Roads.")
    # The reporter's PIN, which the tracking page asks for to confirm the fix
    # or stop the e-mails: the app alone can hand it over.
    assert re.fullmatch(r"\d{6}", created["pin"])
    check_pin(engine, created["service_request_id"], created["pin"])
    with pytest.raises(SesizariError):
        check_pin(engine, created["service_request_id"], f"{(int(created['pin']) + 1) % 10**6:06d}")
    with engine.connect() as conn:
        incident = get_incident(conn, "testville", created["service_request_id"])
        contact = conn.execute(
            sa.text("SELECT name, phone, email, consent_at FROM incident_contacts")
        ).one()
        actor = conn.execute(sa.text("SELECT actor_label, channel FROM incident_events")).one()
    assert incident["channel"] == "app" and incident["department"] == "roads"
    assert incident["address"] == "Str. Bucegi 4"
    assert contact.name == "Maria Pop" and contact.email == "maria@example.ro"
    assert contact.phone == "0712345678" and contact.consent_at is not None
    assert actor.actor_label == "open311:test app" and actor.channel == "app"
    with engine.connect() as conn:  # the reporter's receipt waits in the outbox
        queued = conn.execute(sa.text(
            "SELECT n.recipient, e.kind FROM notifications n"
            " JOIN incident_events e USING (city_id, event_id)")).all()
    assert [tuple(q) for q in queued] == [("reporter", "created")]


def test_the_reporter_s_e_mails_follow_the_request_s_language(api, engine, key):
    """``Accept-Language`` says which language the reporter's e-mails are in;
    a request that names neither Romanian nor English gets both."""
    stored = []
    for header in ("en-GB,en;q=0.9", "ro-RO", "de", None):
        fields = form(api_key=key, service_code="pothole", lat=TEST_LAT, long=TEST_LON,
                      description="Groapă", email="maria@example.ro")
        headers = {"Accept-Language": header} if header else {}
        r = api.post("/requests.json", data=fields, headers=headers)
        assert r.status_code == 200, r.text
        with engine.connect() as conn:
            stored.append(conn.execute(sa.text(
                "SELECT c.lang FROM incident_contacts c JOIN incidents i"
                " USING (city_id, incident_id) WHERE i.registry_number = :n"),
                {"n": r.json()[0]["service_request_id"]}).scalar_one())
    assert stored == ["en", "ro", None, None]


def test_post_request_xml(api, key):
    r = api.post(
        "/requests.xml",
        data=form(
            api_key=key,
            service_code="street_light",
            lat=TEST_LAT,
            long=TEST_LON,
            description="Bec ars",
        ),
    )
    assert r.status_code == 200, r.text
    root = parse_xml(r.content)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id").startswith("TST-")
    assert "responsible: Lighting." in root.findtext("request/service_notice")
    r = api.post("/requests.xml", headers={"Accept-Language": "ro"}, data=form(
        api_key=key, service_code="street_light", lat=TEST_LAT, long=TEST_LON,
        description="Alt bec ars"))  # fmt: skip
    number = parse_xml(r.content).findtext("request/service_request_id")
    assert parse_xml(r.content).findtext("request/service_notice") == (
        f"Înregistrată cu numărul {number}; răspunde: Iluminat.")


def test_a_post_that_is_not_a_form_is_415_and_says_so(api, engine, key):
    """A JSON body (what most developers try first) read as a form with every
    field missing, and the answer named the first: "jurisdiction_id: required"."""
    fields = dict(api_key=key, service_code="pothole", lat=TEST_LAT, long=TEST_LON,
                  description="Groapă")  # fmt: skip
    before = count(engine, "incidents")
    r = api.post("/requests.json", json=fields)
    assert r.status_code == 415, r.text
    [said] = r.json()
    assert said["code"] == 415
    assert said["description"].startswith("send the fields as a form (application/x-www-form")
    assert "this body is application/json" in said["description"]
    r = api.post("/requests.xml", content=b"", headers={"Accept-Language": "ro"})
    assert r.status_code == 415 and "trimiteți câmpurile ca formular" in r.text
    assert count(engine, "incidents") == before
    # The forms Open311 names are taken, multipart too.
    r = api.post("/requests.json", data=form(**fields), files={"media": ("a.txt", b"x")})
    assert r.status_code != 415, r.text


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("bad_key", [None, "", "sz_wrong", "x" * 500])
def test_post_with_bad_api_key_is_403(api, key, fmt, bad_key):
    fields = form(
        api_key=bad_key, service_code="pothole", lat=TEST_LAT, long=TEST_LON, description="x"
    )
    r = api.post(f"/requests.{fmt}", data=fields)
    assert r.status_code == 403
    if fmt == "json":
        assert r.json()[0]["code"] == 403 and "api_key" in r.json()[0]["description"]
    else:
        assert parse_xml(r.content).findtext("error/code") == "403"


def test_revoked_and_other_city_keys_are_refused(api, engine, key, city):
    with engine.begin() as conn:
        catalog.create_city(
            conn,
            slug="otherville",
            name_ro="Alt oraș",
            name_en="Other",
            registry_prefix="OTH",
            boundary=box(23.5, 46.0, 23.6, 46.1),
        )
    other_key = new_key(engine, "otherville")
    fields = form(
        jurisdiction_id="testville",
        service_code="pothole",
        lat=TEST_LAT,
        long=TEST_LON,
        description="x",
    )
    assert api.post("/requests.json", data={**fields, "api_key": other_key}).status_code == 403
    assert api.post("/requests.json", data={**fields, "api_key": key}).status_code == 200
    with engine.begin() as conn:
        key_id = conn.execute(
            sa.text("SELECT key_id FROM api_keys WHERE city_id = :c"), {"c": city["city_id"]}
        ).scalar_one()
        apikeys.revoke_key(conn, city["city_id"], key_id)
    assert api.post("/requests.json", data={**fields, "api_key": key}).status_code == 403


def test_only_the_key_hash_is_stored(engine, key):
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT key_hash FROM api_keys")).scalar_one()
    assert stored == apikeys.hash_key(key) and key not in stored


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"service_code": None}, "service_code"),
        ({"lat": None}, "lat"),
        ({"long": None}, "long"),
        ({"description": None}, "description"),
        ({"description": "   "}, "description"),
        ({"lat": "abc"}, "lat"),
        ({"long": "nan"}, "long"),
        ({"lat": "95"}, "lat"),
        ({"long": "-181"}, "long"),
        ({"lat": "44.0"}, "lat"),  # a valid number, but outside the city
        ({"service_code": "no_such"}, "service_code"),
        ({"email": "not-an-email"}, "email"),
        ({"description": "a\x00b"}, "description"),
        ({"description": "x" * 5001}, "description"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_bad_input_is_400_naming_the_field(api, engine, key, fields, field, fmt):
    base = {
        "api_key": key,
        "service_code": "pothole",
        "lat": TEST_LAT,
        "long": TEST_LON,
        "description": "Groapă",
    }
    r = api.post(f"/requests.{fmt}", data=form(**{**base, **fields}))
    assert r.status_code == 400, r.text
    if fmt == "json":
        [error] = r.json()
        assert error["code"] == 400
        description = error["description"]
    else:
        description = parse_xml(r.content).findtext("error/description")
    assert description.startswith(f"{field}:"), description
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one() == 0


def test_outside_the_city_says_so(api, key):
    r = api.post(
        "/requests.json",
        data=form(api_key=key, service_code="pothole", lat=44.0, long=TEST_LON, description="x"),
    )
    assert "outside" in r.json()[0]["description"]


def test_a_client_that_asks_for_romanian_is_refused_in_romanian(api, key):
    """A city's own app sends ``Accept-Language: ro``: the refusal it shows its
    users is Romanian; any other client gets the English one."""
    outside = form(api_key=key, service_code="pothole", lat=44.0, long=TEST_LON, description="x")
    romanian = api.post("/requests.json", data=outside,
                        headers={"Accept-Language": "ro-RO,ro;q=0.9,en;q=0.5"})  # fmt: skip
    said = romanian.json()[0]["description"]
    assert romanian.status_code == 400 and romanian.headers["Content-Language"] == "ro"
    assert said.startswith("latitudinea: punctul este în afara orașului"), said
    english = api.post("/requests.json", data=outside, headers={"Accept-Language": "en-GB"})
    assert "outside" in english.json()[0]["description"]
    assert english.headers["Content-Language"] == "en"
    missing = api.get("/requests/LUG-2026-999999.xml", headers={"Accept-Language": "ro"})
    assert missing.status_code == 404
    assert parse_xml(missing.content).findtext("error/description").startswith("Nu există")
    # The framework's own checks of a parameter too (they were English only).
    ro = {"Accept-Language": "ro"}
    r = api.get("/services.yaml", headers=ro)
    assert r.status_code == 400 and r.headers["Content-Language"] == "ro"
    assert r.json()[0]["description"] == "fmt: folosiți una dintre: 'json' sau 'xml'"
    r = api.get("/opendata/incidents.csv?limit=0", headers=ro)
    assert r.json()[0]["description"] == "limit: trebuie să fie cel puțin 1"
    r = api.get("/opendata/incidents.csv?limit=0")
    assert r.json()[0]["description"] == "limit: Input should be greater than or equal to 1"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("", "en"),
        ("ro", "ro"),
        ("ro-RO", "ro"),
        ("en-US,ro;q=0.8", "en"),
        ("de-DE,ro;q=0.7,en;q=0.3", "ro"),
        ("fr, en;q=0.1", "en"),
        ("ro;q=abc, en;q=0.2", "en"),
        ("*", "en"),
    ],
)
def test_the_language_of_a_refusal_follows_accept_language(header, lang):
    from starlette.requests import Request

    request = Request({"type": "http", "headers": [(b"accept-language", header.encode())]})
    assert language_of(request) == lang


# -- GET /requests ---------------------------------------------------------------------


def test_get_requests_matches_the_schema_and_maps_statuses(api, engine):
    open_no = _report(engine, address="Str. Mare 1")
    done_no = _report(engine, category="street_light")
    perform(engine, "testville", done_no, "resolved", STAFF, text="Bec înlocuit")
    r = api.get("/requests.json")
    assert r.status_code == 200
    found = r.json()
    validate(found, "requests.json")
    by_id = {x["service_request_id"]: x for x in found}
    assert by_id[open_no]["status"] == "open"
    assert by_id[open_no]["address"] == "Str. Mare 1"
    assert by_id[open_no]["agency_responsible"] == "Drumuri"
    assert by_id[done_no]["status"] == "closed"
    assert by_id[done_no]["status_notes"] == "Bec înlocuit"
    assert by_id[open_no]["lat"] == pytest.approx(TEST_LAT)
    assert by_id[open_no]["long"] == pytest.approx(TEST_LON)
    expected = {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    }
    assert all(set(x) == expected for x in found)
    # W3C datetimes with the city's offset (Europe/Bucharest: +02:00 or +03:00).
    requested = by_id[open_no]["requested_datetime"]
    assert requested[-6:] in ("+02:00", "+03:00"), requested
    assert datetime.fromisoformat(requested).tzinfo is not None
    assert [x["status"] for x in api.get("/requests.json?status=open").json()] == ["open"]
    assert [x["service_request_id"] for x in api.get("/requests.json?status=closed").json()] == [
        done_no
    ]


def test_get_requests_filters(api, engine):
    a = _report(engine)
    b = _report(engine, category="street_light")
    old = _report(engine, created_at=datetime.now(UTC) - timedelta(days=100))
    ids = lambda url: {x["service_request_id"] for x in api.get(url).json()}  # noqa: E731
    assert ids("/requests.json") == {a, b}  # default window: the last 90 days
    assert ids("/requests.json?service_code=street_light") == {b}
    assert ids("/requests.json?service_code=street_light,pothole") == {a, b}
    assert ids(f"/requests.json?service_request_id={old},{b.lower()}") == {old, b}
    # The spec's 1000 ids fit (16,999 characters: the text was cut at 10,000).
    many = ",".join([a, *(f"TST-2026-{n:06d}" for n in range(900_000, 900_999))])
    with engine.connect() as conn:
        city = open311.resolve_city(conn, None)
        assert {r["service_request_id"] for r in open311.find_requests(
            conn, city, service_request_id=many)} == {a}  # fmt: skip
    start = (datetime.now(UTC) - timedelta(days=120)).isoformat()
    assert ids("/requests.json?" + f"start_date={start}".replace("+", "%2B")) == {a, b, old}
    end = (datetime.now(UTC) - timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"/requests.json?end_date={end}") == {old}
    assert ids("/requests.json?start_date=2000-01-01&end_date=2000-02-01") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=pending", "status"),
        ("start_date=yesterday", "start_date"),
        ("end_date=2026-13-01", "end_date"),
        ("start_date=2026-02-01&end_date=2026-01-01", "start_date"),
        ("end_date=0001-01-02", "end_date"),
    ],
)
def test_get_requests_bad_filters_are_400(api, query, field):
    r = api.get(f"/requests.json?{query}")
    assert r.status_code == 400, r.text
    assert r.json()[0]["description"].startswith(f"{field}:")


def test_get_requests_xml(api, engine):
    number = _report(engine, description="Groapă <mare> & \x01 adâncă")
    r = api.get("/requests.xml")
    assert r.status_code == 200
    root = parse_xml(r.content)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert request.findtext("service_request_id") == number
    assert request.findtext("status") == "open"
    assert request.findtext("description") == "Groapă <mare> & \ufffd adâncă"
    assert float(request.findtext("lat")) == pytest.approx(TEST_LAT)
    assert [c.tag for c in request] == list(api.get("/requests.json").json()[0])


def test_get_requests_empty_xml(api):
    root = parse_xml(api.get("/requests.xml").content)
    assert root.tag == "service_requests" and len(root) == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_one_request(api, engine, fmt):
    number = _report(engine)
    r = api.get(f"/requests/{number}.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        validate(r.json(), "requests.json")
        assert [x["service_request_id"] for x in r.json()] == [number]
    else:
        assert parse_xml(r.content).findtext("request/service_request_id") == number


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_is_404(api, fmt):
    r = api.get(f"/requests/TST-2026-999999.{fmt}")
    assert r.status_code == 404
    if fmt == "json":
        assert r.json()[0]["code"] == 404
    else:
        root = parse_xml(r.content)
        assert root.findtext("error/code") == "404"
        assert "TST-2026-999999" in root.findtext("error/description")


def test_get_requests_returns_at_most_1000(demo_engine):
    api = client(demo_engine)
    r = api.get("/requests.json?jurisdiction_id=lugoj&start_date=2000-01-01T00:00:00Z")
    assert r.status_code == 200
    assert len(r.json()) == 1000
    times = [x["requested_datetime"] for x in r.json()]
    assert times == sorted(times, reverse=True)


# -- jurisdictions -------------------------------------------------------------------


def test_jurisdiction_id_selects_the_city(api, engine):
    _report(engine)
    with engine.begin() as conn:
        catalog.create_city(
            conn,
            slug="otherville",
            name_ro="Alt oraș",
            name_en="Other",
            registry_prefix="OTH",
            boundary=box(23.5, 46.0, 23.6, 46.1),
        )
    r = api.get("/requests.json")
    assert r.status_code == 400
    assert r.json()[0]["description"].startswith("jurisdiction_id:")
    assert "otherville" in r.json()[0]["description"]
    assert len(api.get("/requests.json?jurisdiction_id=testville").json()) == 1
    assert api.get("/requests.json?jurisdiction_id=otherville").json() == []
    assert api.get("/services.json?jurisdiction_id=otherville").json() == []
    r = api.get("/services.xml?jurisdiction_id=nowhere")
    assert r.status_code == 404
    assert "nowhere" in parse_xml(r.content).findtext("error/description")


def test_no_city_is_404(engine):
    assert client(engine).get("/services.json").status_code == 404


# -- documentation and CLI -------------------------------------------------------------


def test_openapi_schema_lists_every_endpoint(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert {
        "/services.{fmt}",
        "/services/{service_code}.{fmt}",
        "/requests.{fmt}",
        "/requests/{service_request_id}.{fmt}",
        "/opendata/incidents.{fmt}",
        "/health",
    } <= set(paths)
    assert "post" in paths["/requests.{fmt}"] and "get" in paths["/requests.{fmt}"]


def test_cli_help():
    out = subprocess.run(
        [sys.executable, "-m", "api", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--port" in out and "Open311" in out


def test_one_request_id_with_a_comma_is_404(api, engine):
    a, b = _report(engine), _report(engine)
    assert api.get(f"/requests/{a},{b}.json").status_code == 404


def test_apikey_cli_issues_lists_and_revokes(engine, city, monkeypatch):
    from typer.testing import CliRunner

    from sesizari.cli import app as cli

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    issued = runner.invoke(cli, ["apikey", "issue", "--city", "testville", "--name", "Harta app"])
    assert issued.exit_code == 0, issued.output
    key = issued.output.strip()
    fields = form(api_key=key, service_code="pothole", lat=TEST_LAT, long=TEST_LON, description="x")
    assert client(engine).post("/requests.json", data=fields).status_code == 200
    listed = runner.invoke(cli, ["apikey", "list", "--city", "testville"])
    assert "Harta app" in listed.output and "active" in listed.output and key not in listed.output
    key_id = listed.output.split("\t")[0]
    revoked = runner.invoke(cli, ["apikey", "revoke", "--city", "testville", "--key-id", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert client(engine).post("/requests.json", data=fields).status_code == 403
    unknown = runner.invoke(cli, ["apikey", "list", "--city", "nowhere"])
    assert unknown.exit_code == 1


def test_sensitive_requests_hide_address_and_exact_point(api, engine):
    number = _report(engine, category="noise", dlon=0.0011, dlat=0.0007, address="Str. Mică 3")
    [found] = api.get(f"/requests/{number}.json").json()
    assert found["address"] is None
    assert (found["long"], found["lat"]) != pytest.approx((TEST_LON + 0.0011, TEST_LAT + 0.0007))
    assert b"Str. Mic" not in api.get("/requests.xml").content


def test_unknown_route_and_method_use_the_error_format(api):
    r = api.get("/nothing.xml")
    assert r.status_code == 404 and parse_xml(r.content).findtext("error/code") == "404"
    r = api.delete("/services.json")
    assert r.status_code == 405 and "GET" in r.headers["allow"]
    assert r.json()[0]["code"] == 405


def test_health_says_whether_the_database_can_be_read(engine, city):
    """For a load balancer or a monitor: 200 while the database answers, 503 without
    a word about why (the address is public) when it does not."""
    from sesizari import db
    from tests.api_support import client
    from tests.conftest import _free_port

    fine = client(engine).get("/health")
    assert (fine.status_code, fine.json()) == (200, {"status": "ok"})
    assert fine.headers["cache-control"] == "no-store"
    gone = db.make_engine(f"postgresql+psycopg://u:secret@127.0.0.1:{_free_port()}/x")
    try:
        down = client(gone).get("/health")
    finally:
        gone.dispose()
    assert (down.status_code, down.json()) == (503, {"status": "unavailable"})
    assert down.headers["retry-after"] == "30" and "secret" not in down.text

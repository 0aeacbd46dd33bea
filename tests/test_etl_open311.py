"""Open311 GeoReport v2 over real HTTP: a local server answers with the spec's fixtures."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from defusedxml import ElementTree as SafeET
from shapely.geometry import box

from etl.load import load_source
from etl.mapping import load_mapping
from etl.open311 import Service, open311_source
from etl.runs import last_watermark, list_runs
from sesizari import catalog
from sesizari.errors import ValidationError
from tests.api_support import validate
from tests.conftest import SHARED
from tests.etl_helpers import QuietHandler, http_server, incidents
from tests.test_etl_cli import _run

FIXTURES = SHARED / "data" / "open311" / "fixtures"


def _recorded_json(name: str) -> bytes:
    """A recorded XML answer as the spec's JSON form of the same answer: a list
    of objects, lat/long as numbers, metadata as a boolean (checked against
    the reference schema, so the JSON is what a GeoReport v2 server sends)."""
    root = SafeET.fromstring((FIXTURES / f"{name}.xml").read_bytes())
    items = []
    for element in root:
        item: dict[str, object] = {c.tag: (c.text or "").strip() or None for c in element}
        for key in ("lat", "long"):
            if item.get(key) is not None:
                item[key] = float(item[key])
        if "metadata" in item:
            item["metadata"] = item["metadata"] == "true"
        items.append(item)
    validate(items, "services.json" if name == "services" else "requests.json")
    return json.dumps(items).encode()


class _Handler(QuietHandler):
    """Serves the service list, and page 1 of the requests from a fixture
    (later pages are empty), as .json or .xml."""

    fixtures: ClassVar[dict[str, tuple[int, bytes]]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        path, _, query = self.path.partition("?")
        name = path.rsplit("/", 1)[-1]
        fmt = name.rsplit(".", 1)[-1]
        page = "page=1" in query.split("&")
        key = name if page or name.startswith("services.") else f"empty.{fmt}"
        status, body = self.fixtures.get(key, (404, b"<error>not found</error>"))
        self.answer(status, "application/json" if fmt == "json" else "text/xml", body)


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    class Handler(_Handler):
        fixtures: ClassVar[dict[str, tuple[int, bytes]]] = {
            "services.xml": (200, (FIXTURES / "services.xml").read_bytes()),
            "requests.xml": (200, (FIXTURES / "service_requests.xml").read_bytes()),
            "empty.xml": (200, (FIXTURES / "service_requests_empty.xml").read_bytes()),
            "services.json": (200, _recorded_json("services")),
            "requests.json": (200, _recorded_json("service_requests")),
            "empty.json": (200, b"[]"),
        }
        seen: ClassVar[list[str]] = []

    with http_server(Handler) as base:
        yield f"{base}/open311/v2", Handler


@pytest.fixture
def sf(engine):
    with engine.begin() as conn:
        cid = catalog.create_city(
            conn,
            slug="sf",
            name_ro="San Francisco",
            name_en="San Francisco",
            registry_prefix="SF",
            boundary=box(-122.55, 37.70, -122.35, 37.85),
            timezone="America/Los_Angeles",
        )
        catalog.create_department(conn, cid, "public_works", "Lucrări", "Public works")
        catalog.create_category(conn, cid, "other", "Altele", "Other", "public_works", 72)
    return cid


@pytest.mark.skipif(not FIXTURES.exists(), reason="shared Open311 fixtures not present")
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_requests_are_loaded_and_resume_from_the_watermark(engine, sf, server, fmt):
    base, handler = server
    if fmt == "xml":  # a server that only answers XML: the default tries JSON first
        handler.fixtures = {k: v for k, v in handler.fixtures.items()
                            if not k.endswith(".json")}
    mapping = load_mapping("open311")
    source = open311_source(base)
    assert source.format == fmt
    assert len(source.services) == 36
    assert source.services[0] == Service("001", "Cans_Left_Out_24x7", "Litter Receptacles")
    result = load_source(engine, source, base, "sf", mapping)
    assert (result.read, result.inserted, result.rejected) == (2, 2, 0)
    got = {i["external_id"]: i for i in incidents(engine, "open311")}
    assert got["638344"]["status"] == "closed"
    assert got["638344"]["resolution_text"] == "Duplicate request."
    assert got["638344"]["created_at"] == datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC)
    assert got["638349"]["status"] == "new"
    assert got["638349"]["registry_number"] == "SF-2010-000002"
    tried = ["/open311/v2/services.json"] + (["/open311/v2/services.xml"] if fmt == "xml" else [])
    # No start: one query without dates (the server's default range), page by page.
    assert handler.seen == [*tried, f"/open311/v2/requests.{fmt}?page=1",
                            f"/open311/v2/requests.{fmt}?page=2"]

    since = last_watermark(engine, "sf", "open311")
    assert since == datetime(2010, 4, 19, 14, 37, 38, tzinfo=UTC)
    del handler.seen[:]
    until = datetime(2010, 6, 1, tzinfo=UTC)
    again = load_source(engine, open311_source(base, since=since, until=until), base, "sf",
                        mapping)
    assert (again.read, again.unchanged) == (2, 2)
    assert handler.seen[len(tried)] == (
        f"/open311/v2/requests.{fmt}?page=1&start_date=2010-04-19T14%3A37%3A37%2B00%3A00"
        "&end_date=2010-06-01T00%3A00%3A00%2B00%3A00"
    )


def test_open311_errors_say_what_to_do(engine, sf, server):
    base, handler = server
    forbidden = (403, (FIXTURES / "403.xml").read_bytes().split(b"\n\n", 1)[-1])
    handler.fixtures = {**handler.fixtures, "requests.xml": forbidden}
    with pytest.raises(ValidationError, match="HTTP 403: Invalid api_key"):
        load_source(engine, open311_source(base, fmt="xml"), base, "sf",
                    load_mapping("open311"))
    (run,) = list_runs(engine, "sf")
    assert run["status"] == "failed" and "HTTP 403" in run["error"]
    # the Feeds page's parts: where the run stopped, and the cause in Romanian
    assert run["error_row"] == 1 and "a răspuns HTTP 403: Invalid api_key" in run["error_ro"]
    # The same in JSON, as an HTTP error and as a 200 answer holding errors.
    refused = json.dumps([{"code": 403, "description": "Invalid api_key received"}]).encode()
    for status in (403, 200):
        handler.fixtures = {**handler.fixtures, "requests.json": (status, refused)}
        with pytest.raises(ValidationError, match="Invalid api_key received"):
            load_source(engine, open311_source(base), base, "sf", load_mapping("open311"))
    # A service list that cannot be read stops the run before it is recorded.
    handler.fixtures = {"services.xml": forbidden}
    with pytest.raises(ValidationError, match=r"services\.xml answered HTTP 403"):
        open311_source(base)
    handler.fixtures = {"services.json": (200, b'{"not": "a list"}')}
    with pytest.raises(ValidationError, match="did not answer a GeoReport v2 list"):
        open311_source(base, fmt="json")
    handler.fixtures = {"services.xml": (200, (FIXTURES / "service_requests.xml").read_bytes())}
    with pytest.raises(ValidationError, match="not a GeoReport v2 service list"):
        open311_source(base)
    handler.fixtures = {"services.xml": (200, b"<!DOCTYPE x [<!ENTITY a 'b'>]><services/>")}
    with pytest.raises(ValidationError, match="did not answer plain XML"):
        open311_source(base)
    # A web page (the base URL names a site's page, a login, a proxy's error):
    # what to check, not the page's text or the XML parser's complaint.
    page = b"<!DOCTYPE html>\n<html><head><title>Primaria</title></head><body>Bun venit"
    for fmt in ("xml", "json"):
        handler.fixtures = {f"services.{fmt}": (200, page)}
        with pytest.raises(ValidationError, match=(
                rf"answered a web page, not GeoReport v2 {fmt.upper()}: check the base URL"
                rf" \(it ends before /services\.{fmt}")):
            open311_source(base, fmt=fmt)
    for status, advice in ((404, "check the base URL: it ends before /services.json"),
                           (500, "the server failed; try again later"),
                           (502, "the server failed; try again later")):
        handler.fixtures = {"services.xml": (status, page * 20)}
        with pytest.raises(ValidationError) as refused:
            open311_source(base)
        said = str(refused.value)
        assert f"answered HTTP {status}: a web page, not a GeoReport v2 error" in said, said
        assert advice in said and "Bun venit" not in said and "\n" not in said
    assert len(list_runs(engine, "sf")) == 3
    with pytest.raises(ValidationError, match="http"):
        list(open311_source("file:///etc/passwd").rows)
    assert Path(FIXTURES).exists()


class _DatedServer(QuietHandler):
    """A GeoReport v2 server that honours start_date/end_date (at most 90 days
    apart, the spec's limit) and pages of PAGE requests: one request every
    ten days of 2024 and 2025."""

    PAGE = 3
    times: ClassVar[list[datetime]] = [
        datetime(2024, 1, 1, 12, tzinfo=UTC) + timedelta(days=10 * k) for k in range(73)
    ]
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path.endswith(".json"):  # this server answers XML only
            self.answer(404, "text/plain", b"")
            return
        if path.endswith("/services.xml"):
            body = b"<services><service><service_code>other</service_code>" \
                   b"<service_name>Other</service_name></service></services>"
        else:
            q = dict(urllib.parse.parse_qsl(query))
            self.seen.append(q)
            start = datetime.fromisoformat(q["start_date"])
            end = datetime.fromisoformat(q["end_date"])
            if end - start > timedelta(days=90):
                self.answer(400, "text/xml", b"<errors><error><code>400</code>"
                            b"<description>range over 90 days</description></error></errors>")
                return
            hits = [t for t in self.times if start <= t <= end]
            page = int(q["page"])
            body = b"<service_requests>" + b"".join(
                f"<request><service_request_id>{self.times.index(t)}</service_request_id>"
                f"<status>open</status><service_code>other</service_code>"
                f"<requested_datetime>{t.isoformat()}</requested_datetime>"
                f"<lat>37.76</lat><long>-122.45</long></request>".encode()
                for t in hits[(page - 1) * self.PAGE: page * self.PAGE]
            ) + b"</service_requests>"
        self.answer(200, "text/xml", body)


@pytest.fixture
def dated() -> Iterator[tuple[str, type[_DatedServer]]]:
    class Handler(_DatedServer):
        seen: ClassVar[list[dict[str, str]]] = []

    with http_server(Handler) as base:
        yield f"{base}/v2", Handler


def test_a_long_range_is_fetched_in_windows_of_90_days_page_by_page(engine, sf, dated):
    base, handler = dated
    since, until = datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    source = open311_source(base, since=since, until=until)
    assert source.services == [Service("other", "Other")]
    result = load_source(engine, source, base, "sf", load_mapping("open311"))
    # Every request once, though windows share their edges.
    assert (result.read, result.inserted, result.rejected) == (73, 73, 0)
    assert {i["description"] for i in incidents(engine, "open311")} == {"Other"}
    starts = sorted({q["start_date"] for q in handler.seen})
    assert len(starts) == 9  # 730 days in windows of at most 90
    assert max(int(q["page"]) for q in handler.seen) in (4, 5)  # 9 or 10 requests a window

    # A window with more pages than allowed is an error, not a silent cut.
    with pytest.raises(ValidationError, match="still had requests after 2 pages"):
        list(open311_source(base, since=since, until=until, max_pages=2).rows)
    # Smaller windows are asked for when the server needs them.
    del handler.seen[:]
    small = open311_source(base, since=since, until=datetime(2024, 3, 1, tzinfo=UTC),
                           window_days=7)
    assert len(list(small.rows)) == 6
    assert all(datetime.fromisoformat(q["end_date"]) - datetime.fromisoformat(q["start_date"])
               <= timedelta(days=7) for q in handler.seen)


def test_windows_sharing_an_edge_request_lose_nothing_with_one_request_a_page(dated):
    base, handler = dated
    handler.PAGE = 1
    # Windows start one second early, so the request of 2024-03-31 12:00 is the
    # last of the first window and the first of the second: met again, skipped,
    # and the second window still read to its end.
    since = datetime(2024, 1, 1, 12, 0, 1, tzinfo=UTC)
    rows = list(open311_source(base, since=since, until=datetime(2024, 7, 1, tzinfo=UTC)).rows)
    assert [int(r["service_request_id"]) for r in rows] == list(range(19))


def test_a_server_that_ignores_the_page_is_read_once(server):
    base, handler = server
    handler.fixtures = {**handler.fixtures, "empty.json": handler.fixtures["requests.json"]}
    rows = list(open311_source(base).rows)
    assert [r["service_request_id"] for r in rows] == ["638344", "638349"]
    assert handler.seen[-1] == "/open311/v2/requests.json?page=2"


def test_open311_from_the_command_line_since_a_local_date(engine, sf, server, dated, tmp_path):
    base, _handler = server
    # A dry run first: the same fetch and counts, nothing kept (no run, no incident).
    out = _run(["open311", base, "--city", "sf", "--dry-run"], engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "dry run, nothing kept: read 2 = would insert 2" in out.stdout
    assert list_runs(engine, "sf") == [] and incidents(engine, "open311") == []
    assert (tmp_path / "rejects-sf-dry-run.csv").read_text("utf-8-sig").splitlines() == [
        "source_row,reason,message"]
    out = _run(["open311", base, "--city", "sf"], engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "the server lists 36 services (json)" in out.stdout
    assert ("36 of them match no category of sf, and their requests go to the fallback"
            " category 'other': 001, 002") in out.stdout
    assert "read 2 = inserted 2" in out.stdout

    base, handler = dated
    out = _run(["open311", base, "--city", "sf", "--since", "2025-12-01", "--window-days",
                "30"], engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    # A date without an offset is the city's local midnight (San Francisco: UTC-8).
    assert "requests from 2025-12-01 00:00:00 PST on" in out.stdout
    assert handler.seen[0]["start_date"] == "2025-11-30T23:59:59-08:00"
    assert "read 3 = inserted 3" in out.stdout  # Dec 1, 11 and 21 of 2025
    assert "match no category" not in out.stdout
    assert "the server lists 1 services (xml)" in out.stdout  # JSON asked first, then XML
    (run, *_) = list_runs(engine, "sf")
    assert run["file_name"] == base
    # Without --since: from the watermark (Dec 21 12:00 UTC) less 30 days, so
    # the requests made in that month are read again and any change updated.
    out = _run(["open311", base, "--city", "sf", "--window-days", "30"], engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "requests from 2025-11-21 12:00:00 UTC on" in out.stdout
    assert "read 4 = inserted 1 + updated 0 + unchanged 3" in out.stdout  # Nov 21 is new
    out = _run(["open311", base, "--city", "sf", "--revisit-days", "0"], engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "requests from 2025-12-21 12:00:00 UTC on" in out.stdout
    assert "read 1 = inserted 0 + updated 0 + unchanged 1" in out.stdout
    for bad, message in ((["--since", "yesterday"], "'yesterday' is not a date"),
                         (["--since", "2025-01-01", "--full"], "not both"),
                         (["--format", "csv"], "use one of auto, json, xml")):
        out = _run(["open311", base, "--city", "sf", *bad], engine, cwd=tmp_path)
        assert out.returncode == 1 and message in out.stderr


def test_a_request_dated_in_the_future_does_not_stall_the_next_runs(engine, sf, server):
    base, handler = server
    future = json.loads(handler.fixtures["requests.json"][1])
    future[1]["requested_datetime"] = future[1]["updated_datetime"] = "2099-01-01T00:00:00Z"
    handler.fixtures = {**handler.fixtures, "requests.json": (200, json.dumps(future).encode())}
    result = load_source(engine, open311_source(base), base, "sf", load_mapping("open311"))
    assert (result.inserted, result.reasons) == (1, {"date_in_future": 1})
    since = last_watermark(engine, "sf", "open311")
    assert since == datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC)  # not 2099
    del handler.seen[:]
    list(open311_source(base, since=datetime(2099, 1, 1, tzinfo=UTC)).rows)
    start = urllib.parse.parse_qs(handler.seen[-1].partition("?")[2])["start_date"][0]
    assert datetime.fromisoformat(start) <= datetime.now(UTC)


def test_an_answer_without_end_stops_the_run_with_a_message(engine, sf, server, monkeypatch):
    """A page is read up to a bound (64 MiB; 10,000 bytes here), not whole into memory."""
    import etl.open311

    base, handler = server
    monkeypatch.setattr(etl.open311, "MAX_ANSWER_BYTES", 10_000)
    handler.fixtures = {**handler.fixtures, "requests.json": (200, b"[" + b" " * 20_000 + b"]")}
    with pytest.raises(ValidationError, match=r"requests\.json answered more than .* MiB for"
                       " one page; check that the base URL is a GeoReport v2 endpoint"):
        load_source(engine, open311_source(base, fmt="json"), base, "sf",
                    load_mapping("open311"))
    (run,) = list_runs(engine, "sf")
    assert run["status"] == "failed"
    handler.fixtures = {**handler.fixtures, "requests.json": (200, b"[" + b" " * 9_000 + b"]")}
    result = load_source(engine, open311_source(base, fmt="json"), base, "sf",
                         load_mapping("open311"))
    assert result.read == 0


@pytest.mark.skipif(not FIXTURES.exists(), reason="shared Open311 fixtures not present")
def test_a_pull_that_revisits_a_request_keeps_what_staff_did_to_it(engine, sf, server):
    """Every scheduled pull revisits the last 30 days: the server still calls
    request 638349 open, but city staff have resolved it meanwhile.  The pull
    leaves it resolved; its events show no 'updated' from the feed."""
    from sesizari.incidents import Actor, perform
    from tests.etl_helpers import events

    base, _handler = server
    mapping = load_mapping("open311")
    load_source(engine, open311_source(base), base, "sf", mapping)
    number = {i["external_id"]: i["registry_number"]
              for i in incidents(engine, "open311")}["638349"]
    clerk = Actor("ana", None, "staff")
    for action in ("acknowledged", "started"):
        perform(engine, "sf", number, action, clerk)
    perform(engine, "sf", number, "resolved", clerk, text="Curățat de echipa de salubrizare")
    again = load_source(engine, open311_source(base), base, "sf", mapping)
    assert (again.read, again.updated, again.unchanged) == (2, 0, 2)
    got = {i["external_id"]: i for i in incidents(engine, "open311")}["638349"]
    assert (got["status"], got["resolution_text"]) == (
        "resolved", "Curățat de echipa de salubrizare")
    assert [e["kind"] for e in events(engine, "638349")] == [
        "created", "acknowledged", "started", "resolved"]


def test_an_older_copy_of_a_request_changes_nothing(engine, sf, server):
    """The server closes request 638349 (updated_datetime moves on); a later
    pull that gets an older copy of the page (a cache, a replay) leaves the
    request closed: read = unchanged, no event."""
    from tests.etl_helpers import events

    base, handler = server
    mapping = load_mapping("open311")
    older = handler.fixtures["requests.json"]
    load_source(engine, open311_source(base, fmt="json"), base, "sf", mapping)
    newer = json.loads(older[1])
    closing = next(r for r in newer if r["service_request_id"] == "638349")
    assert closing["status"] == "open"
    closing.update(status="closed", updated_datetime="2010-04-20T10:00:00-08:00",
                   status_notes="Cleaned")
    handler.fixtures = {**handler.fixtures, "requests.json": (200, json.dumps(newer).encode())}
    result = load_source(engine, open311_source(base, fmt="json"), base, "sf", mapping)
    assert (result.updated, result.unchanged) == (1, 1)
    handler.fixtures = {**handler.fixtures, "requests.json": older}
    replay = load_source(engine, open311_source(base, fmt="json"), base, "sf", mapping)
    assert (replay.read, replay.inserted, replay.updated, replay.unchanged) == (2, 0, 0, 2)
    got = {i["external_id"]: i for i in incidents(engine, "open311")}["638349"]
    assert (got["status"], got["resolution_text"]) == ("closed", "Cleaned")
    assert [e["kind"] for e in events(engine, "638349")] == ["created", "updated"]


def _one_page(requests: bytes) -> type[QuietHandler]:
    """A JSON GeoReport v2 server with one service, ``other``, whose requests
    are ``requests`` on page 1 of every window (a server that ignores the
    dates answers so too)."""

    class OnePage(QuietHandler):
        def do_GET(self) -> None:
            if self.path.partition("?")[0].endswith("/services.json"):
                body = b'[{"service_code": "other", "service_name": "Other"}]'
            else:
                body = requests if "page=1" in self.path else b"[]"
            self.answer(200, "application/json", body)

    return OnePage


#: Requests whose JSON holds what PostgreSQL text cannot: NUL and a lone surrogate.
_STRANGE_TEXT = (b'[{"service_request_id": "N1", "status": "open", "service_code": "other",'
                 b' "description": "Groap\\u0103\\u0000 mare \\ud800 aici",'
                 b' "requested_datetime": "2026-05-04T10:15:00-07:00",'
                 b' "lat": 37.76, "long": -122.45},'
                 b' {"service_request_id": "N2", "status": "open", "service_code": "other",'
                 b' "requested_datetime": "2026-05-04T11:15:00-07:00",'
                 b' "lat": 37.77, "long": -122.45}]')

#: A request without its id, met in every window (a server that ignores the dates).
_NO_IDS = (b'[{"service_request_id": null, "status": "open", "service_code": "other",'
           b' "requested_datetime": "2026-01-04T10:15:00Z", "lat": 37.76,'
           b' "long": -122.45}]')

#: One request outside the city: its reject must name it by its id.
_FAR_AWAY = (b'[{"service_request_id": "638344", "status": "open", "service_code":'
             b' "other", "requested_datetime": "2026-01-04T10:15:00Z", "lat": 40.7,'
             b' "long": -74.0}]')


def test_text_postgresql_cannot_hold_costs_one_character_not_the_run(engine, sf):
    """A request with \\u0000 or a lone surrogate in its JSON failed the whole
    run with a traceback; now the character goes, as in a CSV."""
    with http_server(_one_page(_STRANGE_TEXT)) as base:
        result = load_source(engine, open311_source(f"{base}/v2", fmt="json"), base, "sf",
                             load_mapping("open311"))
    assert (result.inserted, result.rejected) == (2, 0)
    got = {i["external_id"]: i["description"] for i in incidents(engine, "open311")}
    assert got["N1"].endswith("Groapă mare \ufffd aici")


def test_windows_over_a_clock_change_last_their_days_exactly():
    """Added in local wall time, the window over the October change was 90
    days and an hour, past the spec's limit for a server that holds to it."""
    from itertools import pairwise
    from zoneinfo import ZoneInfo

    from etl.open311 import windows

    zone = ZoneInfo("Europe/Bucharest")
    got = windows(datetime(2025, 9, 1, tzinfo=zone), datetime(2026, 5, 1, tzinfo=UTC), 90)
    spans = {(b.astimezone(UTC) - a.astimezone(UTC)) for a, b in got[:-1]}
    assert spans == {timedelta(days=90)}
    assert got[0][0].isoformat() == "2025-08-31T23:59:59+03:00"  # written in the start's zone
    assert got[1][0].utcoffset() == timedelta(hours=2)  # past the October change
    assert all(a[1] == b[0] for a, b in pairwise(got))


def test_a_request_without_its_id_met_in_every_window_is_one_reject(engine, sf):
    with http_server(_one_page(_NO_IDS)) as base:
        source = open311_source(f"{base}/v2", fmt="json",
                                since=datetime(2025, 1, 1, tzinfo=UTC), window_days=30)
        result = load_source(engine, source, base, "sf", load_mapping("open311"))
    assert (result.read, result.reasons) == (1, {"missing_external_id": 1})


def test_a_rejected_request_is_named_by_its_id(engine, sf):
    """"row 3" is a position in what the server answered: the message starts
    with the request's id, by which it is found on the server."""
    from tests.etl_helpers import rejects

    with http_server(_one_page(_FAR_AWAY)) as base:
        result = load_source(engine, open311_source(f"{base}/v2", fmt="json"), base, "sf",
                             load_mapping("open311"))
    (rej,) = rejects(engine, result.run_id)
    assert rej["message"].startswith("service_request_id '638344': the point is outside")
    assert rej["message_ro"].startswith("service_request_id '638344': punctul este în afara")

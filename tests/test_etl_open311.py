"""Open311 GeoReport v2 over real HTTP: a local server answers with the spec's fixtures."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from shapely.geometry import box

from etl.load import last_watermark, load_source
from etl.mapping import load_mapping
from etl.open311 import open311_source
from sesizari import catalog
from sesizari.errors import ValidationError
from tests.conftest import SHARED
from tests.etl_helpers import incidents

FIXTURES = SHARED / "data" / "open311" / "fixtures"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves requests.xml page 1 from a fixture; later pages are empty."""

    fixtures: ClassVar[dict[str, tuple[int, bytes]]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        path, _, query = self.path.partition("?")
        page = "page=1" in query.split("&")
        key = path.rsplit("/", 1)[-1] if page else "empty"
        status, body = self.fixtures.get(key, (404, b"<error>not found</error>"))
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    class Handler(_Handler):
        fixtures: ClassVar[dict[str, tuple[int, bytes]]] = {
            "requests.xml": (200, (FIXTURES / "service_requests.xml").read_bytes()),
            "empty": (200, (FIXTURES / "service_requests_empty.xml").read_bytes()),
        }
        seen: ClassVar[list[str]] = []

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/open311/v2", Handler
    httpd.shutdown()
    httpd.server_close()


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
def test_open311_requests_are_loaded_and_resume_from_the_watermark(engine, sf, server):
    base, handler = server
    mapping = load_mapping("open311")
    result = load_source(engine, open311_source(base), base, "sf", mapping)
    assert (result.read, result.inserted, result.rejected) == (2, 2, 0)
    got = {i["external_id"]: i for i in incidents(engine, "open311")}
    assert got["638344"]["status"] == "closed"
    assert got["638344"]["resolution_text"] == "Duplicate request."
    assert got["638344"]["created_at"] == datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC)
    assert got["638349"]["status"] == "new"
    assert got["638349"]["registry_number"] == "SF-2010-000002"
    assert handler.seen[0].startswith("/open311/v2/requests.xml?page=1")

    since = last_watermark(engine, "sf", "open311")
    assert since == datetime(2010, 4, 19, 14, 37, 38, tzinfo=UTC)
    again = load_source(engine, open311_source(base, since=since), base, "sf", mapping)
    assert (again.read, again.unchanged) == (2, 2)
    assert "start_date=2010-04-19T14%3A37%3A37%2B00%3A00" in handler.seen[-2]


def test_open311_errors_say_what_to_do(engine, sf, server):
    base, handler = server
    handler.fixtures = {
        "requests.xml": (403, (FIXTURES / "403.xml").read_bytes().split(b"\n\n", 1)[-1])
    }
    with pytest.raises(ValidationError, match="HTTP 403: Invalid api_key"):
        load_source(engine, open311_source(base), base, "sf", load_mapping("open311"))
    with pytest.raises(ValidationError, match="http"):
        list(open311_source("file:///etc/passwd").rows)
    assert Path(FIXTURES).exists()

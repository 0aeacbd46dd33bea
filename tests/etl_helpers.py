"""Shared helpers of the ETL tests: a test mapping and small files in tmp_path."""

from __future__ import annotations

import csv
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl.mapping import Mapping, parse_mapping

HEADER = ["id", "creat", "inchis", "tip", "stare", "lat", "lon", "adresa", "descriere"]
#: A valid row inside the test city (conftest: box(21.85, 45.64, 21.95, 45.74)).
GOOD = {
    "id": "A1",
    "creat": "2026-05-04 10:15",
    "inchis": "",
    "tip": "Groapă",
    "stare": "Deschisă",
    "lat": "45.69",
    "lon": "21.90",
    "adresa": "Str. Bucegi 3",
    "descriere": "Groapă adâncă în carosabil",
}


def test_mapping(**overrides: object) -> Mapping:
    """The mapping of the test files (a Romanian city's CSV export)."""
    data: dict = {
        "source": "primarie",
        "columns": {
            "external_id": "id",
            "created": "creat",
            "closed": "inchis",
            "address": "adresa",
            "description": "descriere",
        },
        "time": {"format": "YYYY-MM-DD HH24:MI", "timezone": "Europe/Bucharest"},
        "category": {
            "column": "tip",
            "map": {"Groapă": "pothole", "Bec ars": "street_light", "Zgomot": "noise"},
        },
        "status": {"column": "stare", "map": {"Deschisă": "new", "Închisă": "closed"}},
        "geometry": {"lon": "lon", "lat": "lat"},
    }
    for key, value in overrides.items():
        section, _, name = key.partition("__")
        if name:
            data.setdefault(section, {})[name] = value
        elif value is None:
            data.pop(section, None)
        else:
            data[section] = value
    return parse_mapping(data)


test_mapping.__test__ = False  # a helper, not a test


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    header: list[str] = HEADER,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, delimiter=delimiter, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def _dicts(engine: Engine, sql: str, params: dict) -> list[dict]:
    """The rows of a query, each as a dict."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def incidents(engine: Engine, source: str = "primarie") -> list[dict]:
    return _dicts(
        engine,
        "SELECT i.external_id, i.registry_number, i.status, c.code AS category,"
        " d.code AS department, i.created_at, i.resolved_at, i.closed_at,"
        " i.resolution_text, i.address, i.description, i.channel,"
        " ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.district_id"
        " FROM incidents i JOIN categories c USING (city_id, category_id)"
        " JOIN departments d ON d.city_id = i.city_id"
        " AND d.department_id = i.department_id"
        " WHERE i.source = :s ORDER BY i.registry_number",
        {"s": source},
    )


def rejects(engine: Engine, run_id: int) -> list[dict]:
    return _dicts(
        engine,
        "SELECT source_row, reason, message, message_ro, raw FROM feed_rejects"
        " WHERE run_id = :r ORDER BY source_row",
        {"r": run_id},
    )


def events(engine: Engine, external_id: str) -> list[dict]:
    """The events of the incident loaded with ``external_id``, oldest first."""
    return _dicts(
        engine,
        "SELECT e.kind, e.from_status, e.to_status, e.actor_label, e.channel, e.data"
        " FROM incident_events e JOIN incidents i USING (city_id, incident_id)"
        " WHERE i.external_id = :x ORDER BY e.event_id",
        {"x": external_id},
    )


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that keeps the test output free of access logs."""

    def answer(self, status: int, content_type: str, body: bytes,
               length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on a free local port, answering with ``handler``: its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()

"""RELIABILITY R1 and R2 at their stated scale, for CSV, GeoJSON and Open311.

R1: every kind of bad row a format can carry, a few of each, mixed at
random places into 10,000 good rows.  Each bad row is rejected with its
reason at its row number; each good row is stored as the source gave it
(times, place, category, status, address, description); read = inserted +
updated + unchanged + rejected.

R2: the same feed twice more adds nothing; a feed with 5 % of its rows
changed updates exactly those (one event each) and leaves the others
untouched; the first feed replayed after it (an older copy) changes nothing.

One canonical list of reports is written in each format, so the three
tests check the same facts.  Open311 has no row numbers of its own: a
request's row number is its place in the pull, page after page.  It has no
duplicate-id kind either: the pull itself skips an id met before (windows
share their edges), and a CSV-only kind (wrong number of fields, bytes in
another encoding) has no JSON form.
"""

from __future__ import annotations

import csv
import io
import json
import random
import tomllib
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl.load import RunResult, load_file, load_source
from etl.mapping import MAPPINGS_DIR, Mapping, load_mapping, parse_mapping
from etl.open311 import open311_source
from tests.etl_helpers import QuietHandler, http_server

N_GOOD = 10_000
COPIES = 4  # of each bad kind
TZ = ZoneInfo("Europe/Bucharest")
CODES = ("pothole", "street_light", "noise")
#: The test city's categories as the CSV export names them (tests.etl_helpers).
CSV_LABELS = {"pothole": "Groapă", "street_light": "Bec ars", "noise": "Zgomot"}
#: Open311 service names (the shipped mapping joins name and description).
SERVICE_NAMES = {"pothole": "Gropi", "street_light": "Iluminat public", "noise": "Zgomot"}
STREETS = ("Bucegi", "Ştefan cel Mare", "Mihai Viteazu", "Făgetului", "Timișorii",
           "Nicolae Bălcescu", "Ion Creangă")
WORDS = ("groapă", "adâncă", "în", "faţa", "blocului", "bec", "ars", "zgomot", "noaptea",
         "stâlp", "înclinat", "țeavă", "spartă", "lângă", "școală", '"urgent"', "pe", "trotuar",
         "deșeuri", "Ø", "—", "l'intersection", "100%", "a/b", "x;y", "1,5 m")


@dataclass(frozen=True)
class Report:
    """One good report, as the source means it."""

    id: str
    created: datetime  # UTC, whole minutes (the CSV's format has no seconds)
    closed: datetime | None
    updated: datetime  # when the source last changed it
    category: str  # the city's code
    lon: float
    lat: float
    address: str | None
    description: str

    @property
    def status(self) -> str:
        return "closed" if self.closed else "new"


def _ambiguous(t: datetime) -> bool:
    """A UTC instant whose local time happens twice (autumn's switch): a
    naive local rendering of it could not be read back."""
    local = t.astimezone(TZ).replace(tzinfo=None)
    return (local.replace(tzinfo=TZ, fold=0).utcoffset()
            != local.replace(tzinfo=TZ, fold=1).utcoffset())


def good_reports(n: int, rng: random.Random) -> list[Report]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    while len(out) < n:
        created = start + timedelta(minutes=rng.randrange(600 * 24 * 60))
        if _ambiguous(created):
            continue
        closed = None
        if rng.random() < 0.4:
            closed = created + timedelta(minutes=rng.randrange(30, 30 * 24 * 60))
            if _ambiguous(closed):
                continue
        words = rng.sample(WORDS, rng.randrange(2, 9))
        if rng.random() < 0.02:
            words.insert(1, "\n")  # a line break inside a description
        out.append(Report(
            id=f"R-{len(out):05d}",
            created=created,
            closed=closed,
            updated=closed or created,
            category=rng.choice(CODES),
            lon=round(rng.uniform(21.86, 21.94), 6),
            lat=round(rng.uniform(45.65, 45.73), 6),
            address=(f"Str. {rng.choice(STREETS)} {rng.randrange(1, 200)}"
                     if rng.random() < 0.8 else None),
            description=" ".join(words).replace(" \n ", "\n").capitalize(),
        ))
    return out


def changed(reports: list[Report], rng: random.Random) -> tuple[list[Report], set[str]]:
    """The feed a little later: 5 % of its reports changed (half closed,
    half with a new description), each with a later ``updated``."""
    picked = {r.id for r in rng.sample(reports, len(reports) // 20)}
    later = datetime(2026, 10, 1, tzinfo=UTC)
    out = []
    for k, r in enumerate(reports):
        if r.id not in picked:
            out.append(r)
        elif r.closed is None and k % 2:
            out.append(replace(r, closed=later, updated=later))
        else:
            out.append(replace(r, description=r.description + " (revenit)", updated=later))
    return out, picked


# --- The formats -------------------------------------------------------------------------


def _local(t: datetime | None) -> str:
    return t.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if t else ""


#: Bad kind -> changes to a good report's row, per format.  A value may be a
#: function of the report (``closed_before_created``).  None: the format
#: cannot carry that kind.
Change = dict[str, Any]


@dataclass
class Format:
    name: str
    row: Callable[[Report], dict[str, Any]]
    bad: dict[str, Change | None]
    id_field: str


CSV_FIELDS = ["id", "creat", "inchis", "modificat", "tip", "stare", "lat", "lon", "adresa",
              "descriere"]


def csv_row(r: Report) -> dict[str, Any]:
    return {"id": r.id, "creat": _local(r.created), "inchis": _local(r.closed),
            "modificat": _local(r.updated), "tip": CSV_LABELS[r.category],
            "stare": "Închisă" if r.closed else "Deschisă", "lat": f"{r.lat:.6f}",
            "lon": f"{r.lon:.6f}", "adresa": r.address or "", "descriere": r.description}


def geojson_row(r: Report, k: int = 0) -> dict[str, Any]:
    # Times in three ISO forms: naive local, with the local offset, in UTC.
    def iso(t: datetime | None) -> str | None:
        if t is None:
            return None
        form = k % 3
        if form == 0:
            return t.astimezone(TZ).replace(tzinfo=None).isoformat()
        return (t.astimezone(TZ) if form == 1 else t).isoformat().replace("+00:00", "Z")

    return {"id": r.id, "created_at": iso(r.created), "closed_at": iso(r.closed),
            "updated_at": iso(r.updated), "category": r.category, "status": r.status,
            "address": r.address, "description": r.description,
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]}}


def open311_row(r: Report) -> dict[str, Any]:
    return {"service_request_id": r.id, "status": "closed" if r.closed else "open",
            "service_code": r.category, "service_name": SERVICE_NAMES[r.category],
            "description": r.description,
            "requested_datetime": r.created.astimezone(TZ).isoformat(),
            "updated_datetime": r.updated.astimezone(TZ).isoformat(),
            "address": r.address, "lat": r.lat, "long": r.lon}


def _day_before(form: str) -> Callable[[Report], str]:
    """A closing time a day before the report's creation, in the CSV's form or ISO."""
    def value(r: Report) -> str:
        t = r.created - timedelta(days=1)
        return _local(t) if form == "csv" else t.astimezone(TZ).isoformat()
    return value


CSV = Format("csv", csv_row, {
    "missing_external_id": {"id": ""},
    "external_id_too_long": {"id": "Q" * 201},
    "duplicate_external_id": {},  # the id of an earlier good row, set when mixing
    "missing_date": {"creat": ""},
    "bad_date": {"creat": "2026-13-45 10:00"},
    "nonexistent_local_time": {"creat": "2026-03-29 03:30"},
    "ambiguous_local_time": {"creat": "2025-10-26 03:30"},
    "closed_before_created": {"stare": "Închisă", "inchis": _day_before("csv")},
    "date_in_future": {"creat": "2099-05-04 10:15"},
    "missing_coordinates": {"lat": "", "lon": ""},
    "bad_coordinates": {"lat": "45,69,1"},
    "outside_boundary": {"lat": "46.770000", "lon": "23.590000"},
    "unknown_category": {"tip": "Câini fără stăpân"},
    "description_too_long": {"descriere": "x" * 5001},
    "address_too_long": {"adresa": "y" * 501},
    "malformed_row": {"extra": "un câmp în plus"},
    "bad_encoding": {"descriere": "Groapă în faţa blocului".encode("cp1250")},
}, "id")

GEOJSON = Format("geojson", geojson_row, {
    "missing_external_id": {"id": None},
    "external_id_too_long": {"id": "Q" * 201},
    "duplicate_external_id": {},
    "missing_date": {"created_at": None},
    "bad_date": {"created_at": "2026-13-45T10:00:00+02:00"},
    "nonexistent_local_time": {"created_at": "2026-03-29T03:30:00"},
    "ambiguous_local_time": {"created_at": "2025-10-26T03:30:00"},
    "closed_before_created": {"status": "closed", "closed_at": _day_before("iso")},
    "date_in_future": {"created_at": "2099-05-04T10:15:00+03:00"},
    "missing_coordinates": {"geometry": None},
    # A geometry without a point (GDAL reads a Point without coordinates as none).
    "bad_coordinates": {"geometry": {"type": "GeometryCollection", "geometries": []}},
    "outside_boundary": {"geometry": {"type": "Point", "coordinates": [23.59, 46.77]}},
    "unknown_category": {"category": "stray_dogs"},
    "description_too_long": {"description": "x" * 5001},
    "address_too_long": {"address": "y" * 501},
}, "id")

OPEN311 = Format("open311", open311_row, {
    "missing_external_id": {"service_request_id": None},
    "external_id_too_long": {"service_request_id": "Q" * 201},
    "missing_date": {"requested_datetime": None},
    "bad_date": {"requested_datetime": "2026-13-45T10:00:00+02:00"},
    "nonexistent_local_time": {"requested_datetime": "2026-03-29T03:30:00"},
    "ambiguous_local_time": {"requested_datetime": "2025-10-26T03:30:00"},
    # GeoReport v2's closing time is the closed request's updated_datetime.
    "closed_before_created": {"status": "closed", "updated_datetime": _day_before("iso")},
    "date_in_future": {"requested_datetime": "2099-05-04T10:15:00+03:00"},
    "missing_coordinates": {"lat": None, "long": None},
    "bad_coordinates": {"lat": "45,69,1"},
    "outside_boundary": {"lat": 46.77, "long": 23.59},
    "unknown_category": {"service_code": "stray_dogs"},
    "description_too_long": {"description": "x" * 5001},
    "address_too_long": {"address": "y" * 501},
}, "service_request_id")


@dataclass
class Feed:
    """A feed's rows in order, and what each row is: a good report's id, or
    a bad kind."""

    rows: list[dict[str, Any]]
    expected: list[tuple[str, str]]  # ("good", id) or ("bad", kind), row by row

    def rejects(self) -> dict[int, str]:
        return {n: what for n, (kind, what) in enumerate(self.expected, 1) if kind == "bad"}


def mixed(fmt: Format, reports: list[Report], rng: random.Random) -> Feed:
    """The good reports in order with COPIES of each bad kind of ``fmt`` at
    random places (a duplicate id after its first appearance)."""
    rows = [fmt.row(r) for r in reports]
    if fmt is GEOJSON:
        rows = [geojson_row(r, k) for k, r in enumerate(reports)]
    expected = [("good", r.id) for r in reports]
    # A bad row is a good open report with one thing wrong (a closed one
    # could fail for its closing time first: closed before a date in 2099).
    still_open = [r for r in reports if r.closed is None]
    for kind, change in sorted(fmt.bad.items()):
        for copy in range(COPIES):
            at = rng.randrange(1, len(rows) + 1)
            base = rng.choice(still_open)
            bad = dict(fmt.row(base))
            bad[fmt.id_field] = f"BAD-{kind}-{copy}"
            for key, value in (change or {}).items():
                bad[key] = value(base) if callable(value) else value
            if kind == "external_id_too_long":  # distinct: an Open311 pull skips an id met
                bad[fmt.id_field] = "Q" * 200 + str(copy)
            if kind == "duplicate_external_id":
                firsts = [what for k, what in expected[:at] if k == "good"]
                bad[fmt.id_field] = rng.choice(firsts)
            rows.insert(at, bad)
            expected.insert(at, ("bad", kind))
    return Feed(rows, expected)


def write_feed(fmt: Format, feed: Feed, path: Path) -> Path:
    """The feed as a file (CSV: UTF-8; a bad_encoding row's value as its bytes)."""
    if fmt is CSV:
        with path.open("wb") as fh:
            fh.write((",".join(CSV_FIELDS) + "\r\n").encode())
            for r in feed.rows:
                cells = [r.get(c, "") for c in CSV_FIELDS] + ([r["extra"]] if "extra" in r else [])
                line = bytearray()
                for i, cell in enumerate(cells):
                    if isinstance(cell, bytes):  # written in another encoding
                        line += b'"' + cell + b'"'
                    else:
                        buf = _csv_cell(cell)
                        line += buf.encode()
                    if i < len(cells) - 1:
                        line += b","
                fh.write(bytes(line) + b"\r\n")
        return path
    features = [{"type": "Feature",
                 "properties": {k: v for k, v in r.items() if k != "geometry"},
                 "geometry": r["geometry"]} for r in feed.rows]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), "utf-8")
    return path


def _csv_cell(value: str) -> str:
    """One value as the csv module writes it (quoted when it holds a comma,
    a quote or a line break)."""
    out = io.StringIO()
    csv.writer(out).writerow([value])
    return out.getvalue().removesuffix("\r\n")


def csv_mapping() -> Mapping:
    """The test export's mapping (tests.etl_helpers), with the column saying
    when the source last changed a row."""
    data = {
        "source": "primarie",
        "columns": {"external_id": "id", "created": "creat", "closed": "inchis",
                    "updated": "modificat", "address": "adresa", "description": "descriere"},
        "time": {"format": "YYYY-MM-DD HH24:MI", "timezone": "Europe/Bucharest"},
        "category": {"column": "tip", "map": {v: k for k, v in CSV_LABELS.items()}},
        "status": {"column": "stare", "map": {"Deschisă": "new", "Închisă": "closed"}},
        "geometry": {"lon": "lon", "lat": "lat"},
    }
    return parse_mapping(data)


def open311_mapping() -> Mapping:
    """The shipped mapping, its fallback category removed: the test city has
    none, and an unknown service code is then a reject."""
    data = tomllib.loads((MAPPINGS_DIR / "open311.toml").read_text("utf-8"))
    del data["category"]["fallback"]
    return parse_mapping(data)


class _Requests(QuietHandler):
    """A GeoReport v2 server answering JSON, PAGE requests a page."""

    PAGE = 700
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path.endswith("/services.json"):
            body = [{"service_code": c, "service_name": SERVICE_NAMES[c], "metadata": False,
                     "type": "realtime"} for c in CODES]
        elif path.endswith("/requests.json"):
            page = int(dict(urllib.parse.parse_qsl(query)).get("page", "1"))
            body = self.requests[(page - 1) * self.PAGE: page * self.PAGE]
        else:
            self.answer(404, "text/plain", b"")
            return
        self.answer(200, "application/json", json.dumps(body).encode())


@pytest.fixture
def open311_server() -> Iterator[tuple[str, type[_Requests]]]:
    class Handler(_Requests):
        requests: ClassVar[list[dict[str, Any]]] = []

    with http_server(Handler) as base:
        yield f"{base}/v2", Handler


# --- What is stored -----------------------------------------------------------------------


def stored(engine: Engine, source: str) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT i.external_id, c.code AS category, i.status, i.created_at, i.closed_at,"
            " ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.address, i.description,"
            " i.registry_number, i.updated_at"
            " FROM incidents i JOIN categories c USING (city_id, category_id)"
            " WHERE i.source = :s"), {"s": source}).mappings().all()
    return {r["external_id"]: dict(r) for r in rows}


def expected_row(fmt: Format, r: Report) -> dict[str, Any]:
    description, closed = r.description, r.closed
    if fmt is OPEN311:
        description = f"{SERVICE_NAMES[r.category]} — {r.description}"
        # GeoReport v2 gives no closing time: a closed request's last update
        # stands for it (etl.open311), even an update after the closing.
        closed = r.updated if r.closed else None
    return {"external_id": r.id, "category": r.category, "status": r.status,
            "created_at": r.created, "closed_at": closed, "lon": r.lon, "lat": r.lat,
            "address": r.address, "description": description}


def assert_stored_as_given(engine: Engine, fmt: Format, source: str,
                           reports: list[Report]) -> dict[str, dict[str, Any]]:
    got = stored(engine, source)
    assert len(got) == len(reports)
    keys = ("external_id", "category", "status", "created_at", "closed_at", "lon", "lat",
            "address", "description")
    wrong = [(r.id, {k: got[r.id][k] for k in keys}, expected_row(fmt, r))
             for r in reports if {k: got[r.id][k] for k in keys} != expected_row(fmt, r)]
    assert not wrong, f"{len(wrong)} rows not stored as given, e.g. {wrong[:2]}"
    return got


def feed_rejects(engine: Engine, run_id: int) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT source_row, reason FROM feed_rejects WHERE run_id = :r"),
            {"r": run_id}).all())


def event_counts(engine: Engine, source: str) -> Counter[tuple[str, str]]:
    with engine.connect() as conn:
        return Counter((x, kind) for x, kind in conn.execute(sa.text(
            "SELECT i.external_id, e.kind FROM incident_events e"
            " JOIN incidents i USING (city_id, incident_id) WHERE i.source = :s"),
            {"s": source}))


def duplicate_keys(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*) FROM (SELECT 1 FROM incidents GROUP BY city_id, source,"
            " external_id HAVING count(*) > 1) d")).scalar_one()


# --- The test -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [CSV, GEOJSON, OPEN311], ids=lambda f: f.name)
def test_ten_thousand_good_rows_with_every_bad_kind_then_reruns(
    engine, city, tmp_path, open311_server, fmt
):
    rng = random.Random(f"R1-{fmt.name}")
    reports = good_reports(N_GOOD, rng)
    base, handler = open311_server
    feeds = iter(range(100))

    def load(feed: Feed) -> RunResult:
        if fmt is OPEN311:
            handler.requests = feed.rows
            return load_source(engine, open311_source(base, fmt="json"), base, "testville",
                               open311_mapping(), batch_size=2_000)
        path = write_feed(fmt, feed, tmp_path / f"feed{next(feeds)}.{fmt.name}")
        mapping = csv_mapping() if fmt is CSV else geojson_mapping()
        return load_file(engine, path, "testville", mapping, batch_size=2_000)

    source = {"csv": "primarie", "geojson": "geojson", "open311": "open311"}[fmt.name]

    # R1: every bad row rejected with its reason, at its row; every good row as given.
    feed = mixed(fmt, reports, rng)
    n_bad = COPIES * len(fmt.bad)
    assert len(feed.rows) == N_GOOD + n_bad
    first = load(feed)
    assert (first.read, first.inserted, first.updated, first.unchanged, first.rejected) == (
        N_GOOD + n_bad, N_GOOD, 0, 0, n_bad)
    assert first.reasons == dict.fromkeys(fmt.bad, COPIES)
    assert feed_rejects(engine, first.run_id) == feed.rejects()
    before = assert_stored_as_given(engine, fmt, source, reports)
    assert len({r["registry_number"] for r in before.values()}) == N_GOOD
    assert event_counts(engine, source) == Counter({(r.id, "created"): 1 for r in reports})

    # R2: the same feed twice more adds nothing and changes nothing.
    for _ in range(2):
        again = load(feed)
        assert (again.read, again.inserted, again.updated, again.unchanged, again.rejected) == (
            N_GOOD + n_bad, 0, 0, N_GOOD, n_bad)
    assert stored(engine, source) == before
    assert duplicate_keys(engine) == 0

    # 5 % of the reports changed: exactly those updated, with one event each.
    later, picked = changed(reports, rng)
    result = load(mixed(fmt, later, rng))
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (
        0, len(picked), N_GOOD - len(picked), n_bad)
    after = assert_stored_as_given(engine, fmt, source, later)
    assert {k for k in after if after[k] != before[k]} == picked
    events = event_counts(engine, source)
    assert events == Counter({(r.id, "created"): 1 for r in reports}
                             | {(i, "updated"): 1 for i in picked})

    # The first feed replayed (an older copy): nothing changes.
    older = load(feed)
    assert (older.inserted, older.updated, older.unchanged, older.rejected) == (
        0, 0, N_GOOD, n_bad)
    assert stored(engine, source) == after
    assert event_counts(engine, source) == events
    assert duplicate_keys(engine) == 0


def geojson_mapping() -> Mapping:
    return load_mapping("geojson")

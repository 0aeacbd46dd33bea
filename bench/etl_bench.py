"""Rows per second of ``etl load`` against the loaders it competes with.

The rows are generated in the NYC 311 open-data layout and loaded with the
shipped mapping ``etl/mappings/nyc311.toml`` (12-hour New York local times,
complaint types mapped to categories with a fallback, status map).

Starts a throw-away PostGIS cluster in /tmp (fsync off, like the tests), or
uses DATABASE_URL when set (then it creates cities 'bench-<pid>' there).

    .venv/bin/python bench/etl_bench.py --rows 1000000

Figures, all for the same generated rows (issue 7):

(a) COPY of the rows pre-formatted (typed text, hex EWKB geometry) into a
    copy of ``incidents`` with the same indexes and generated columns: the
    limit for any loader;
(b) ``python -m etl load`` end to end in a subprocess (parsing, checks,
    routing, registry numbers, events, into the real table), with its peak RSS;
(c) ``GeoDataFrame.to_postgis`` of at most 100,000 of the rows into the same
    kind of indexed table;
(d) ``ogr2ogr`` (``PG_USE_COPY=YES``) appending the CSV to the same kind of
    indexed table, validating nothing;
then ``etl load --bulk`` into an empty city (beside the rows of (b)), and,
on the bench's own cluster, into an empty database (the first import of a
new platform); and a second ``etl load`` of the same file (every row
matched and unchanged).
"""

from __future__ import annotations

import csv
import io
import os
import random
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import typer
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.load import DEFAULT_BATCH, load_file
from etl.mapping import load_mapping
from sesizari import catalog, db
from sesizari.cluster import Cluster

ROOT = Path(__file__).resolve().parent.parent
#: The NYC 311 open-data layout (the columns the shipped mapping reads).
HEADER = ["Unique Key", "Created Date", "Closed Date", "Agency", "Complaint Type", "Descriptor",
          "Status", "Incident Address", "Latitude", "Longitude", "Resolution Description"]
#: The shipped mapping, etl/mappings/nyc311.toml.
MAPPING = ROOT / "etl" / "mappings" / "nyc311.toml"
NEW_YORK = ZoneInfo("America/New_York")
NYC_FORMAT = "%m/%d/%Y %I:%M:%S %p"
#: (agency, complaint type, descriptor, category code of the mapping; "other" is its fallback)
COMPLAINTS = [
    ("DOT", "Street Light Condition", "Street Light Out", "street_light"),
    ("DOT", "Street Condition", "Pothole", "pothole"),
    ("NYPD", "Noise - Residential", "Loud Music/Party", "noise"),
    ("NYPD", "Noise - Street/Sidewalk", "Loud Talking", "noise"),
    ("DSNY", "Dirty Condition", "Trash", "other"),
]
#: category code -> department code of the bench city
CATEGORIES = {"street_light": "lighting", "pothole": "roads", "noise": "police",
              "animal": "health", "other": "sanitation"}
RESOLUTION = "The Department fixed the condition."
DEFAULT_RESOLUTION = "Închisă în sistemul sursă"
#: The columns a loader fills, in the order of the pre-formatted COPY file.
COLUMNS = ("city_id", "incident_id", "registry_number", "category_id", "department_id",
           "status", "channel", "geom", "address", "description", "created_at",
           "resolved_at", "closed_at", "updated_at", "resolution_text", "source",
           "external_id")
Row = list[Any]


def _generate(rows: int, seed: int, offset: int = 0) -> list[Row]:
    """Rows in the NYC 311 layout: 12-hour local New York times (none in a DST
    gap or overlap), 40 % closed, one complaint type in five unmapped.
    ``offset``: the index of the first row (its "Unique Key" is 10000000 + offset)."""
    rnd = random.Random(seed)
    out = []
    for k in range(rows):
        closed = rnd.random() < 0.4
        agency, complaint, descriptor, _code = rnd.choice(COMPLAINTS)
        created = datetime(2026, rnd.randint(1, 10), rnd.randint(1, 28), rnd.randint(8, 20),
                           k % 60, rnd.randint(0, 59))
        out.append([
            str(10_000_000 + offset + k), created.strftime(NYC_FORMAT),
            "11/20/2026 12:00:00 PM" if closed else "", agency, complaint, descriptor,
            "Closed" if closed else "Open", f"{rnd.randint(1, 3000)} BROADWAY",
            f"{40.65 + rnd.random() * 0.1:.8f}", f"{-74.05 + rnd.random() * 0.1:.8f}",
            RESOLUTION if closed and k % 2 else "",
        ])
    return out


def _write_csv(path: Path, data: list[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(data)


def _ewkb_hex(lon: float, lat: float) -> str:
    """A point in hex EWKB with SRID 4326, the text form COPY reads for geometry."""
    return struct.pack("<BIIdd", 1, 0x20000001, 4326, lon, lat).hex()


def _final_rows(data: list[Row], ids: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows as the loader stores them (what (a) and (c) write)."""
    codes = {complaint: code for _a, complaint, _d, code in COMPLAINTS}
    out = []
    for k, (ext, created, closed, _agency, complaint, descriptor, _status, address, lat, lon,
            resolution) in enumerate(data, 1):
        cat, dep = ids[codes[complaint]]
        c_at = datetime.strptime(created, NYC_FORMAT).replace(tzinfo=NEW_YORK)
        cl_at = (datetime.strptime(closed, NYC_FORMAT).replace(tzinfo=NEW_YORK)
                 if closed else None)
        out.append((
            ids["city"], k, f"BEN-2026-{k:06d}", cat, dep, "closed" if closed else "new",
            "feed", (float(lon), float(lat)), address, f"{complaint} — {descriptor}", c_at,
            cl_at, cl_at, cl_at or c_at, (resolution or DEFAULT_RESOLUTION) if closed else None,
            "nyc311", ext,
        ))
    return out


def _copy_text(rows: list[tuple[Any, ...]]) -> bytes:
    def fmt(v: Any) -> str:
        if v is None:
            return r"\N"
        if isinstance(v, tuple):
            return _ewkb_hex(*v)
        if isinstance(v, datetime):
            return v.isoformat()
        return str(v)

    buf = io.StringIO()
    for r in rows:
        buf.write("\t".join(fmt(v) for v in r))
        buf.write("\n")
    return buf.getvalue().encode()


def _indexed_copy(conn: sa.Connection, name: str) -> None:
    """A table shaped like ``incidents`` with all its indexes and generated
    columns (and none of its foreign keys, checks or triggers: the other
    loaders do not validate).

    ``INCLUDING GENERATED`` matters: without it ``LIKE`` turns the Stereo70
    coordinates and the hexagon cell (migrations 0009, 0011) into plain
    columns left NULL, so the copy would skip three coordinate transforms
    per row that every insert into ``incidents`` pays, and its indexes would
    hold NULLs instead of those values.
    """
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    conn.execute(sa.text(
        f"CREATE TABLE {name} (LIKE incidents INCLUDING DEFAULTS INCLUDING INDEXES"
        " INCLUDING IDENTITY INCLUDING GENERATED)"
    ))


def start_cluster(root: Path, database: str, *, fast: bool = True) -> tuple[Cluster, str]:
    """A throw-away cluster in ``root`` (on a free port) with ``database``
    migrated: (the cluster, the database's URL).  ``fast``: fsync off."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cluster = Cluster(root=root, port=port, fast=fast)
    cluster.start()
    try:
        cluster.ensure_database(database)
        url = cluster.url(database)
        db.migrate(url)
    except BaseException:
        cluster.stop("immediate")  # nothing left running behind a failed start
        raise
    return cluster, url


def stream_copy_a(conn: sa.Connection, payload: bytes) -> None:
    """(a)'s COPY of the pre-formatted rows into ``bench_a``, 1 MiB at a time."""
    dbapi = conn.connection.driver_connection
    with dbapi.cursor() as cur, cur.copy(
        f"COPY bench_a ({', '.join(COLUMNS)}) FROM STDIN"
    ) as cp:
        view = memoryview(payload)
        for i in range(0, len(view), 1 << 20):
            cp.write(view[i:i + (1 << 20)])
    conn.commit()


def _copy_a(engine: sa.Engine, payload: bytes, rows: int) -> float:
    with engine.connect() as conn:
        _indexed_copy(conn, "bench_a")
        conn.commit()
        started = time.perf_counter()
        stream_copy_a(conn, payload)
        seconds = time.perf_counter() - started
        assert conn.execute(sa.text("SELECT count(*) FROM bench_a")).scalar_one() == rows
        return seconds


def _to_postgis_c(engine: sa.Engine, final: list[tuple[Any, ...]]) -> float:
    import geopandas as gpd
    import pandas as pd

    df = pd.DataFrame(final, columns=list(COLUMNS))
    pts = df.pop("geom")
    gdf = gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy([p[0] for p in pts], [p[1] for p in pts], crs=4326)
    ).rename_geometry("geom")
    for col in ("created_at", "resolved_at", "closed_at", "updated_at"):
        gdf[col] = pd.to_datetime(gdf[col], utc=True)
    with engine.begin() as conn:
        _indexed_copy(conn, "bench_c")
    started = time.perf_counter()
    gdf.to_postgis("bench_c", engine, if_exists="append", index=False)
    return time.perf_counter() - started


def _ogr2ogr_d(engine: sa.Engine, url: str, csv_path: Path, ids: dict[str, Any],
               rows: int) -> float | None:
    exe = shutil.which("ogr2ogr")
    if exe is None:
        return None
    with engine.begin() as conn:
        _indexed_copy(conn, "bench_d")
        # ogr2ogr maps only the columns it has: the NOT NULL rest come from defaults.
        # (lpad cuts longer text: eight digits keep the numbers unique up to 10^8 rows.)
        conn.execute(sa.text("CREATE SEQUENCE IF NOT EXISTS bench_d_reg"))
        conn.execute(sa.text(
            "ALTER TABLE bench_d ALTER city_id SET DEFAULT {c},"
            " ALTER category_id SET DEFAULT {cat}, ALTER department_id SET DEFAULT {dep},"
            " ALTER channel SET DEFAULT 'feed', ALTER source SET DEFAULT 'nyc311',"
            " ALTER registry_number SET DEFAULT"
            " 'BEN-2026-' || lpad(nextval('bench_d_reg')::text, 8, '0')".format(
                c=int(ids["city"]), cat=int(ids["pothole"][0]), dep=int(ids["pothole"][1]))
        ))  # ^ integers read back from the database, formatted as integers
    u = sa.engine.make_url(url)
    dsn = (f"PG:dbname={u.database} user={u.username} host={u.query.get('host', u.host)}"
           f" port={u.query.get('port', u.port)}")
    if u.password:
        dsn += f" password={u.password}"
    cmd = [
        exe, "-f", "PostgreSQL", dsn, str(csv_path), "-append", "-nln", "bench_d",
        "--config", "PG_USE_COPY", "YES", "-oo", "X_POSSIBLE_NAMES=Longitude",
        "-oo", "Y_POSSIBLE_NAMES=Latitude", "-a_srs", "EPSG:4326", "-nlt", "POINT",
        "-sql", 'SELECT "Unique Key" AS external_id, "Created Date" AS created_at,'
        ' "Incident Address" AS address, "Descriptor" AS description'
        " FROM bench",  # the layer of bench.csv
    ]
    # The 12-hour US dates are read by PostgreSQL (DateStyle MDY) in New York time.
    env = {**os.environ, "PGTZ": "America/New_York", "PGDATESTYLE": "ISO, MDY"}
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        loaded = conn.execute(sa.text("SELECT count(*) FROM bench_d")).scalar_one()
    assert loaded == rows, loaded
    return seconds


#: Runs ``python -m etl`` and reports its VmHWM from /proc: the getrusage
#: figure of a child keeps the high-water mark of the parent it was forked
#: from (the bench, which holds every generated row), VmHWM starts at exec.
_CHILD = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('peak_rss_kib=' + line.split()[1] + '\\n')\n"
    "atexit.register(peak)\n"
    "sys.argv[0] = 'etl'\n"
    "runpy.run_module('etl', run_name='__main__', alter_sys=True)\n"
)


def _cli_load(url: str, csv_path: Path, slug: str, mapping: Path, batch: int,
              extra: tuple[str, ...] = ()) -> tuple[float, int]:
    """``python -m etl load`` in a child: (wall seconds, peak RSS in bytes)."""
    cmd = [sys.executable, "-c", _CHILD, "load", str(csv_path), "--city", slug,
           "--mapping", str(mapping), "--batch-size", str(batch), *extra]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"etl load failed ({proc.returncode}): {proc.stderr[-500:]}")
    peak = [ln for ln in proc.stderr.splitlines() if ln.startswith("peak_rss_kib=")]
    return wall, int(peak[-1].split("=")[1]) * 1024


def _run_seconds(engine: sa.Engine, slug: str) -> tuple[float, int]:
    """Duration and inserted rows of the city's last run, as recorded in feed_runs."""
    with engine.connect() as conn:
        secs, ins = conn.execute(sa.text(
            "SELECT extract(epoch FROM finished_at - started_at), rows_inserted"
            " FROM feed_runs r JOIN cities c USING (city_id) WHERE c.slug = :s"
            " ORDER BY run_id DESC LIMIT 1"), {"s": slug}).one()
    return float(secs), int(ins)


_COMPARED = ("external_id, category_id, department_id, status, created_at, resolved_at,"
             " closed_at, updated_at, description, address, resolution_text, ST_AsBinary(geom),"
             " x3844, y3844, hex250")


def _differences(engine: sa.Engine, city_id: int) -> int:
    """Rows of (a) that (b) did not store the same way: (a) is the same data."""
    with engine.connect() as conn:
        query = (f"SELECT count(*) FROM (SELECT {_COMPARED} FROM bench_a EXCEPT"  # noqa: S608
                 f" SELECT {_COMPARED} FROM incidents WHERE city_id = :c) d")  # fixed text
        return conn.execute(sa.text(query), {"c": city_id}).scalar_one()


def _make_city(engine: sa.Engine, slug: str, prefix: str) -> dict[str, Any]:
    """A city over lower Manhattan and Brooklyn with the categories the NYC
    mapping targets, each with its own department."""
    with engine.begin() as conn:
        cid = catalog.create_city(conn, slug=slug, name_ro="Bench", name_en="Bench",
                                  registry_prefix=prefix,
                                  boundary=box(-74.05, 40.65, -73.95, 40.75))
        ids: dict[str, Any] = {"city": cid}
        for code, dep_code in CATEGORIES.items():
            dep = catalog.create_department(conn, cid, dep_code, dep_code.title(),
                                            dep_code.title())
            cat = catalog.create_category(conn, cid, code, code.title(), code.title(),
                                          dep_code, 72)
            ids[code] = (cat, dep)
    return ids


def _line(label: str, rows: int, seconds: float, note: str = "") -> None:
    print(f"{label:<44}{rows / seconds:>10,.0f} rows/s  {seconds:7.2f} s  {note}")


def main(
    rows: int = typer.Option(1_000_000, help="Rows in the generated CSV."),
    batch_size: int = typer.Option(DEFAULT_BATCH, help="Rows per ETL batch."),
    seed: int = typer.Option(1, help="Random seed of the generated data."),
    subset: int = typer.Option(100_000, help="At most this many rows for to_postgis (c)."),
) -> None:
    """Print rows/s of (a) indexed COPY, (b) etl load, (c) to_postgis, (d) ogr2ogr."""
    tmp = Path(tempfile.mkdtemp(prefix="sz-bench-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    cluster = None
    try:
        url = os.environ.get("DATABASE_URL")
        if url:
            db.migrate(url)
        else:
            cluster, url = start_cluster(tmp / "pg", "bench")
        engine = db.make_engine(url, connect_args={"options": "-c timezone=Europe/Bucharest"})
        slug = f"bench-{os.getpid()}"
        ids = _make_city(engine, slug, "BEN")
        data = _generate(rows, seed)
        csv_path = tmp / "bench.csv"
        _write_csv(csv_path, data)
        mapping_path = MAPPING
        final = _final_rows(data, ids)
        payload = _copy_text(final)
        del data
        size = csv_path.stat().st_size / 1e6
        print(f"rows: {rows:,}  file: {size:.1f} MB  batch: {batch_size:,}"
              f"  cpus: {os.cpu_count()}  PostgreSQL: "
              + engine.connect().execute(sa.text("SHOW server_version")).scalar_one())

        a_s = _copy_a(engine, payload, rows)
        _line("(a) COPY pre-formatted, indexed copy", rows, a_s)

        wall, rss = _cli_load(url, csv_path, slug, mapping_path, batch_size)
        b_s, inserted = _run_seconds(engine, slug)
        assert inserted == rows, inserted
        assert _differences(engine, ids["city"]) == 0
        _line("(b) etl load, all new", rows, b_s,
              f"({a_s / b_s:.0%} of (a); process wall {wall:.2f} s,"
              f" peak RSS {rss / 2**20:,.0f} MiB)")

        n_c = min(rows, subset)
        c_s = _to_postgis_c(engine, final[:n_c])
        _line(f"(c) GeoDataFrame.to_postgis ({n_c:,} rows)", n_c, c_s,
              f"((b) is {(rows / b_s) / (n_c / c_s):.1f}x (c))")

        d_s = _ogr2ogr_d(engine, url, csv_path, ids, rows)
        if d_s is None:
            print("(d) ogr2ogr: skipped, ogr2ogr is not installed"
                  " (bash scripts/setup.sh --bench installs Debian's gdal-bin)")
        else:
            _line("(d) ogr2ogr PG_USE_COPY=YES", rows, d_s,
                  f"((b) is {(rows / b_s) / (rows / d_s):.2f}x (d))")

        bulk_slug = f"{slug}-bulk"
        _make_city(engine, bulk_slug, "BEB")
        try:
            _cli_load(url, csv_path, bulk_slug, mapping_path, batch_size, ("--bulk",))
        except SystemExit as exc:
            print(f"bulk: not available ({str(exc)[:200]})")
        else:
            bulk_s, bulk_ins = _run_seconds(engine, bulk_slug)
            assert bulk_ins == rows, bulk_ins
            _line("etl load --bulk, empty city", rows, bulk_s, f"({a_s / bulk_s:.0%} of (a))")
        if cluster is not None:
            # The first import into a new platform: nothing else in the
            # tables, so the rebuild at the end covers only this history.
            cluster.ensure_database("bench_empty")
            empty_url = cluster.url("bench_empty")
            db.migrate(empty_url)
            empty = db.make_engine(empty_url)
            _make_city(empty, slug, "BEN")
            _cli_load(empty_url, csv_path, slug, mapping_path, batch_size, ("--bulk",))
            empty_s, empty_ins = _run_seconds(empty, slug)
            assert empty_ins == rows, empty_ins
            _line("etl load --bulk, empty database", rows, empty_s,
                  f"({a_s / empty_s:.0%} of (a), {b_s / empty_s:.1f}x (b))")
            empty.dispose()

        again = load_file(engine, csv_path, slug, load_mapping(mapping_path),
                          batch_size=batch_size)
        assert again.unchanged == rows
        _line("etl load again, all unchanged", rows, again.seconds)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"bench process peak RSS {peak:,.0f} MiB (holds the generated rows)")
        engine.dispose()
    finally:
        if cluster is not None:
            cluster.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    typer.run(main)

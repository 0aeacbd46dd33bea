"""Rows per second: raw COPY of a CSV file vs ``etl load`` of the same file.

Starts a throw-away PostGIS cluster in /tmp (fsync off, like the tests), or
uses DATABASE_URL when set (then it creates a city 'bench-<pid>' there).

    .venv/bin/python bench/etl_bench.py --rows 200000 --batch-size 20000

Three figures: COPY of the raw file into a text table (the floor: no parsing,
no checks), the first load (every row inserted: numbers, routing, events) and
a second load of the same file (every row matched and unchanged).
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
import typer
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.load import load_file
from etl.mapping import parse_mapping
from sesizari import catalog, db
from sesizari.cluster import Cluster

HEADER = ["id", "creat", "inchis", "tip", "stare", "lat", "lon", "adresa", "descriere"]
MAPPING = {
    "source": "bench",
    "columns": {"external_id": "id", "created": "creat", "closed": "inchis",
                "address": "adresa", "description": "descriere"},
    "time": {"format": "YYYY-MM-DD HH24:MI"},
    "category": {"column": "tip", "map": {"Groapă": "pothole", "Bec ars": "street_light"}},
    "status": {"column": "stare", "map": {"Deschisă": "new", "Închisă": "closed"}},
    "geometry": {"lon": "lon", "lat": "lat"},
}


def _write(path: Path, rows: int, seed: int) -> None:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for k in range(rows):
            closed = rnd.random() < 0.4
            w.writerow([
                f"B{k}", f"2026-{rnd.randint(1, 10):02d}-{rnd.randint(1, 28):02d} 10:{k % 60:02d}",
                "2026-11-01 12:00" if closed else "", rnd.choice(["Groapă", "Bec ars"]),
                "Închisă" if closed else "Deschisă", f"{45.64 + rnd.random() * 0.1:.6f}",
                f"{21.85 + rnd.random() * 0.1:.6f}", f"Strada {rnd.randint(1, 300)}",
                f"Sesizare {k}: problemă pe stradă",
            ])


def _raw_copy(engine: sa.Engine, path: Path) -> float:
    with engine.connect() as conn:
        conn.execute(sa.text(
            "CREATE TEMP TABLE raw_copy (id text, creat text, inchis text, tip text,"
            " stare text, lat text, lon text, adresa text, descriere text)"
        ))
        dbapi = conn.connection.driver_connection
        started = time.perf_counter()
        with dbapi.cursor() as cur, cur.copy(
            "COPY raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as cp, path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                cp.write(chunk)
        conn.commit()
        return time.perf_counter() - started


def main(
    rows: int = typer.Option(200_000, help="Rows in the generated CSV."),
    batch_size: int = typer.Option(20_000, help="Rows per ETL batch."),
    seed: int = typer.Option(1, help="Random seed of the generated data."),
) -> None:
    """Print rows/s of raw COPY, first load and re-load of the same CSV."""
    tmp = Path(tempfile.mkdtemp(prefix="sz-bench-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    cluster = None
    try:
        url = os.environ.get("DATABASE_URL")
        if not url:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            cluster = Cluster(root=tmp / "pg", port=port, fast=True)
            cluster.start()
            cluster.ensure_database("bench")
            url = cluster.url("bench")
        db.migrate(url)
        engine = db.make_engine(url)
        slug = f"bench-{os.getpid()}"
        with engine.begin() as conn:
            cid = catalog.create_city(conn, slug=slug, name_ro="Bench", name_en="Bench",
                                      registry_prefix="BEN", boundary=box(21.85, 45.64, 21.95,
                                                                          45.74))
            catalog.create_department(conn, cid, "roads", "Drumuri", "Roads")
            catalog.create_department(conn, cid, "lighting", "Iluminat", "Lighting")
            catalog.create_category(conn, cid, "pothole", "Groapă", "Pothole", "roads", 72)
            catalog.create_category(conn, cid, "street_light", "Bec", "Light", "lighting", 48)
        path = tmp / "bench.csv"
        _write(path, rows, seed)
        size = path.stat().st_size / 1e6
        mapping = parse_mapping(MAPPING)
        copy_s = _raw_copy(engine, path)
        first = load_file(engine, path, slug, mapping, batch_size=batch_size)
        second = load_file(engine, path, slug, mapping, batch_size=batch_size)
        assert first.inserted == rows and second.unchanged == rows
        print(f"rows: {rows:,}  file: {size:.1f} MB  batch: {batch_size:,}  cpus: {os.cpu_count()}")
        print(f"raw COPY (text table)     {rows / copy_s:>10,.0f} rows/s  {copy_s:6.2f} s")
        print(f"etl load, all new         {first.rows_per_second:>10,.0f} rows/s"
              f"  {first.seconds:6.2f} s  ({copy_s / first.seconds:.0%} of raw COPY)")
        print(f"etl load, all unchanged   {second.rows_per_second:>10,.0f} rows/s"
              f"  {second.seconds:6.2f} s  ({copy_s / second.seconds:.0%} of raw COPY)")
        engine.dispose()
    finally:
        if cluster is not None:
            cluster.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    typer.run(main)

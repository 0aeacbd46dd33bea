"""Crash drill of the ETL load: a large load killed at several points, and
what the database holds after each.

A CSV of N rows in the NYC 311 layout (the rows of ``etl_bench.py``) is
loaded with ``python -m etl load`` in a child process.  At each point (a
share of the rows inserted so far) either the loader gets ``SIGKILL`` or
the server is stopped with ``pg_ctl stop -m immediate`` (then started
again: PostgreSQL replays its WAL).  After each interruption the drill
checks, on a fresh connection:

- whole batches only: the incidents of the city are exactly the first rows
  of the file, a multiple of the batch size;
- every incident has its ``created`` event, the registry counter equals the
  count, the numbers are 1..count without gaps, and the runs' committed
  ``rows_inserted`` add up to the count;
- no UNLOGGED table exists (staging is TEMP: nothing half-written survives
  a crash in a table that PostgreSQL would then empty).

Then the same load runs again, up to the next point, and the last run
completes: the city ends with exactly N incidents.

Starts its own cluster with fsync on (a throw-away one in /tmp).

    .venv/bin/python bench/crash_drill.py --rows 1000000
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import typer
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.etl_bench import HEADER, MAPPING, _generate, _make_city, start_cluster
from sesizari import db
from sesizari.cluster import Cluster

ROOT = Path(__file__).resolve().parent.parent
#: First external id of the generated rows ("Unique Key" 10000000, 10000001...).
FIRST_KEY = 10_000_000


@dataclass
class Round:
    """What one interruption left behind."""

    how: str            # "loader SIGKILL", "server -m immediate" or "complete"
    target: int         # inserted rows at which it was to happen
    at: int             # committed inserted rows seen just before it
    visible: int        # incidents of the city after it
    whole_batches: bool
    consistent: bool    # events, counter, numbers and run counts agree
    unlogged: int       # UNLOGGED tables in the database
    seconds: float      # duration of the run


def write_rows(path: Path, rows: int, seed: int = 1) -> None:
    """The drill's CSV, generated and written in chunks (flat memory at 1M rows)."""
    chunk = 100_000
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for start in range(0, rows, chunk):
            w.writerows(_generate(min(chunk, rows - start), seed + start, offset=start))


def _inserted(engine: sa.Engine, city_id: int) -> int:
    """The inserted rows the city's runs have committed so far (cheap to poll)."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT COALESCE(sum(rows_inserted), 0) FROM feed_runs WHERE city_id = :c"),
            {"c": city_id}).scalar_one()


def _state(url: str, city_id: int, batch: int, rows: int) -> tuple[int, bool, bool, int]:
    """(visible, whole batches, consistent, unlogged tables) of the city."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            q = conn.execute(sa.text("""
                SELECT count(*) AS n,
                       min(external_id::bigint) AS lo, max(external_id::bigint) AS hi,
                       count(DISTINCT registry_number) AS numbers,
                       max(split_part(registry_number, '-', 3)::int) AS top
                FROM incidents WHERE city_id = :c"""), {"c": city_id}).one()
            events = conn.execute(sa.text(
                "SELECT count(*) FROM incident_events WHERE city_id = :c AND kind = 'created'"),
                {"c": city_id}).scalar_one()
            counter = conn.execute(sa.text(
                "SELECT COALESCE(sum(last_value), 0) FROM registry_counters WHERE city_id = :c"),
                {"c": city_id}).scalar_one()
            runs = conn.execute(sa.text(
                "SELECT COALESCE(sum(rows_inserted), 0) FROM feed_runs WHERE city_id = :c"),
                {"c": city_id}).scalar_one()
            unlogged = conn.execute(sa.text(
                "SELECT count(*) FROM pg_class WHERE relpersistence = 'u'")).scalar_one()
    finally:
        engine.dispose()
    n = q.n
    first_rows = n == 0 or (q.lo == FIRST_KEY and q.hi == FIRST_KEY + n - 1)
    whole = first_rows and (n % batch == 0 or n == rows)
    consistent = events == counter == runs == n and q.numbers == n and (q.top or 0) == n
    return n, whole, consistent, unlogged


def _start_load(url: str, csv_path: Path, slug: str, batch: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "etl", "load", str(csv_path), "--city", slug,
           "--mapping", str(MAPPING), "--batch-size", str(batch)]
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def drill(cluster: Cluster, url: str, csv_path: Path, slug: str, city_id: int, rows: int,
          batch: int, points: list[tuple[float, str]],
          log: Callable[[str], None] = print) -> list[Round]:
    """Interrupt the load at each (share of rows, "loader" or "server") point,
    check the database after each, then complete it; one :class:`Round` each."""
    out: list[Round] = []
    for share, how in [*points, (1.0, "complete")]:
        target = int(rows * share)
        started = time.perf_counter()
        proc = _start_load(url, csv_path, slug, batch)
        at = 0
        if how != "complete":
            poll = sa.create_engine(url, poolclass=NullPool)
            while proc.poll() is None:
                at = _inserted(poll, city_id)
                if at >= target:
                    break
                time.sleep(0.1)
            poll.dispose()
            if proc.poll() is not None:
                raise SystemExit(f"the load ended before {target:,} rows: {proc.stderr.read()}")
            if how == "loader":
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
            else:
                cluster.stop("immediate")
                proc.wait(timeout=120)  # the loader fails on its lost connection
                cluster.start()
        else:
            _, err = proc.communicate(timeout=24 * 3600)
            if proc.returncode:
                raise SystemExit(f"the completing load failed: {err[-1000:]}")
        if proc.stderr is not None:
            proc.stderr.close()
        seconds = time.perf_counter() - started
        visible, whole, consistent, unlogged = _state(url, city_id, batch, rows)
        label = {"loader": "loader SIGKILL", "server": "server -m immediate"}.get(how, how)
        r = Round(label, target, at, visible, whole, consistent, unlogged, seconds)
        out.append(r)
        seen = f"{r.at:>11,}" if how != "complete" else f"{'-':>11}"
        log(f"{r.how:<22}{r.target:>11,}{seen}{r.visible:>11,}"
            f"{'yes' if r.whole_batches else 'NO':>8}{'yes' if r.consistent else 'NO':>12}"
            f"{r.unlogged:>10}{r.seconds:>9.1f}")
    return out


HEADER_LINE = (f"{'interruption':<22}{'at rows':>11}{'seen':>11}{'visible':>11}"
               f"{'whole':>8}{'consistent':>12}{'unlogged':>10}{'s':>9}")


def main(
    rows: int = typer.Option(1_000_000, help="Rows in the generated CSV."),
    batch_size: int = typer.Option(20_000, help="Rows per ETL batch."),
    points: str = typer.Option(
        "0.1:loader,0.3:server,0.55:loader,0.8:server",
        help="Interruptions: share of the rows inserted, then loader (SIGKILL) or server"
        " (pg_ctl stop -m immediate), comma-separated.",
    ),
) -> None:
    """Kill an ETL load at several points and check what the database holds."""
    try:
        plan = [(float(p.split(":")[0]), p.split(":")[1]) for p in points.split(",")]
    except (ValueError, IndexError):
        raise typer.BadParameter("give SHARE:loader or SHARE:server, e.g. 0.3:server") from None
    if any(not 0 < s < 1 or how not in ("loader", "server") for s, how in plan):
        raise typer.BadParameter("each share is between 0 and 1, each kind loader or server")
    tmp = Path(tempfile.mkdtemp(prefix="sz-drill-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    try:
        cluster, url = start_cluster(tmp / "pg", "drill", fast=False)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        engine = db.make_engine(url)
        ids = _make_city(engine, "drill", "DRL")
        engine.dispose()
        csv_path = tmp / "drill.csv"
        print(f"writing {rows:,} rows...", flush=True)
        write_rows(csv_path, rows)
        print(f"rows: {rows:,}  batch: {batch_size:,}  cpus: {os.cpu_count()}  fsync: on")
        print(HEADER_LINE)
        rounds = drill(cluster, url, csv_path, "drill", ids["city"], rows, batch_size, plan)
        ok = all(r.whole_batches and r.consistent and not r.unlogged for r in rounds)
        ok = ok and rounds[-1].visible == rows
        print(f"final incidents: {rounds[-1].visible:,} of {rows:,}: {'OK' if ok else 'FAILED'}")
        if not ok:
            raise typer.Exit(1)
    finally:
        cluster.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    typer.run(main)

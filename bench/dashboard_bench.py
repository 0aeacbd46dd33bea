"""Time every analytics query over a demo of N incidents, with varied filters.

Usage::

    .venv/bin/python bench/dashboard_bench.py --incidents 100000 --runs 20

Loads the demo into its own database (``sesizari_bench_<N>`` on the embedded
cluster, or ``DATABASE_URL`` when set) once, then runs each query ``runs``
times cycling through realistic filter combinations and prints p50 / p95
latency and the payload (rows, and bytes of the JSON the page would send),
then the same for each dashboard page (``PAGES``): the sum of the queries
the page runs for one filter set, one after the other, and the wall time of
the same queries run two at a time, as ``dashboard.data.prefetch`` runs them
on every analytics page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
import sqlalchemy as sa

from sesizari import db, queries
from sesizari.demo.load import load_demo
from sesizari.settings import load_settings

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FILTERS = [
    queries.Filters("alba-iulia"),
    queries.Filters("alba-iulia", start=date(2026, 1, 1), end=date(2026, 7, 1)),
    queries.Filters("alba-iulia", categories=("pothole", "garbage")),
    queries.Filters("alba-iulia", statuses=("new", "acknowledged", "in_progress")),
    queries.Filters("alba-iulia", districts=("Centru",), department="roads"),
    queries.Filters("lugoj", departments=("water", "lighting"), start=date(2026, 6, 1)),
]


#: The queries each page runs on first display (dashboard/views/*.py), with
#: the page's default sizes (250 m hexagons, clusters of 60 m / 5).  The Live
#: map shows one layer at a time, so each layer is its own line.
PAGES: dict[str, list[str]] = {
    "Live map, hexagons": ["kpis", "hexagons(250m)", "count"],
    "Live map, clusters": ["kpis", "clusters(60m,5)", "count"],
    "Live map, hot spots": ["kpis", "hotspots_gi(250m)", "count"],
    "Live map, points": ["kpis", "points(5000)", "count"],
    # In the order the page prefetches them (longest first).
    "Resolution times": ["resolution_stats", "weekly_trend", "district_medians",
                         "share_within_target", "resolution_distribution", "backlog_ageing"],
    # The scorecard, then the drill-down into one department: its categories,
    # its map and its overdue incidents, in the order the page prefetches them.
    "Departments": ["department_performance", "department_categories",
                    "department_hexagons", "department_overdue"],
}


def drilled(f: queries.Filters) -> str:
    """The department the Departments page drills into for these filters.

    With no department filter the page opens the first by code; the bench
    drills into roads, the department with the most incidents, instead.
    """
    return f.department or (sorted(f.departments)[0] if f.departments else "roads")


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


def engine_for(n: int):
    settings = load_settings()
    if settings.database_url:
        url = settings.database_url
    else:
        cluster = db.embedded_cluster(settings)
        cluster.start()
        name = f"sesizari_bench_{n}"
        cluster.ensure_database(name)
        url = cluster.url(name)
    db.migrate(url)
    engine = db.make_engine(url)
    t0 = time.perf_counter()
    loaded = load_demo(engine, total=n, seed=42, as_of=AS_OF)
    if any(loaded.values()):
        print(f"loaded {loaded} in {time.perf_counter() - t0:.1f} s")
        # A database in service has been vacuumed by autovacuum: its index-only
        # scans skip the table.  Right after a bulk load they still visit it,
        # so the first runs would time the load's aftermath, not the queries.
        t0 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)"))
        print(f"vacuumed in {time.perf_counter() - t0:.1f} s")
    return engine


def payload_bytes(result: object) -> int:
    if result is None:
        return 0
    if hasattr(result, "geometry") and hasattr(result, "to_json"):
        return len(result.drop(columns=["polygon"], errors="ignore").to_json())
    if isinstance(result, pd.DataFrame):
        return len(result.to_json(orient="records", date_format="iso", default_handler=str))
    return len(str(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    engine = engine_for(args.incidents)
    cases: dict[str, Callable[[queries.Filters], object]] = {
        "kpis": lambda f: queries.kpis(engine, f, now=AS_OF),
        "daily_trend": lambda f: queries.daily_trend(engine, f),
        "hexagons(250m)": lambda f: queries.hexagons(engine, f, 250),
        "clusters(60m,5)": lambda f: queries.clusters(engine, f, 60, 5),
        "hotspots_gi(250m)": lambda f: queries.hotspots_gi(engine, f, 250),
        # Any other size places every incident at query time (the pages use 250 m).
        "hotspots_gi(300m)": lambda f: queries.hotspots_gi(engine, f, 300),
        "points(5000)": lambda f: queries.points(engine, f, 5000, now=AS_OF),
        "count": lambda f: queries.count_incidents(engine, f),
        # Grouped by category, the page's default.
        "resolution_stats": lambda f: queries.resolution_stats(engine, f, "category"),
        "weekly_trend": lambda f: queries.weekly_trend(engine, f),
        "resolution_distribution": lambda f: queries.resolution_distribution(engine, f),
        "share_within_target": lambda f: queries.share_within_target(engine, f),
        "backlog_ageing": lambda f: queries.backlog_ageing(engine, f, now=AS_OF),
        "district_medians": lambda f: queries.district_medians(engine, f),
        "department_performance": lambda f: queries.department_performance(engine, f, AS_OF),
        "department_categories": lambda f: queries.resolution_stats(
            engine, replace(f, departments=(drilled(f),)), "category"
        ),
        "department_hexagons": lambda f: queries.hexagons(
            engine, replace(f, departments=(drilled(f),)), 250
        ),
        "department_overdue": lambda f: queries.department_overdue(
            engine, f, drilled(f), 50, AS_OF
        ),
    }
    # One untimed call of each query first: imports (esda, libpysal), the
    # pool's connections and the catalog caches are a first-call cost, not
    # the query's.
    for fn in cases.values():
        fn(FILTERS[0])
    print(f"{args.incidents} incidents, {args.runs} runs per query\n")
    print("| query | p50 ms | p95 ms | max rows | max payload KB |")
    print("|---|---:|---:|---:|---:|")
    per_run: dict[str, list[float]] = {}
    for name, fn in cases.items():
        times, rows, sizes = [], [], []
        per_run[name] = times
        for k in range(args.runs):
            f = FILTERS[k % len(FILTERS)]
            t0 = time.perf_counter()
            result = fn(f)
            times.append((time.perf_counter() - t0) * 1000)
            rows.append(0 if result is None else 1 if isinstance(result, int) else len(result))
            sizes.append(payload_bytes(result))
        print(f"| {name} | {statistics.median(times):.0f} | {p95(times):.0f} | {max(rows)} |"
              f" {max(sizes) / 1024:.1f} |")  # fmt: skip
    print("\n| page | in sequence p50 ms | p95 ms | two at a time p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|")
    with ThreadPoolExecutor(max_workers=2) as pool:
        for page, names in PAGES.items():
            totals = [sum(per_run[n][k] for n in names) for k in range(args.runs)]
            walls = []
            for k in range(args.runs):
                f = FILTERS[k % len(FILTERS)]
                t0 = time.perf_counter()
                list(pool.map(lambda n, f=f: cases[n](f), names))
                walls.append((time.perf_counter() - t0) * 1000)
            print(f"| {page} | {statistics.median(totals):.0f} | {p95(totals):.0f} |"
                  f" {statistics.median(walls):.0f} | {p95(walls):.0f} |")


if __name__ == "__main__":
    main()

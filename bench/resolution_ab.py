"""The Resolution page and the department scorecard: a base revision against this one.

Usage::

    DATABASE_URL=... .venv/bin/python bench/resolution_ab.py --base 4a16d6a --runs 10

Loads ``sesizari/queries/resolution.py`` and ``departments.py`` as they were
at ``--base`` (``git show``) next to the current ones, and times both on the
same database in the same process, alternating which goes first, over the
filter sets of ``dashboard_bench.py``: the page's six queries one after the
other and two at a time (as ``dashboard.data.prefetch`` runs them), and the
scorecard alone.  The ratio new/old is the figure to compare across
machines; the milliseconds move with the machine's load.

The database must already hold the demo (``dashboard_bench.py`` loads it)
and be migrated to this revision; the base code reads the same tables, with
this revision's ``sesizari/queries/filters.py`` (and so its session
settings).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from dashboard_bench import FILTERS  # noqa: E402

from sesizari import db  # noqa: E402

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def load_at(revision: str, path: str, name: str, folder: Path) -> ModuleType:
    """The module at ``path`` as it was at ``revision``, imported under ``name``."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{revision}:{path}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    file = folder / f"{name}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quantile(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="4a16d6a", help="git revision to compare against")
    parser.add_argument("--runs", type=int, default=10, help="rounds over the filter sets")
    args = parser.parse_args()
    engine = db.get_engine()
    with tempfile.TemporaryDirectory() as tmp:
        old = {
            name: load_at(args.base, f"sesizari/queries/{name}.py", f"base_{name}", Path(tmp))
            for name in ("resolution", "departments")
        }
        new = {
            "resolution": importlib.import_module("sesizari.queries.resolution"),
            "departments": importlib.import_module("sesizari.queries.departments"),
        }

        def page(m: dict[str, ModuleType], f) -> list[Callable[[], object]]:
            r = m["resolution"]
            return [
                lambda: r.resolution_stats(engine, f, "category"),
                lambda: r.weekly_trend(engine, f),
                lambda: r.district_medians(engine, f),
                lambda: r.share_within_target(engine, f, "category"),
                lambda: r.resolution_distribution(engine, f),
                lambda: r.backlog_ageing(engine, f, now=AS_OF),
            ]

        times: dict[tuple[str, str], list[float]] = {}
        pool = ThreadPoolExecutor(2)
        total = args.runs * len(FILTERS)
        done = 0
        for run in range(args.runs):
            for f in FILTERS:
                order = (
                    (("base", old), ("new", new)) if run % 2 == 0 else (("new", new), ("base", old))
                )
                for label, mods in order:
                    calls = page(mods, f)
                    t = time.perf_counter()
                    for call in calls:
                        call()
                    times.setdefault(("Resolution, in sequence", label), []).append(
                        time.perf_counter() - t
                    )
                    t = time.perf_counter()
                    list(pool.map(lambda call: call(), calls))
                    times.setdefault(("Resolution, two at a time", label), []).append(
                        time.perf_counter() - t
                    )
                    t = time.perf_counter()
                    mods["departments"].department_performance(engine, f, now=AS_OF)
                    times.setdefault(("department scorecard", label), []).append(
                        time.perf_counter() - t
                    )
                done += 1
                print(f"\r{done}/{total} filter sets", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
    print(f"base {args.base}, {args.runs} runs x {len(FILTERS)} filter sets\n")
    print("| measure | base p50 ms | base p95 ms | new p50 ms | new p95 ms | new/base p95 |")
    print("|---|---:|---:|---:|---:|---:|")
    for measure in ("Resolution, in sequence", "Resolution, two at a time", "department scorecard"):
        a, b = times[(measure, "base")], times[(measure, "new")]
        print(
            f"| {measure} | {quantile(a, 0.5) * 1000:.0f} | {quantile(a, 0.95) * 1000:.0f}"
            f" | {quantile(b, 0.5) * 1000:.0f} | {quantile(b, 0.95) * 1000:.0f}"
            f" | {quantile(b, 0.95) / quantile(a, 0.95):.2f} |"
        )


if __name__ == "__main__":
    main()

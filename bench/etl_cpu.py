"""Where the CPU of ``etl load`` goes, process by process, against (a).

``etl_bench.py`` gives rows per second.  This script says what a row
costs in CPU time, and where: the loader's Python process (all its
threads), each of its two database sessions, and the server's other
processes (WAL writer, checkpointer, autovacuum); the same for (a), the
COPY of the pre-formatted rows into an indexed copy of ``incidents``.

On a machine with ``cpus`` cores, a load cannot take less wall time than
its CPU time in all divided by ``cpus``, however well its parts overlap.
Set against (a)'s wall time, that floor says whether a rate such as
"(b) at 50 % of (a)" is within reach of a pipeline that does the work
(b) does, or needs less work per row.

Samples ``/proc/<pid>/stat`` (user + system time) of every child of the
bench cluster's postmaster ten times a second; the loader's sessions are
told apart by their ``application_name``.  Its own throw-away cluster
only (it reads the server's processes).

    .venv/bin/python bench/etl_cpu.py --rows 200000
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
import typer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.etl_bench import (
    MAPPING,
    ROOT,
    _copy_text,
    _final_rows,
    _generate,
    _indexed_copy,
    _make_city,
    _run_seconds,
    _write_csv,
    start_cluster,
    stream_copy_a,
)
from etl.load import DEFAULT_BATCH
from sesizari import db

TICKS = os.sysconf("SC_CLK_TCK")
APP = "etl-cpu-bench"


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far (None once it has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _children(parent: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == parent:
                        pids.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return pids


class Sampler:
    """CPU time of the postmaster's children, sampled until :meth:`stop`.

    A backend that exits between two samples loses at most 0.1 s of CPU
    from the figures (its last sample stands).
    """

    def __init__(self, postmaster: int, engine: sa.Engine, exclude: set[int]) -> None:
        self.postmaster, self.engine, self.exclude = postmaster, engine, exclude
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.loader: set[int] = set()
        self.queries: dict[int, Counter[str]] = {}
        self._stop = threading.Event()
        self._sample(baseline=True)  # the processes already running
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self, baseline: bool = False) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT pid, left(query, 40) FROM pg_stat_activity"
                " WHERE application_name = :a AND state = 'active'"), {"a": APP}).all()
            for pid, query in rows:
                self.loader.add(pid)
                self.queries.setdefault(pid, Counter())[" ".join(query.split())] += 1
            rows = conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :a"), {"a": APP}).all()
            self.loader.update(pid for (pid,) in rows)
        for pid in _children(self.postmaster):
            if pid in self.exclude:
                continue
            cpu = _cpu_seconds(pid)
            if cpu is not None:
                # A process first seen after the baseline started meanwhile.
                self.first.setdefault(pid, cpu if baseline else 0.0)
                self.last[pid] = cpu

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def stop(self) -> dict[int, float]:
        """CPU seconds used meanwhile, by process."""
        self._stop.set()
        self._thread.join()
        self._sample()
        return {pid: self.last[pid] - self.first.get(pid, 0.0) for pid in self.last}


_LOGGED = re.compile(
    r"^\S+ \S+ \S+ \[(\d+)\] LOG:  duration: ([\d.]+) ms  (?:statement|execute [^:]*): (.*)$"
)
_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d ")


def _statements(log: Path, start: int, pid: int, rows: int, most: int = 8) -> None:
    """The session ``pid``'s time by statement, from the server log (wall
    time in the server, which for a busy session is nearly all CPU)."""
    with log.open(encoding="utf-8", errors="replace") as fh:
        fh.seek(start)
        lines = fh.read().splitlines()
    totals: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    current: list[str] | None = None

    def close() -> None:
        if current is not None:
            label = " ".join(" ".join(current[2:]).split())[:60]
            totals[label] += float(current[1])
            counts[label] += 1

    for line in lines:
        if _PREFIX.match(line):
            close()
            m = _LOGGED.match(line)
            current = [m.group(1), m.group(2), m.group(3)] if m and int(m.group(1)) == pid \
                else None
        elif current is not None:
            current.append(line)
    close()
    print(f"\nThe busiest session's statements (server log), {sum(totals.values()) / 1000:.2f} s"
          " in all:")
    print(f"  {'statement':<62}{'calls':>6}{'s':>8}{'µs/row':>9}")
    for label, ms in totals.most_common(most):
        print(f"  {label:<62}{counts[label]:>6}{ms / 1000:>8.2f}{ms * 1000 / rows:>9.1f}")


def _children_cpu() -> float:
    """CPU seconds of this process's waited-for children so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _table(title: str, rows: int, wall: float, parts: list[tuple[str, float]],
           cpus: int) -> float:
    total = sum(s for _, s in parts)
    print(f"\n{title}: {rows:,} rows, wall {wall:.2f} s ({rows / wall:,.0f} rows/s)")
    print(f"  {'process':<58}{'CPU s':>8}{'µs/row':>9}")
    for label, seconds in parts:
        print(f"  {label:<58}{seconds:>8.2f}{seconds / rows * 1e6:>9.1f}")
    print(f"  {'all':<58}{total:>8.2f}{total / rows * 1e6:>9.1f}")
    print(f"  wall floor on {cpus} cores (CPU / cores): {total / cpus:.2f} s"
          f" = {rows / (total / cpus):,.0f} rows/s at most")
    return total


def main(
    rows: int = typer.Option(200_000, help="Rows in the generated CSV."),
    batch_size: int = typer.Option(DEFAULT_BATCH, help="Rows per ETL batch."),
    seed: int = typer.Option(1, help="Random seed of the generated data."),
) -> None:
    """Print the CPU time per row of (a) and of `etl load` (b), by process."""
    tmp = Path(tempfile.mkdtemp(prefix="sz-cpu-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    cpus = os.cpu_count() or 1
    try:
        cluster, url = start_cluster(tmp / "pg", "bench")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        engine = db.make_engine(url, connect_args={"options": "-c timezone=Europe/Bucharest"})
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
        slug = f"cpu-{os.getpid()}"
        ids = _make_city(engine, slug, "CPU")
        data = _generate(rows, seed)
        csv_path = tmp / "bench.csv"
        _write_csv(csv_path, data)
        payload = _copy_text(_final_rows(data, ids))
        del data
        print(f"rows: {rows:,}  batch: {batch_size:,}  cpus: {cpus}")

        # (a): the COPY's backend, the bench's own streaming, the server's others.
        with engine.connect() as conn:
            _indexed_copy(conn, "bench_a")
            conn.commit()
            own = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            sampler_engine = db.make_engine(url)
            with sampler_engine.connect() as s:
                watcher = s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            sampler = Sampler(postmaster, sampler_engine, exclude=set())
            before_self = time.process_time()
            backend_before = _cpu_seconds(own) or 0.0
            started = time.perf_counter()
            stream_copy_a(conn, payload)
            a_wall = time.perf_counter() - started
            backend = (_cpu_seconds(own) or 0.0) - backend_before
            python = time.process_time() - before_self
            used = sampler.stop()
        others = sum(v for pid, v in used.items() if pid not in (own, watcher))
        a_cpu = _table("(a) COPY pre-formatted into an indexed copy", rows, a_wall, [
            ("COPY session (server)", backend),
            ("the bench process (streams the rows; also samples /proc)", python),
            ("server's other processes", others),
        ], cpus)

        # What the loader's process spends before its first row: the interpreter
        # and the imports of a load, measured alone and taken off its figure.
        before = _children_cpu()
        subprocess.run([sys.executable, "-c", "import etl.cli, etl.load, sesizari.db"],
                       cwd=ROOT, check=True)
        startup = _children_cpu() - before

        # Every statement's duration in the server log, to split the busiest
        # session's time by statement (a few statements per batch: no load
        # on the rows).
        cluster.psql("ALTER SYSTEM SET log_min_duration_statement = 0")
        cluster.psql("SELECT pg_reload_conf()")
        log_start = cluster.log.stat().st_size

        # (b): etl load in a child process, its sessions named by application_name.
        sampler = Sampler(postmaster, sampler_engine, exclude={own, watcher})
        env = {**os.environ, "DATABASE_URL": url, "PGAPPNAME": APP}
        cmd = [sys.executable, "-m", "etl", "load", str(csv_path), "--city", slug,
               "--mapping", str(MAPPING), "--batch-size", str(batch_size)]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        used = sampler.stop()
        if status:
            raise SystemExit(f"etl load failed: {proc.stderr.read().decode()[-500:]}")
        b_s, inserted = _run_seconds(engine, slug)
        assert inserted == rows, inserted
        sessions = sorted((p for p in used if p in sampler.loader), key=lambda p: -used[p])
        parts = [("etl load process (Python: reading, staging, COPY data)",
                  usage.ru_utime + usage.ru_stime - startup)]
        for pid in sessions:
            top = sampler.queries.get(pid, Counter()).most_common(1)
            what = top[0][0] if top else "(never seen active)"
            parts.append((f"session {pid}: mostly {what[:32]}", used[pid]))
        parts.append(("server's other processes",
                      sum(v for p, v in used.items() if p not in sampler.loader)))
        b_cpu = _table("(b) etl load, all new (rows/s from feed_runs)", rows, b_s, parts, cpus)
        print(f"\n(b) process wall {wall:.2f} s; its start-up and imports ({startup:.2f} s"
              " CPU, measured alone) are left out of its CPU above.")
        print(f"CPU per row: (b) {b_cpu / a_cpu:.1f}x (a)."
              f"  (b) at 50 % of (a) needs a wall time of {2 * a_wall:.2f} s; (b)'s CPU on"
              f" {cpus} cores takes at least {b_cpu / cpus:.2f} s.")
        if sessions:
            busiest = used[sessions[0]]
            print(f"The busiest session alone (one transaction per batch: its work cannot be"
                  f" split) uses {busiest:.2f} s of CPU, {busiest / a_wall:.0%} of (a)'s wall"
                  " time.")
            _statements(cluster.log, log_start, sessions[0], rows)
        sampler_engine.dispose()
        engine.dispose()
    finally:
        cluster.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    typer.run(main)

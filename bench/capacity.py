"""RELIABILITY R15 on this machine: capacity on 2 cores.

Usage::

    .venv/bin/python bench/capacity.py                     # the figure's full size
    .venv/bin/python bench/capacity.py --seconds 60 --rounds 1   # a quicker look

Two scenarios, each on the demo database of ``--incidents`` incidents that
``bench/dashboard_bench.py`` builds (``sesizari_bench_<N>`` on the embedded
cluster, or ``DATABASE_URL``):

1. Submissions: ``POST /requests.json`` (Open311, a citizen's report with
   its routing, registry number and legal deadline) at a fixed ``--rate``
   per second for ``--seconds``, an open loop (latency counts from the
   moment a report was due).  Passes with p95 < 500 ms and no error.
2. The dashboard: ``--sessions`` browsers (Debian's Chromium) open the Live
   map at once (first render: until the map is drawn and the app is idle),
   then each changes a filter (a category in the sidebar; until the app is
   idle again), ``--rounds`` times.  Passes with first render p95 < 5 s and
   filter change p95 < 2 s.

3. The dashboard's server alone: the same sessions and filter changes
   through Streamlit's own WebSocket protocol (``bench/streamlit_client.py``)
   instead of browsers, so the browsers' drawing (in software here: no GPU)
   does not take the server's CPU.  A city's users draw on their own
   machines; this is the server's part of the same figures.

The API, the dashboard, PostgreSQL, the browsers and this script share the
machine, as they would on a small city server (browsers aside).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_load import _free_port, city_sample, run_rate, start_api
from bench.dashboard_bench import engine_for

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--no-first-run"]
CITY = "alba-iulia"  # the demo's larger city


class CpuByGroup(threading.Thread):
    """CPU time (user + system, from ``/proc``) of this machine's processes
    while it runs, summed per group: the browsers, the dashboard's server,
    PostgreSQL, the rest.  Sampled five times a second, so processes that
    end in between (a closed browser tab) still count up to their last
    sample."""

    GROUPS = (("chromium", "browsers"), ("streamlit", "dashboard server"),
              ("postgres", "PostgreSQL"))

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.tick = os.sysconf("SC_CLK_TCK")
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.done = threading.Event()
        self._sample(baseline=True)

    def _sample(self, baseline: bool = False) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    cmd = fh.read().decode("utf-8", "replace")
            except OSError:
                continue
            cpu = (int(fields[11]) + int(fields[12])) / self.tick
            group = next((g for key, g in self.GROUPS if key in cmd), "other")
            if baseline:
                self.first[pid] = cpu
            self.last[pid] = (group, cpu)

    def run(self) -> None:
        while not self.done.wait(0.2):
            self._sample()

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.join()
        self._sample()
        out: dict[str, float] = {}
        for pid, (group, cpu) in self.last.items():
            out[group] = out.get(group, 0.0) + cpu - self.first.get(pid, 0.0)
        return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def submissions(url: str, rate: float, seconds: float) -> bool:
    from sesizari import apikeys, db
    from sesizari.catalog import get_city

    engine = db.make_engine(url)
    points, categories = city_sample(engine, CITY)
    with engine.begin() as conn:
        city_id = get_city(conn, CITY).city_id
        key = apikeys.issue_key(conn, city_id, "capacity bench")
    server, base = start_api(url)

    def progress(second: int, report) -> None:
        if second % 30 == 0:
            lat = report.latencies["POST"]
            print(f"  {second:>4} s: {len(lat)} answered, p95 so far"
                  f" {p95(lat) * 1000 if lat else 0:.0f} ms", flush=True)

    try:
        report = asyncio.run(run_rate(base, jurisdiction=CITY, api_key=key, points=points,
                                      categories=categories, rate=rate, seconds=seconds,
                                      on_second=progress))
    finally:
        server.terminate()
        server.wait(30)
        engine.dispose()
    lat = report.latencies["POST"]
    errors = sum(report.errors.values())
    ok = bool(lat) and p95(lat) < 0.5 and errors == 0 and not report.duplicates
    print(f"submissions: {len(lat)} at {rate:g}/s for {seconds:g} s:"
          f" p50 {statistics.median(lat) * 1000:.0f} ms, p95 {p95(lat) * 1000:.0f} ms,"
          f" max {max(lat) * 1000:.0f} ms, errors {errors} {dict(report.errors)},"
          f" duplicate numbers {len(report.duplicates)}"
          f" -> {verdict(ok)} (p95 < 500 ms, 0 errors)")
    return ok


def _serve_dashboard(url: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "server.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("the dashboard did not start")


async def _idle(page) -> None:
    """Until the app has finished its run (Streamlit's running indicator gone)."""
    await page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


async def _session(browser, base: str, out: dict[str, list[float]]) -> None:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    t0 = time.monotonic()
    await page.goto(f"{base}/?city={CITY}")
    await page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=120_000)
    await _idle(page)
    out["first render"].append(time.monotonic() - t0)
    await page.wait_for_timeout(500)
    await page.get_by_role("combobox", name="Categorii", exact=True).click()
    option = page.get_by_role("option").first
    t0 = time.monotonic()
    await option.click()
    # The run may start and end before its indicator is seen (a quick one).
    with contextlib.suppress(PlaywrightTimeout):
        await page.wait_for_selector('[data-testid="stStatusWidget"]', timeout=1_000)
    await _idle(page)
    out["filter change"].append(time.monotonic() - t0)
    await context.close()


Times = dict[str, list[float]]


def _times() -> Times:
    return {"first render": [], "filter change": []}


async def _rounds(session, sessions: int, rounds: int) -> Times:
    """``session(out)`` to warm up, then alone, then ``sessions`` at once, ``rounds`` times."""
    # One visit first: Streamlit compiles the pages and fills its caches
    # once per server, not per session.  Then one alone, for reference.
    await session(_times())
    alone = _times()
    await session(alone)
    print(f"  one session alone: first render {alone['first render'][0]:.2f} s,"
          f" filter change {alone['filter change'][0]:.2f} s", flush=True)
    out = _times()
    for r in range(rounds):
        await asyncio.gather(*(session(out) for _ in range(sessions)))
        print(f"  round {r + 1}: first render p95 {p95(out['first render']):.2f} s,"
              f" filter change p95 {p95(out['filter change']):.2f} s", flush=True)
    return out


async def _browser_rounds(base: str, sessions: int, rounds: int) -> Times:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            return await _rounds(lambda out: _session(browser, base, out), sessions, rounds)
        finally:
            await browser.close()


async def _protocol_session(base: str, out: Times) -> None:
    """One session through Streamlit's protocol: the server's share of :func:`_session`."""
    from bench.streamlit_client import StreamlitSession

    client = StreamlitSession(base, f"city={CITY}")
    try:
        first = await client.open()
        out["first render"].append(first.seconds)
        change = await client.choose(first, "Categorii")
        out["filter change"].append(change.seconds)
    finally:
        await client.close()


async def _server_rounds(base: str, sessions: int, rounds: int) -> Times:
    return await _rounds(lambda out: _protocol_session(base, out), sessions, rounds)


def _measure(url: str, name: str, rounds_of, sessions: int, rounds: int, note: str = "") -> bool:
    """Serve the dashboard, run ``rounds_of(base, sessions, rounds)``, print and judge it."""
    proc, base = _serve_dashboard(url)
    cpu = CpuByGroup()
    cpu.start()
    t0 = time.monotonic()
    try:
        out = asyncio.run(rounds_of(base, sessions, rounds))
    finally:
        used = cpu.stop()
        wall = time.monotonic() - t0
        proc.terminate()
        proc.wait(30)
    print(f"  CPU over the phase ({wall:.0f} s wall, {os.cpu_count()} cores):"
          + ", ".join(f" {g} {s:.0f} s" for g, s in sorted(used.items(), key=lambda x: -x[1])))
    first, change = out["first render"], out["filter change"]
    ok = p95(first) < 5 and p95(change) < 2
    print(f"{name}: {sessions} sessions x {rounds} rounds: first render p50"
          f" {statistics.median(first):.2f} s, p95 {p95(first):.2f} s; filter change p50"
          f" {statistics.median(change):.2f} s, p95 {p95(change):.2f} s"
          f" -> {verdict(ok)} (first render p95 < 5 s, filter change p95 < 2 s{note})")
    return ok


def dashboard(url: str, sessions: int, rounds: int) -> bool:
    """Scenario 2: browsers."""
    return _measure(url, "dashboard", _browser_rounds, sessions, rounds)


def dashboard_server(url: str, sessions: int, rounds: int) -> bool:
    """Scenario 3: the dashboard's server with protocol clients instead of browsers."""
    return _measure(url, "dashboard server", _server_rounds, sessions, rounds,
                    note="; browsers' drawing not included")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=20.0, help="submissions per second")
    parser.add_argument("--seconds", type=float, default=300.0, help="submission phase length")
    parser.add_argument("--sessions", type=int, default=10, help="concurrent browsers")
    parser.add_argument("--rounds", type=int, default=3, help="dashboard rounds")
    parser.add_argument("--skip", choices=["submissions", "dashboard", "server"],
                        action="append", default=[], help="leave a scenario out (repeatable)")
    args = parser.parse_args()
    engine = engine_for(args.incidents)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    print(f"{args.incidents} incidents, {os.cpu_count()} cores", flush=True)
    results = []
    if "submissions" not in args.skip:
        results.append(submissions(url, args.rate, args.seconds))
    if "dashboard" not in args.skip:
        results.append(dashboard(url, args.sessions, args.rounds))
    if "server" not in args.skip:
        results.append(dashboard_server(url, args.sessions, args.rounds))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()

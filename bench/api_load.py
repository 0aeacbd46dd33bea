"""Load test of the HTTP API: concurrent clients posting and reading reports.

    .venv/bin/python -m bench.api_load --clients 50 --seconds 30
    .venv/bin/python -m bench.api_load --rate 20 --seconds 300   # a fixed rate of POSTs

Without ``--base-url`` it starts ``python -m api`` on a free local port against
the configured database, issues a temporary key for ``--jurisdiction`` and
revokes it at the end.  Prints requests per second, latency percentiles,
errors, and registry numbers handed out twice (there must be none: the
registry is a legal record).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import quantiles

import httpx


@dataclass
class Report:
    """What a run measured."""

    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"POST": [], "GET": []})
    errors: Counter = field(default_factory=Counter)
    numbers: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def duplicates(self) -> list[str]:
        return [n for n, c in Counter(self.numbers).items() if c > 1]

    def lines(self) -> list[str]:
        out = [
            f"requests: {self.requests} in {self.seconds:.1f} s "
            f"= {self.requests / max(self.seconds, 1e-9):.1f} req/s",
        ]
        for kind, values in self.latencies.items():
            if len(values) >= 2:
                cuts = quantiles(values, n=100)
                out.append(
                    f"{kind}: n={len(values)} p50={cuts[49] * 1000:.1f} ms "
                    f"p95={cuts[94] * 1000:.1f} ms max={max(values) * 1000:.1f} ms"
                )
        out.append(f"errors: {sum(self.errors.values())} {dict(self.errors)}")
        out.append(f"reports created: {len(self.numbers)}, duplicate numbers: {self.duplicates}")
        return out


def _post(http: httpx.AsyncClient, rng: random.Random, *, jurisdiction: str, api_key: str,
          points: list[tuple[float, float]], categories: list[str]):
    lon, lat = rng.choice(points)
    return http.post(
        "/requests.json",
        data={
            "api_key": api_key,
            "jurisdiction_id": jurisdiction,
            "service_code": rng.choice(categories),
            "lat": str(lat),
            "long": str(lon),
            "description": "Load test report",
        },
    )


async def _client(
    http: httpx.AsyncClient,
    deadline: float,
    rng: random.Random,
    report: Report,
    *,
    jurisdiction: str,
    api_key: str,
    points: list[tuple[float, float]],
    categories: list[str],
    post_ratio: float,
) -> None:
    while time.monotonic() < deadline:
        start = time.monotonic()
        if rng.random() < post_ratio:
            kind = "POST"
            request = _post(http, rng, jurisdiction=jurisdiction, api_key=api_key,
                            points=points, categories=categories)
        else:
            kind = "GET"
            request = http.get("/requests.json", params={"jurisdiction_id": jurisdiction})
        try:
            response = await request
        except httpx.HTTPError as exc:
            report.errors[type(exc).__name__] += 1
            continue
        report.latencies[kind].append(time.monotonic() - start)
        if response.status_code != 200:
            report.errors[f"{kind} {response.status_code}"] += 1
        elif kind == "POST":
            report.numbers.append(response.json()[0]["service_request_id"])


async def run_load(
    base_url: str,
    *,
    jurisdiction: str,
    api_key: str,
    points: list[tuple[float, float]],
    categories: list[str],
    clients: int = 50,
    seconds: float = 20.0,
    post_ratio: float = 0.3,
    seed: int = 1,
) -> Report:
    """Run ``clients`` concurrent loops for ``seconds`` against a running API."""
    report = Report()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _client(
                    http,
                    deadline,
                    random.Random(seed * 1000 + i),
                    report,
                    jurisdiction=jurisdiction,
                    api_key=api_key,
                    points=points,
                    categories=categories,
                    post_ratio=post_ratio,
                )
                for i in range(clients)
            )
        )
        report.seconds = time.monotonic() - started
    return report


async def run_rate(
    base_url: str,
    *,
    jurisdiction: str,
    api_key: str,
    points: list[tuple[float, float]],
    categories: list[str],
    rate: float,
    seconds: float,
    seed: int = 1,
    on_second: Callable[[int, Report], None] | None = None,
) -> Report:
    """POST reports at a fixed ``rate`` per second for ``seconds`` (an open
    loop: citizens do not wait for each other).  A request's latency counts
    from the moment it was due, so a server that falls behind shows it
    (a closed loop would only send less)."""
    report = Report()
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:
        started = time.monotonic()

        async def one(i: int) -> None:
            due = started + i / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            try:
                response = await _post(http, rng, jurisdiction=jurisdiction, api_key=api_key,
                                       points=points, categories=categories)
            except httpx.HTTPError as exc:
                report.errors[type(exc).__name__] += 1
                return
            report.latencies["POST"].append(time.monotonic() - due)
            if response.status_code != 200:
                report.errors[f"POST {response.status_code}"] += 1
            else:
                report.numbers.append(response.json()[0]["service_request_id"])

        async def progress() -> None:
            for second in range(1, int(seconds) + 1):
                await asyncio.sleep(max(0.0, started + second - time.monotonic()))
                if on_second is not None:
                    on_second(second, report)

        await asyncio.gather(progress(), *(one(i) for i in range(int(rate * seconds))))
        report.seconds = time.monotonic() - started
    return report


def start_api(database_url: str | None = None, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """``python -m api`` on a free local port (on ``database_url``, default the
    configured database), up and answering; its process and base URL.  Its
    API keys have no hourly budget: the load is the point."""
    import os

    port = _free_port()
    env = {**os.environ, "SESIZARI_API_RATE_LIMIT": str(10**9)}
    if database_url:
        env["DATABASE_URL"] = database_url
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "--port", str(port), "--log-level", "warning",
         "--workers", str(workers)],
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    _wait_until_up(base_url)
    return server, base_url


def city_sample(engine, slug: str, n: int = 500) -> tuple[list[tuple[float, float]], list[str]]:
    """Random points inside the city and its active category codes."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT ST_X(g.geom), ST_Y(g.geom) FROM cities c,"
                " ST_Dump(ST_GeneratePoints(c.boundary, :n, 1)) g WHERE c.slug = :s"
            ),
            {"n": n, "s": slug},
        ).all()
        codes = conn.execute(
            sa.text(
                "SELECT code FROM categories JOIN cities USING (city_id)"
                " WHERE slug = :s AND active ORDER BY code"
            ),
            {"s": slug},
        ).scalars()
        return [(x, y) for x, y in rows], list(codes)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(base_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the API did not start at {base_url}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running API (default: start one locally)")
    parser.add_argument("--jurisdiction", default="lugoj", help="city slug (default lugoj)")
    parser.add_argument("--api-key", help="key to post with (default: a temporary one)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--post-ratio", type=float, default=0.3, help="share of POSTs (0-1)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers when starting")
    parser.add_argument("--rate", type=float,
                        help="POSTs per second at a fixed rate (open loop) instead of clients")
    args = parser.parse_args(argv)

    from sesizari import apikeys
    from sesizari.catalog import get_city
    from sesizari.db import get_engine

    engine = get_engine()
    points, categories = city_sample(engine, args.jurisdiction)
    if not points or not categories:
        raise SystemExit(f"no city {args.jurisdiction!r} with categories; load the demo first")
    key, key_id, server = args.api_key, None, None
    with engine.begin() as conn:
        city_id = get_city(conn, args.jurisdiction).city_id
        if key is None:
            key = apikeys.issue_key(conn, city_id, "load test")
            key_id = max(k["key_id"] for k in apikeys.list_keys(conn, city_id))
    base_url = args.base_url
    try:
        if base_url is None:
            server, base_url = start_api(workers=args.workers)
        if args.rate:
            report = asyncio.run(
                run_rate(base_url, jurisdiction=args.jurisdiction, api_key=key, points=points,
                         categories=categories, rate=args.rate, seconds=args.seconds)
            )
        else:
            report = asyncio.run(
                run_load(
                    base_url,
                    jurisdiction=args.jurisdiction,
                    api_key=key,
                    points=points,
                    categories=categories,
                    clients=args.clients,
                    seconds=args.seconds,
                    post_ratio=args.post_ratio,
                )
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if key_id is not None:
            with engine.begin() as conn:
                apikeys.revoke_key(conn, city_id, key_id)
    print(f"{args.rate:g} POST/s, open loop, {base_url}" if args.rate else
          f"{args.clients} clients, {args.post_ratio:.0%} POST, {base_url}")
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()

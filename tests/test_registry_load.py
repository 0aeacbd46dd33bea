"""RELIABILITY R4 at its stated scale: 16 concurrent workers x 250
submissions over two cities, 10 % rolled back after they were numbered;
then submissions dated either side of New Year in Europe/Bucharest.

Per city and year: no duplicate, no gap, numbers from 1, and no order
inversion: a report registered later never holds a smaller number (the
registration time is taken once the number is, under the counter's lock).
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from sesizari import catalog, registry
from sesizari.incidents import NewIncident, create_incident, create_incident_in
from tests.conftest import TEST_BOUNDARY, TEST_LAT, TEST_LON

WORKERS = 16
EACH = 250
ROLLED_BACK = 0.10


class _Rollback(Exception):
    """Raised inside a numbered submission's transaction to undo it."""


def _second_city(engine) -> None:
    with engine.begin() as conn:
        cid = catalog.create_city(conn, slug="other", name_ro="Alt", name_en="Other",
                                  registry_prefix="OTH", boundary=TEST_BOUNDARY)
        catalog.create_department(conn, cid, "roads", "Drumuri", "Roads")
        catalog.create_category(conn, cid, "pothole", "Groapă", "Pothole", "roads", 72)


def _submit(engine, city: str, rollback: bool, at: datetime | None = None) -> str | None:
    new = NewIncident(city, "pothole", TEST_LAT, TEST_LON, "Groapă", created_at=at)
    if not rollback:
        return create_incident(engine, new).registry_number
    try:
        with engine.begin() as conn:
            create_incident_in(conn, new)
            raise _Rollback
    except _Rollback:
        return None


def _registered(engine) -> list[tuple[str, int, int, datetime]]:
    """(prefix, year, sequence, created_at) of every incident."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT registry_number, created_at FROM incidents"))
        return [(*registry.parse_number(n), at) for n, at in rows]


def _check_runs(rows) -> dict[tuple[str, int], int]:
    """Per (prefix, year): numbers 1..n without duplicate or gap; returns n."""
    by_year: dict[tuple[str, int], list[int]] = defaultdict(list)
    for prefix, year, seq, _at in rows:
        by_year[(prefix, year)].append(seq)
    for key, seqs in by_year.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), key
    return {k: len(v) for k, v in by_year.items()}


def test_sixteen_workers_number_without_duplicates_gaps_or_inversions(engine, city):
    _second_city(engine)
    rng = random.Random(4)
    jobs = [(rng.choice(["testville", "other"]), rng.random() < ROLLED_BACK)
            for _ in range(WORKERS * EACH)]
    start = threading.Barrier(WORKERS)

    def worker(k: int) -> list[str | None]:
        start.wait()  # all sixteen at once
        return [_submit(engine, city_, rollback) for city_, rollback in jobs[k::WORKERS]]

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        numbers = [n for chunk in pool.map(worker, range(WORKERS)) for n in chunk]
    kept = [n for n in numbers if n is not None]
    assert len(kept) == sum(not rb for _c, rb in jobs)
    assert len(set(kept)) == len(kept)
    rows = _registered(engine)
    assert sorted(f"{p}-{y}-{s:06d}" for p, y, s, _ in rows) == sorted(kept)
    counts = _check_runs(rows)
    assert sum(counts.values()) == len(kept)
    # No inversion: in number order, registration times never go back.
    for (prefix, year) in counts:
        times = [at for p, y, _s, at in sorted(rows) if (p, y) == (prefix, year)]
        inversions = sum(b < a for a, b in itertools.pairwise(times))
        assert inversions == 0, (prefix, year, inversions)
    with engine.connect() as conn:
        counters = dict(conn.execute(sa.text(
            "SELECT c.registry_prefix || '-' || rc.year, rc.last_value FROM registry_counters rc"
            " JOIN cities c USING (city_id)")).all())
    assert counters == {f"{p}-{y}": n for (p, y), n in counts.items()}


def test_new_year_in_bucharest_starts_each_city_at_one(engine, city):
    """Reports dated either side of local midnight on 31 December (22:00
    UTC), concurrently: each lands in its local year, and each year's
    numbers run from 1 without gaps; a rolled-back one leaves none."""
    _second_city(engine)
    midnight = datetime(2025, 12, 31, 22, 0, tzinfo=UTC)
    rng = random.Random(5)
    jobs = []
    for k in range(400):
        at = midnight + timedelta(milliseconds=rng.randrange(-5_000, 5_000))
        jobs.append((rng.choice(["testville", "other"]), k % 10 == 0, at))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(lambda job: _submit(engine, job[0], job[1], job[2]), jobs))
    rows = _registered(engine)
    for prefix, year, _seq, at in rows:
        assert year == (2026 if at >= midnight else 2025), (prefix, year, at)
    counts = _check_runs(rows)
    expected: dict[tuple[str, int], int] = defaultdict(int)
    for city_, rollback, at in jobs:
        if not rollback:
            expected[("TST" if city_ == "testville" else "OTH", 2026 if at >= midnight else 2025)] \
                += 1
    assert counts == dict(expected)
    assert set(counts) == {("TST", 2025), ("TST", 2026), ("OTH", 2025), ("OTH", 2026)}

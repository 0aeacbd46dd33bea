"""What the e-mail outbox's trigger (migration 0035) costs the bulk paths.

Every row inserted into ``incident_events`` passes the trigger's ``WHEN``
condition; only events that may concern a reporter call its function.  This
inserts the same events, in the same process and alternating rounds, with
the trigger and with it disabled (the baseline), and prints the ratio:

- feed events (``channel = 'feed'``): what the ETL writes; the condition
  rejects them before any function runs;
- web ``created`` events of reports without an e-mail: the function runs
  and finds no address (the worst case for a load of citizens' reports).

Starts a throw-away PostGIS cluster in /tmp (fsync off, like the tests).

    .venv/bin/python -m bench.outbox_bench --events 200000 --rounds 3
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
import typer
from shapely.geometry import box

from bench.etl_bench import start_cluster
from sesizari import catalog, db
from sesizari.incidents import NewIncident, create_incident

_INSERT = sa.text(
    "INSERT INTO incident_events (city_id, incident_id, kind, to_status, actor_label, channel,"
    " is_public, created_at)"
    " SELECT :c, :i, 'created', 'new', 'bench', :ch, true, now()"
    " FROM generate_series(1, :n)"
)


def _seconds(engine: sa.Engine, ids: tuple[int, int], channel: str, events: int,
             trigger: bool) -> float:
    """Seconds to insert ``events`` events (rolled back: every round starts alike)."""
    with engine.connect() as conn:
        tx = conn.begin()
        if not trigger:
            conn.execute(
                sa.text("ALTER TABLE incident_events DISABLE TRIGGER incident_events_notify")
            )
        start = time.perf_counter()
        conn.execute(_INSERT, {"c": ids[0], "i": ids[1], "ch": channel, "n": events})
        seconds = time.perf_counter() - start
        tx.rollback()
    return seconds


def main(
    events: int = typer.Option(200_000, min=1000, help="Events inserted per round."),
    rounds: int = typer.Option(3, min=1, help="Rounds of each case; the best is kept."),
) -> None:
    """Insert events with and without the outbox trigger; print rows/s and ratios."""
    root = Path(tempfile.mkdtemp(prefix="sz-outbox-"))
    cluster, url = start_cluster(root, "bench")
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            cid = catalog.create_city(conn, slug="bench", name_ro="Bench", name_en="Bench",
                                      registry_prefix="BEN", boundary=box(21.8, 45.6, 22.0, 45.8))
            catalog.create_department(conn, cid, "roads", "Drumuri", "Roads")
            catalog.create_category(conn, cid, "pothole", "Groapă", "Pothole", "roads", 72)
        number = create_incident(
            engine, NewIncident("bench", "pothole", 45.7, 21.9, "Groapă")
        ).registry_number
        with engine.connect() as conn:
            iid = conn.execute(sa.text("SELECT incident_id FROM incidents WHERE registry_number"
                                       " = :n"), {"n": number}).scalar_one()
        ids = (cid, iid)
        print(f"{events:,} events per round, best of {rounds}")
        for channel, what in (("feed", "feed events (the ETL)"),
                              ("web", "web reports without an e-mail")):
            best = {True: float("inf"), False: float("inf")}
            for _ in range(rounds):
                for trigger in (False, True):
                    best[trigger] = min(best[trigger],
                                        _seconds(engine, ids, channel, events, trigger))
            ratio = best[True] / best[False]
            print(f"{what}: without the trigger {events / best[False]:,.0f} rows/s,"
                  f" with it {events / best[True]:,.0f} rows/s (time x{ratio:.3f})")
    finally:
        engine.dispose()
        cluster.stop("fast")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    typer.run(main)

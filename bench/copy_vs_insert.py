"""INSERT ... SELECT against a COPY round trip, for the load's insert of new incidents.

Usage::

    DATABASE_URL=... .venv/bin/python bench/copy_vs_insert.py --rows 20000 --rounds 4

Why: the load inserts each batch with ``INSERT ... SELECT`` from its work
table; ``COPY`` writes rows to the heap in batches and is what (a) of
``etl_bench.py`` uses.  This times both on the same rows, in the same
process, alternating which goes first: ``INSERT ... SELECT`` into one
indexed copy of ``incidents`` (all its indexes and generated columns, no
triggers, no foreign keys), and ``COPY (SELECT ...) TO STDOUT`` then
``COPY ... FROM STDIN`` (binary) into another, the round trip a loader
using COPY would pay.  Both copies first receive the even-numbered incidents
of the city (a table with a history, as ``incidents`` has); the timed rows
are odd-numbered ones, deleted again after each round.

The database must hold incidents (the demo: ``dashboard_bench.py`` loads
it).  The copies are dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sesizari import db  # noqa: E402

#: The columns the load writes (etl/sql.py, INSERT_NEW).
COLUMNS = (
    "city_id, incident_id, registry_number, category_id, department_id, assignee_user_id,"
    " district_id, status, channel, geom, address, description, created_at, resolved_at,"
    " closed_at, updated_at, resolution_text, source, external_id"
)
COPIES = ("bench_insert", "bench_copy")
#: Every statement, from the fixed texts above only (table names included).
FILL = "INSERT INTO {t} (" + COLUMNS + ") SELECT " + COLUMNS + (  # noqa: S608
    " FROM incidents WHERE city_id = %(c)s AND incident_id %% 2 = 0"
)
ROWS = "CREATE TEMP TABLE bench_rows AS SELECT " + COLUMNS + (  # noqa: S608
    " FROM incidents WHERE city_id = %(c)s AND incident_id %% 2 = 1 LIMIT %(n)s"
)
INSERT = "INSERT INTO {t} (" + COLUMNS + ") SELECT " + COLUMNS + " FROM bench_rows"  # noqa: S608
COPY_OUT = "COPY (SELECT " + COLUMNS + " FROM bench_rows) TO STDOUT (FORMAT binary)"  # noqa: S608
COPY_IN = "COPY {t} (" + COLUMNS + ") FROM STDIN (FORMAT binary)"
UNDO = "DELETE FROM {t} t USING bench_rows r WHERE t.incident_id = r.incident_id"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows per round (a batch)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each method")
    parser.add_argument("--city-id", type=int, default=1, help="the city whose incidents to use")
    args = parser.parse_args()
    engine = db.get_engine()
    raw = engine.raw_connection()
    conn = raw.driver_connection
    cur = conn.cursor()
    params = {"c": args.city_id, "n": args.rows}
    print(f"preparing two indexed copies of incidents (city {args.city_id})...", flush=True)
    for table in COPIES:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(
            f"CREATE TABLE {table} (LIKE incidents INCLUDING DEFAULTS INCLUDING INDEXES"
            " INCLUDING IDENTITY INCLUDING GENERATED)"
        )
        cur.execute(FILL.format(t=table), params)
        cur.execute(f"ANALYZE {table}")
    cur.execute(ROWS, params)
    conn.commit()
    times: dict[str, list[float]] = {"INSERT ... SELECT": [], "COPY round trip": []}
    try:
        for rnd in range(args.rounds):
            methods = list(times) if rnd % 2 == 0 else list(reversed(times))
            for method in methods:
                table = COPIES[0] if method.startswith("INSERT") else COPIES[1]
                started = time.perf_counter()
                if method.startswith("INSERT"):
                    cur.execute(INSERT.format(t=table))
                else:
                    data = bytearray()
                    with cur.copy(COPY_OUT) as cp:
                        for block in cp:
                            data += block
                    with cur.copy(COPY_IN.format(t=table)) as cp:
                        cp.write(bytes(data))
                conn.commit()
                times[method].append((time.perf_counter() - started) * 1000)
                cur.execute(UNDO.format(t=table))
                conn.commit()
            print(f"round {rnd + 1}/{args.rounds} done", flush=True)
    finally:
        for table in COPIES:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        conn.commit()
        raw.close()
    for method, ms in times.items():
        each = " ".join(f"{t:,.0f}" for t in ms)
        print(f"{method:<20} median {statistics.median(ms):7,.0f} ms  ({each})")
    ratio = statistics.median(times["COPY round trip"]) / statistics.median(
        times["INSERT ... SELECT"]
    )
    print(f"COPY round trip / INSERT ... SELECT: {ratio:.2f}")


if __name__ == "__main__":
    main()

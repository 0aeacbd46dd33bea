"""What reading a source date back costs (migration 0043), per call.

Runs ``etl_local_time`` as migration 0024 defined it (created under another
name in a temporary schema) and as it is now, on the same 100,000 generated
values of two common patterns, in one session, best of three; prints
microseconds per call and the ratio (a ratio: this machine's speed moves by
a third between runs).  Needs the embedded cluster or DATABASE_URL.

    .venv/bin/python bench/date_check_bench.py [--values 100000] [--unpadded]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from sesizari import db  # noqa: E402

#: (pattern, the SQL that writes the generated values in it)
CASES = (
    ("MM/DD/YYYY HH12:MI:SS AM", "'MM/DD/YYYY HH12:MI:SS AM'"),
    ("DD.MM.YYYY HH24:MI", "'DD.MM.YYYY HH24:MI'"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=100_000, help="Values per pattern.")
    parser.add_argument("--unpadded", action="store_true",
                        help="Write the values without leading zeros (FM), as some exports do.")
    args = parser.parse_args()
    old = (ROOT / "sql" / "migrations" / "0024_strict_source_dates.sql").read_text()
    old = old[old.index("CREATE OR REPLACE FUNCTION etl_local_time"):].replace(
        "FUNCTION etl_local_time(", "FUNCTION pg_temp.etl_local_time_0024(", 1)
    print("| pattern | 0024 µs/call | 0043 µs/call | ratio |")
    print("|---|---:|---:|---:|")
    with db.get_engine().connect() as conn:
        conn.execute(sa.text("SET timezone TO 'UTC'"))
        conn.exec_driver_sql(old)
        for fmt, written in CASES:
            shown = written.replace("'MM", "'FMMM").replace("'DD", "'FMDD") if args.unpadded \
                else written
            conn.execute(sa.text(
                f"CREATE TEMP TABLE v AS SELECT to_char(timestamp '2025-01-01'"  # noqa: S608
                f" + g * interval '7 minutes', {shown}) AS s"
                " FROM generate_series(1, :n) g"), {"n": args.values})
            best: dict[str, float] = {}
            for fn in ("pg_temp.etl_local_time_0024", "etl_local_time") * 3:
                started = time.perf_counter()
                conn.execute(sa.text(
                    f"SELECT count(x.problem) FROM v,"  # noqa: S608
                    f" LATERAL {fn}(v.s, :f, 'Europe/Bucharest') x"), {"f": fmt}).scalar_one()
                per_call = (time.perf_counter() - started) / args.values * 1e6
                best[fn] = min(best.get(fn, float("inf")), per_call)
            before, after = best["pg_temp.etl_local_time_0024"], best["etl_local_time"]
            print(f"| `{fmt}`{' (no leading zeros)' if args.unpadded else ''} |"
                  f" {before:.2f} | {after:.2f} | {after / before:.2f} |")
            conn.exec_driver_sql("DROP TABLE v")


if __name__ == "__main__":
    main()

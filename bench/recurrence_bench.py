"""Linking problems that come back: the recurrence rule over a whole city.

``commitments.mark_recurrences`` links every incident of a city to the earlier
fix it repeats (the rule registration applies to one new report), after a
bulk load such as the demo's.  This compares, on the same database and in the
same process, the rule as registration first wrote it (both points
transformed to Stereo70 for every candidate, found in a box of ``m / 30000``
degrees) with the rule as shipped (the stored ``x3844``/``y3844`` and a box
of the right size in degrees).  Both run as the same ``SELECT`` over every
incident of each city, never as an update, and must find the same links.

    .venv/bin/python bench/recurrence_bench.py --database sesizari_bench_100000

The database is one of the embedded cluster's (started if needed), or
``--url`` for another server.  Prints seconds per city, best of ``--rounds``,
the links found, and the ratio of the two.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import sqlalchemy as sa
import typer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sesizari import commitments, db
from sesizari.vocab import STEREO70

#: The rule as registration first wrote it: the baseline.
BASELINE_MATCH = """
    FROM incidents p
    WHERE p.city_id = n.city_id AND p.category_id = n.category_id
      AND p.incident_id <> n.incident_id
      AND p.status IN ('resolved', 'closed') AND p.resolved_at <= n.created_at
      AND p.resolved_at >= n.created_at - make_interval(days => :days)
      AND p.geom && ST_Expand(n.geom, :m / 30000.0)
      AND ST_DWithin(ST_Transform(p.geom, :srid), ST_Transform(n.geom, :srid), :m)
    ORDER BY ST_Distance(ST_Transform(p.geom, :srid), ST_Transform(n.geom, :srid)),
             p.resolved_at DESC
    LIMIT 1
"""


def _links(match: str) -> sa.TextClause:
    return sa.text(
        "SELECT count(*), sum(hashint8(p.incident_id * 1000003 + n.incident_id))"  # noqa: S608
        " FROM incidents n CROSS JOIN LATERAL (SELECT p.incident_id" + match + ") p"
        " WHERE n.city_id = :c"
    )


def main(
    database: str = typer.Option(
        "sesizari_bench_100000", help="A database of the embedded cluster, with incidents."
    ),
    url: str = typer.Option("", help="A database URL instead (overrides --database)."),
    rounds: int = typer.Option(3, min=1, help="Runs of each rule per city; the best counts."),
) -> None:
    """Time the baseline and the shipped recurrence rule on every city of a database."""
    if not url:
        cluster = db.embedded_cluster()
        cluster.start()
        url = cluster.url(database)
    engine = db.make_engine(url)
    rules = {
        "baseline": _links(BASELINE_MATCH),
        "shipped": _links(commitments.RECURRENCE_MATCH),
    }
    params = {"days": commitments.DEFAULTS["recurrence_days"]}
    params |= {"m": float(commitments.DEFAULTS["recurrence_m"]), "srid": STEREO70}
    with engine.connect() as conn:
        cities = conn.execute(
            sa.text(
                "SELECT c.city_id, c.slug, count(i.*) FROM cities c"
                " JOIN incidents i USING (city_id) GROUP BY 1, 2 ORDER BY 1"
            )
        ).all()
        if not cities:
            raise typer.BadParameter(f"{url}: no incidents; load the demo into it first")
        print(f"{'city':<12} {'incidents':>9} {'rule':<9} {'best s':>7} {'links':>7}")
        for city_id, slug, total in cities:
            best: dict[str, float] = {}
            found: dict[str, tuple] = {}
            for _ in range(rounds):
                for name, sql in rules.items():  # alternating, so both see the same machine
                    started = time.perf_counter()
                    row = conn.execute(sql, params | {"c": city_id}).one()
                    took = time.perf_counter() - started
                    best[name] = min(best.get(name, took), took)
                    found[name] = tuple(row)
            for name in rules:
                print(f"{slug:<12} {total:>9,} {name:<9} {best[name]:>7.2f} {found[name][0]:>7,}")
            same = "same links" if found["baseline"] == found["shipped"] else "LINKS DIFFER"
            print(f"{slug:<12} shipped {best['baseline'] / best['shipped']:.1f}x faster, {same}")


if __name__ == "__main__":
    typer.run(main)

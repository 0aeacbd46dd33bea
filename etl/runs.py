"""The recorded feed runs, read back: for the command line (`etl runs`,
`etl rejects`), the next Open311 pull (its watermark) and tests.

What a run records is written by :mod:`etl.load`; the dashboard's Data
feeds page reads the same tables through :mod:`sesizari.feeds`, scoped to
the signed-in staff's city.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl.rejects import REJECT_ROWS
from sesizari.catalog import get_city
from sesizari.errors import NotFoundError


def last_watermark(engine: Engine, city: str, source: str) -> datetime | None:
    """Where an incremental feed resumes: the watermark of the last successful run."""
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT r.watermark FROM feed_runs r JOIN cities c USING (city_id)"
                " WHERE c.slug = :city AND r.source = :src AND r.status = 'succeeded'"
                " AND r.watermark IS NOT NULL ORDER BY r.run_id DESC LIMIT 1"
            ),
            {"city": city, "src": source},
        ).scalar_one_or_none()


def list_runs(engine: Engine, city: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest feed runs, newest first (all cities unless ``city``).

    A run left 'running' by a load that stopped without finishing reads as
    'aborted' (view ``feed_runs_shown``, migration 0023).  An unknown
    ``city`` is :class:`NotFoundError` (a misspelt slug is not "no runs yet").
    """
    with engine.connect() as conn:
        if city is not None:
            get_city(conn, city)
        rows = conn.execute(
            sa.text(
                "SELECT c.slug AS city, r.run_id, r.source, r.file_name, r.status, r.started_at,"
                " r.finished_at, r.rows_read, r.rows_inserted, r.rows_updated,"
                " r.rows_unchanged, r.rows_rejected, r.watermark, r.error, r.error_row,"
                " r.error_ro"
                " FROM feed_runs_shown r JOIN cities c USING (city_id)"
                " WHERE CAST(:city AS text) IS NULL OR c.slug = :city"
                " ORDER BY r.started_at DESC, r.run_id DESC LIMIT :n"
            ),
            {"city": city, "n": limit},
        )
        return [dict(r._mapping) for r in rows]


def check_run(engine: Engine, city: str, run_id: int) -> None:
    """:class:`NotFoundError` unless ``city`` has run ``run_id`` (a run id of
    another city, or a typo, is not "a run with no rejects")."""
    with engine.connect() as conn:
        city_id = get_city(conn, city).city_id
        found = conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM feed_runs WHERE city_id = :c AND run_id = :r)"),
            {"c": city_id, "r": run_id},
        ).scalar_one()
    if not found:
        raise NotFoundError(
            f"{city} has no run {run_id}; `python -m etl runs --city {city}` lists its runs"
        )


def list_rejects(
    engine: Engine, city: str, run_id: int, limit: int = 50, lang: str = "en"
) -> list[dict[str, Any]]:
    """A run's rejects, by source row: row number, reason and message in ``lang``
    (not the raw row, which may hold personal data and stays in the database)."""
    with engine.connect() as conn:
        rows = conn.execute(REJECT_ROWS, {"city": city, "run": run_id, "n": limit,
                                          "lang": lang})
        return [dict(r._mapping) for r in rows]


def reject_counts(engine: Engine, city: str, run_id: int) -> dict[str, int]:
    """Rejects of one run by reason (for summaries and tests)."""
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text(
                    "SELECT reason, count(*) FROM feed_rejects JOIN cities c USING (city_id)"
                    " WHERE c.slug = :city AND run_id = :run GROUP BY reason"
                ),
                {"city": city, "run": run_id},
            ).all()
        )

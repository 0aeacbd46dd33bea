"""The city's feed runs and their rejected rows, for the staff who watch imports.

What ``python -m etl`` records (``feed_runs``, ``feed_rejects``), read for the
dashboard's Feeds page.  Managers and administrators only, and only their own
city.  A reject is shown by row number, reason and message: its raw row
stays in the database, since it may hold a reporter's name or phone.
Times are written in the city's zone, as every page shows them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sesizari.auth import StaffUser
from sesizari.errors import PermissionDeniedError
from sesizari.vocab import Role

if TYPE_CHECKING:  # pandas is imported where a frame is made: etl imports this module
    import pandas as pd

_RUNS = sa.text(
    """
SELECT r.run_id, r.source, r.file_name, r.status,
       to_char(r.started_at AT TIME ZONE c.timezone, 'YYYY-MM-DD HH24:MI:SS') AS started,
       round(CAST(extract(epoch FROM r.finished_at - r.started_at) AS numeric), 1)
           AS seconds,
       r.rows_read, r.rows_inserted, r.rows_updated, r.rows_unchanged, r.rows_rejected,
       r.error, r.error_row, r.error_ro
FROM feed_runs_shown r JOIN cities c USING (city_id)
WHERE r.city_id = :c
ORDER BY r.started_at DESC, r.run_id DESC
LIMIT :n
"""
)

_REASONS = sa.text(
    "SELECT reason, count(*) AS rows FROM feed_rejects WHERE city_id = :c AND run_id = :run"
    " GROUP BY reason ORDER BY count(*) DESC, reason"
)

#: A reject's message (``feed_rejects r``) in the language ``:lang``: 'ro'
#: falls back to the English message of rows rejected before migration 0026.
#: Also read by ``etl rejects`` and the reject CSV (etl/rejects.py).
MESSAGE_IN_LANG = (
    "CASE WHEN :lang = 'ro' THEN coalesce(r.message_ro, r.message) ELSE r.message END"
)

_REJECTS = sa.text(
    f"SELECT r.source_row, r.reason, {MESSAGE_IN_LANG} AS message"  # noqa: S608 - fixed text
    " FROM feed_rejects r WHERE r.city_id = :c AND r.run_id = :run"
    " ORDER BY r.source_row LIMIT :n"
)


def _require_manager(user: StaffUser) -> None:
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise PermissionDeniedError(
            "only a manager or an administrator may see the feed runs",
            ro="Doar conducerea sau un administrator poate vedea importurile de date",
        )


def runs(engine: Engine, user: StaffUser, limit: int = 100) -> pd.DataFrame:
    """The city's latest feed runs, newest first, with their counts and error
    (a load that stopped without finishing shows as 'aborted': migration 0023)."""
    import pandas as pd

    _require_manager(user)
    with engine.connect() as conn:
        return pd.read_sql(_RUNS, conn, params={"c": user.city_id, "n": limit})


def rejects(engine: Engine, user: StaffUser, run_id: int, lang: str = "ro",
            limit: int = 1000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's rejects: counts by reason, and the first ``limit`` rows by row
    number (row, reason, message in ``lang``; never the raw row)."""
    import pandas as pd

    _require_manager(user)
    params = {"c": user.city_id, "run": run_id, "n": limit, "lang": lang}
    with engine.connect() as conn:
        return (pd.read_sql(_REASONS, conn, params=params),
                pd.read_sql(_REJECTS, conn, params=params))

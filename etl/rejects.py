"""A run's rejected rows: as a CSV file, and how long their raw values are kept.

The CSV is what the person who fixes the source needs.

Each line has the row's number in the source (the first data row is 1; in
a spreadsheet, the sheet's row is the header's row plus this number), the
reason code and the message naming the column and value at fault.  The raw
row stays in table ``feed_rejects``: it may hold personal data (a
reporter's name or phone), which no file written by the platform carries.
The rows stream from the database in row order, so a run with a million
rejects writes in flat memory, and the file appears only once complete.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sesizari.catalog import get_city
from sesizari.csvcell import defuse
from sesizari.errors import ValidationError
from sesizari.feeds import MESSAGE_IN_LANG

COLUMNS = ("source_row", "reason", "message")

#: A run's rejects by source row, without the raw row; ``:n`` NULL for all of them
#: (the CSV file), a number for the first ones (``python -m etl rejects``).
#: The message is in ``:lang`` ('ro': English for rows from before migration 0026).
REJECT_ROWS = sa.text(
    f"SELECT r.source_row, r.reason, {MESSAGE_IN_LANG} AS message"  # noqa: S608 - fixed text
    " FROM feed_rejects r"
    " JOIN cities c USING (city_id) WHERE c.slug = :city AND r.run_id = :run"
    " ORDER BY r.source_row LIMIT :n"
)


def default_path(city: str, run_id: int | None) -> Path:
    """Where ``load`` writes a run's rejects when not told: the working
    directory (``run_id`` None: a dry run's)."""
    return Path(f"rejects-{city}-{'dry-run' if run_id is None else f'run{run_id}'}.csv")


class RejectsFile:
    """A reject CSV being written: to a temporary file beside ``path``,
    renamed to ``path`` by :meth:`close` (only if a row was written, unless
    ``always``); :meth:`abort` removes it.  A failure never leaves a
    half-written file under the final name.

    Spreadsheet-safe like every CSV of the platform (:func:`defuse`): a
    message quotes source values, which could start with ``=``.
    """

    def __init__(self, path: Path, *, always: bool = False) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.part")
        self.always = always
        self.rows = 0
        self._fh: TextIO | None = None
        self._writer: Any = None

    def _open(self) -> None:
        try:
            self._fh = self.tmp.open("w", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise self._error(exc) from None
        self._writer = csv.writer(self._fh, lineterminator="\r\n")
        self._writer.writerow(COLUMNS)

    def write(self, source_row: int, reason: str, message: str) -> None:
        if self._fh is None:
            self._open()
        try:
            self._writer.writerow((source_row, reason, defuse(message)))
        except OSError as exc:
            self.abort()
            raise self._error(exc) from None
        self.rows += 1

    def close(self) -> None:
        """Rename the file into place (or write nothing: no row and not ``always``)."""
        if self._fh is None and self.always:
            self._open()
        if self._fh is None:
            return
        try:
            self._fh.close()
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise self._error(exc) from None
        finally:
            self._fh = None

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.tmp.unlink(missing_ok=True)

    def _error(self, exc: OSError) -> ValidationError:
        return ValidationError(
            "rejects_csv",
            f"cannot write {self.path} ({exc.strerror or exc}); give a writable path",
        )


def write_rejects_csv(engine: Engine, city: str, run_id: int, path: Path,
                      lang: str = "en") -> int:
    """Write the rejects of run ``run_id`` of ``city`` to ``path`` (:class:`RejectsFile`),
    their messages in ``lang``; return how many."""
    out = RejectsFile(path, always=True)
    try:
        with engine.connect() as conn:
            rows = conn.execution_options(yield_per=5000).execute(
                REJECT_ROWS, {"city": city, "run": run_id, "n": None, "lang": lang}
            )
            for source_row, reason, message in rows:
                out.write(source_row, reason, message)
        out.close()
    except BaseException:
        out.abort()
        raise
    return out.rows


_FORGET_RAW = sa.text(
    """
UPDATE feed_rejects j SET raw = '{}'::jsonb
FROM feed_runs r
WHERE j.city_id = r.city_id AND j.run_id = r.run_id
  AND (CAST(:city AS integer) IS NULL OR r.city_id = :city)
  AND r.status <> 'running'
  AND r.started_at < now() - make_interval(days => :days)
  AND j.raw <> '{}'::jsonb
"""
)


def forget_raw(engine: Engine, older_than_days: int, city: str | None = None) -> int:
    """Empty the raw values of the rejects of runs started more than
    ``older_than_days`` ago (all cities, or ``city``); return how many rows.

    The raw row is kept only to fix and reload the source, and it may hold
    personal data: past that, its row number, reason and message remain (the
    run's counts and the reject file still add up), the values go.
    """
    if older_than_days < 0:
        raise ValidationError("older_than_days", "must be 0 or more")
    with engine.begin() as conn:
        city_id = get_city(conn, city).city_id if city else None
        return conn.execute(
            _FORGET_RAW, {"city": city_id, "days": older_than_days}
        ).rowcount

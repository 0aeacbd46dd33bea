"""The load path: batches -> TEMP staging -> set-wise checks -> upsert.

Why this shape:

* one transaction per batch holds the batch's incidents, events, rejects and
  the run's counters, so a killed load leaves no partial batch, and running
  it again finishes the job (rows are matched by (city, source, external id));
* parsing, reprojection, boundary and category checks, routing, districts and
  registry numbers are single SQL statements over the whole batch, which keeps
  the load close to raw COPY speed;
* two connections work as a pipeline: a helper session stages and checks the
  next batch (into its own TEMP tables) while the main session inserts the
  current one, and hands its result over as binary COPY data.  The helper
  writes nothing permanent, so atomicity stays with the main session's one
  transaction per batch;
* every row read ends up counted once: inserted, updated, unchanged or
  rejected (with its reason and raw values in ``feed_rejects``).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from etl import messages, preflight, sql
from etl.mapping import Mapping, folded
from etl.readers import Batch, Source, open_source
from etl.rejects import RejectsFile
from sesizari.catalog import City, get_city
from sesizari.errors import SesizariError, ValidationError
from sesizari.transactions import run_again_after_deadlock

DEFAULT_BATCH = 20_000
#: How long a load waits for another load of the same source to end.
LOCK_WAIT_SECONDS = 30.0
#: How long the helper session may wait for a table lock before the load
#: fails (the main session waits for the helper, so it must not wait forever).
HELPER_LOCK_TIMEOUT = "60s"



class LoadError(SesizariError):
    """The database refused a batch.  The message names the constraint, never
    the row's values (PostgreSQL's "failing row contains ..." may hold
    personal data, and this text reaches feed_runs.error and the terminal)."""


#: What a run stopped by its operator (Ctrl-C) records (English, Romanian).
INTERRUPTED = ("interrupted (Ctrl-C); the batches committed before are kept: run the same"
               " load again to finish it",
               "întrerupt (Ctrl-C); loturile salvate înainte rămân: rulați din nou același"
               " import pentru a-l termina")
#: The same for a bulk load, which is one transaction: nothing of it stays.
INTERRUPTED_BULK = ("interrupted (Ctrl-C); the bulk load was taken back whole, nothing of it"
                    " is kept: run it again",
                    "întrerupt (Ctrl-C); importul în bloc a fost anulat în întregime, nu a"
                    " rămas nimic din el: rulați-l din nou")


def _by_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` is a Ctrl-C, or what a Ctrl-C led to: cut mid-statement,
    the transaction's rollback fails on the busy connection and that error
    replaces the interruption (which stays in its context)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__context__
    return False


def _safe_error(exc: BaseException) -> str:
    if isinstance(exc, SesizariError):
        return str(exc)  # written for people already: no class name before it
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    if diag is not None and diag.message_primary:
        where = f" (constraint {diag.constraint_name})" if diag.constraint_name else ""
        return f"{type(orig).__name__}: {diag.message_primary}{where}"
    if isinstance(exc, sa.exc.SQLAlchemyError):
        return type(exc).__name__  # its text may quote values
    return f"{type(exc).__name__}: {exc}"


@dataclass
class RunResult:
    """What a load did; ``read == inserted + updated + unchanged + rejected``.

    ``run_id`` is None for a dry run (nothing recorded).
    """

    run_id: int | None
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    #: Bad dates that read with day and month swapped, by the format that
    #: reads them: a sign that the rows loaded have their day and month
    #: swapped too (see :meth:`Loader.reads_day_month_swapped`).
    swapped_formats: Counter[str] = field(default_factory=Counter)
    #: Columns the mapping names that a GIS file lacks (its features' or its
    #: export's fields): empty on every row, which a misspelt name would be too.
    absent_columns: list[str] = field(default_factory=list)
    #: The source's own columns, shown beside ``absent_columns``.
    file_columns: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


ProgressFn = Callable[[int, int], None]  # (rows so far, position in source units)
#: The end of a bulk load, step by step: (what is being done, steps done, steps in all).
StepFn = Callable[[str, int, int], None]


def _stage_row(mapping: Mapping, row: dict[str, str | None]) -> tuple[Any, ...]:
    """The staging columns of one raw row (still text).

    A cell equal to one of the mapping's ``null_values`` stages as empty, so
    that an "NA" closing date reads as "not closed", not as a bad date.
    """
    if mapping.null_values:
        nulls = mapping.null_values
        row = {
            c: None if (v := row.get(c)) is not None and v.strip() in nulls else v
            for c in mapping.columns()
        }
    parts = [row.get(c) for c in mapping.description]
    description = " — ".join(p.strip() for p in parts if p and p.strip()) or None
    return (
        row.get(mapping.external_id),
        row.get(mapping.created),
        row.get(mapping.closed) if mapping.closed else None,
        row.get(mapping.category) if mapping.category else None,
        row.get(mapping.status) if mapping.status else None,
        row.get(mapping.address) if mapping.address else None,
        description,
        row.get(mapping.resolution) if mapping.resolution else None,
        row.get(mapping.lon) if mapping.lon else None,
        row.get(mapping.lat) if mapping.lat else None,
        row.get(mapping.wkt) if mapping.wkt else None,
        row.get(mapping.department) if mapping.department else None,
        row.get(mapping.registry_number) if mapping.registry_number else None,
        row.get(mapping.updated) if mapping.updated else None,
    )


class Loader:
    """One feed run of one file into one city (use :func:`load_file`)."""

    def __init__(self, conn: Connection, city: City, mapping: Mapping, source: Source,
                 name: str, helper: Connection) -> None:
        self.conn = conn
        #: The second session, which prepares the next batch (:meth:`prepare`).
        self.helper = helper
        #: Whether batches are matched to incidents already loaded (not in bulk
        #: mode: there are none, and its transaction locks the table).
        self.match_existing = True
        #: A dry run: each batch is rolled back and nothing is recorded.
        self.dry_run = False
        #: A dry run's rejects of the current batch, (row, reason, message):
        #: they go to a file once the batch is through, not to feed_rejects.
        self.dry_rejects: list[tuple[int, str, str]] = []
        #: The language of a dry run's messages (:data:`etl.messages.LANGUAGES`).
        self.lang = "en"
        self.city = city
        self.mapping = mapping
        self.source = source
        self.name = name
        self.srid = preflight.srid(mapping, source)
        self.params: dict[str, Any] = {
            "c": city.city_id,
            "src": mapping.source,
            "fmt_created": mapping.date_format,
            "fmt_closed": mapping.date_format,
            "fmt_updated": mapping.date_format,
            # Where the file types dates, they arrive as ISO text (Source.typed_dates).
            "iso_created": mapping.created in source.typed_dates,
            "iso_closed": mapping.closed in source.typed_dates,
            "iso_updated": mapping.updated in source.typed_dates,
            "iso_re": sql.ISO_DATE_RE,
            # Naive times: the mapping's zone, else the city's.
            "tz": mapping.timezone or city.timezone,
            "city_tz": city.timezone,
            "srid": self.srid,
            "catmap": json.dumps(mapping.category_map),
            "fallback": mapping.category_fallback,
            "depmap": json.dumps(mapping.department_map),
            "statmap": json.dumps(mapping.status_map),
            "catmap_folded": json.dumps(folded(mapping.category_map)),
            "depmap_folded": json.dumps(folded(mapping.department_map)),
            "statmap_folded": json.dumps(folded(mapping.status_map)),
            "status_default": mapping.status_default,
            "status_from_closed": mapping.status is None,
            "resolution_default": mapping.resolution_default,
            "publish_descriptions": mapping.publish_descriptions,
            "prefix": city.registry_prefix,
            "actor": f"etl:{mapping.source}",
        }

    def date_format(self, column: str | None, value: str | None) -> str:
        """The pattern ``value`` of ``column`` is read with: ISO for a date the
        file typed (Source.typed_dates, sql.ISO_DATE_RE), else the mapping's."""
        if column in self.source.typed_dates and value and messages.ISO_DATE.match(value):
            return "iso"
        return self.mapping.date_format

    # -- run bookkeeping ------------------------------------------------------

    def lock(self, wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
        """One load per (city, source) at a time: concurrent runs would race on ids.

        Waits a little: after a crash (kill -9) the server may need a moment to
        notice the dead client, roll its batch back and release its lock.
        """
        key = {"c": self.city.city_id, "src": self.mapping.source}
        deadline = time.monotonic() + wait_seconds
        while True:
            # The key's function also tells the run list which runs still hold it.
            got = self.conn.execute(
                sa.text("SELECT pg_try_advisory_lock(etl_lock_key(:c, :src))"), key
            ).scalar_one()
            self.conn.commit()
            if got or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if not got:
            raise SesizariError(
                f"Another load of source {self.mapping.source!r} into {self.city.slug} is"
                " running; wait for it to finish (see `python -m etl runs`)."
            )
        self.lock_key = key

    def unlock(self) -> None:
        self.conn.execute(
            sa.text("SELECT pg_advisory_unlock(etl_lock_key(:c, :src))"), self.lock_key
        )
        self.conn.commit()

    def start_run(self) -> int:
        # We hold the source's lock: any run still 'running' died without finishing.
        self.conn.execute(
            sa.text(
                "UPDATE feed_runs SET status = 'aborted', finished_at = now(),"
                " error = etl_aborted_message()"
                " WHERE city_id = :c AND source = :src AND status = 'running'"
            ),
            self.params,
        )
        run_id = self.conn.execute(
            sa.text(
                "INSERT INTO feed_runs (city_id, source, file_name) VALUES (:c, :src, :f)"
                " RETURNING run_id"
            ),
            {**self.params, "f": self.name[:500]},
        ).scalar_one()
        self.conn.commit()
        self.params["run"] = run_id
        return run_id

    def finish_run(
        self,
        status: str,
        error: str | None = None,
        *,
        error_row: int | None = None,
        error_ro: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Record the run's end; a failure's first row and Romanian text go in
        their own columns for the Feeds page (migration 0032).  ``conn``:
        another connection than the load's (one a Ctrl-C cut mid-statement
        cannot send another)."""
        if self.dry_run:
            return  # a dry run records nothing
        conn = conn or self.conn
        conn.execute(
            sa.text(
                "UPDATE feed_runs SET status = :s, finished_at = now(), error = :e,"
                " error_row = :row, error_ro = :ro"
                " WHERE city_id = :c AND run_id = :run"
            ),
            {
                **self.params,
                "s": status,
                "e": error[:5000] if error else None,
                "row": error_row,
                "ro": error_ro[:5000] if error_ro else None,
            },
        )
        conn.commit()

    # -- one batch ----------------------------------------------------------------

    def create_temp_tables(self) -> None:
        main = sql.WORK_TABLES
        if self.mapping.registry_number is not None:
            main += sql.DRY_NUMBERS_TABLES
        for conn, tables in (
            (self.conn, main),
            (self.helper, sql.WORK_TABLES + sql.HELPER_TABLES),
        ):
            for stmt in tables:
                conn.execute(sa.text(stmt))
            conn.commit()
        self.params["id_seq"] = self.conn.execute(sa.text(sql.INCIDENT_ID_SEQUENCE)).scalar_one()
        self.conn.commit()

    def stage_rows(self, batch: Batch) -> list[tuple[Any, ...]]:
        """The batch's rows as ``etl_stage`` rows (pure Python: runs in the reader thread)."""
        mapping = self.mapping
        geoms = batch.geometries
        return [
            (batch.number(i), *_stage_row(mapping, row),
             geoms[i] if geoms is not None else None, batch.problems[i])
            for i, row in enumerate(batch.rows)
        ]

    def prepare(self, batch: Batch) -> bytes:
        """Stage, parse, check, classify and route one batch on the helper
        session; return its ``etl_work`` rows as binary COPY data.

        Runs in the read-ahead thread, one batch ahead of :meth:`process`.
        Its transaction only fills TEMP tables (emptied at its commit) and the
        run's list of external ids seen, so it can run while the main session
        inserts the previous batch.  A database error is tagged with the
        batch's first row, for the message of the failed load.
        """
        conn = self.helper
        try:
            with conn.begin():
                self._check(conn, self.stage_rows(batch))
                return _copy_out(conn, sql.COPY_WORK_OUT)
        except BaseException as exc:
            exc.etl_first_row = batch.first_row  # type: ignore[attr-defined]
            raise

    def _check(self, conn: Connection, staged: list[tuple[Any, ...]]) -> None:
        """Stage rows and parse, check, classify and route them into ``etl_work``."""
        _copy_in(conn, sql.COPY_STAGE, rows=staged)
        # Temp tables have no statistics until analysed: without them the
        # planner guesses nested loops that grow with the square of the batch.
        # The row count is what its plan needs (the joins are on expressions,
        # which column statistics do not describe): one cheap column gives it
        # (5 ms per 20,000 rows instead of 80 ms for all columns, same plan).
        conn.execute(sa.text("ANALYZE etl_stage (source_row)"))
        conn.execute(
            sa.text(sql.work_insert(self.mapping, self.match_existing)), self.params
        )

    def process(self, batch: Batch, result: RunResult, work: bytes) -> None:
        """Load one batch in the current transaction (the caller commits).

        ``work``: the batch's :meth:`prepare` result.
        """
        conn, p = self.conn, self.params
        _copy_in(conn, sql.COPY_WORK_IN, data=work)
        conn.execute(sa.text("ANALYZE etl_work (ext, reason, incident_id)"))
        keep_numbers = self.mapping.registry_number is not None
        if keep_numbers:
            conn.execute(sa.text(sql.CHECK_REGISTRY_NUMBERS), p)
        rejects = conn.execute(sa.text(sql.SELECT_REJECTS)).all()
        if rejects:
            self.write_rejects(batch, rejects, result)
        insert_new = sql.INSERT_NEW_KEEP_NUMBERS if keep_numbers else sql.INSERT_NEW
        inserted = conn.execute(sa.text(insert_new), p).rowcount
        # A bulk load matches nothing (its source has no incidents yet).
        updated = (conn.execute(sa.text(sql.UPDATE_CHANGED), p).rowcount
                   if self.match_existing else 0)
        good, watermark = conn.execute(sa.text(sql.BATCH_SUMMARY)).one()
        n = len(batch.rows)
        counts = {
            "read": n,
            "ins": inserted,
            "upd": updated,
            "unch": good - inserted - updated,
            "rej": len(rejects),
            "wm": watermark,
        }
        if counts["unch"] < 0 or good + len(rejects) != n:
            # Never expected; refusing the batch beats recording wrong counts.
            raise RuntimeError(f"batch at row {batch.first_row}: counts do not add up ({counts})")
        if not self.dry_run:
            conn.execute(sa.text(sql.UPDATE_RUN_COUNTS), {**p, **counts})
        result.read += n
        result.inserted += inserted
        result.updated += updated
        result.unchanged += counts["unch"]
        result.rejected += len(rejects)

    # -- bulk mode ------------------------------------------------------------------

    def refuse_bulk_if_loaded(self) -> None:
        """A bulk load is only a source's first import into a city."""
        if self.conn.execute(sa.text(sql.SOURCE_HAS_INCIDENTS), self.params).scalar_one():
            raise ValidationError(
                "bulk",
                f"{self.city.slug} already has incidents from source {self.mapping.source!r};"
                " bulk mode is only for the first import of a source into a city."
                " Load without --bulk.",
            )

    def bulk_prepare(self) -> list[tuple[str, str]]:
        """Set incidents and incident_events up for a bulk load (in the load's
        transaction) and return the statements that put them back, each
        with what it does.

        Updating the GiST and btree indexes is the largest per-row cost of an
        insert; building each index once over the whole table is far cheaper
        for a large history, so the non-unique ones are dropped.  Unique
        indexes stay: they guard the registry numbers and the (city, source,
        external id) key during the load.  The foreign keys between the two
        tables are checked once at the end (``BULK_DEFERRED_KEYS``), and the
        rollups are rebuilt for the city at the end instead of upserted per
        batch (``BULK_ROLLUPS``).  Dropping an index takes the tables'
        ``ACCESS EXCLUSIVE`` lock, which the rest needs no more than.
        """
        conn = self.conn
        self.refuse_bulk_if_loaded()
        restore = []
        for name, drop_stmt, create_stmt in conn.execute(sa.text(sql.BULK_DEFERRABLE)).all():
            conn.execute(sa.text(drop_stmt))
            restore.append((f"index {name}", create_stmt))
        for name, drop_stmt, add_stmt in conn.execute(sa.text(sql.BULK_DEFERRED_KEYS)).all():
            conn.execute(sa.text(drop_stmt))
            restore.append((f"foreign key {name}", add_stmt))
        for trigger in sql.BULK_ROLLUPS:
            # Names from the fixed table in etl/sql.py, never from input.
            conn.execute(sa.text(f"ALTER TABLE incidents DISABLE TRIGGER {trigger}"))
            restore.append(
                (f"trigger {trigger}", f"ALTER TABLE incidents ENABLE TRIGGER {trigger}")
            )
        return restore

    def bulk_finish(self, restore: list[tuple[str, str]], on_step: StepFn | None = None) -> None:
        """Rebuild the indexes, check the foreign keys, turn the rollups'
        triggers back on, rebuild the city's rollups and the tables'
        statistics (a failure refuses the whole bulk load).  ``on_step`` hears
        of each step before it runs: on a large table they take minutes."""
        # Names from the fixed table in etl/sql.py, never from input.
        steps = [
            *restore,
            *((f"rollup {f}", f"SELECT {f}(:c)") for f in sql.BULK_ROLLUPS.values()),
            ("statistics of incidents", "ANALYZE incidents"),
            ("statistics of incident_events", "ANALYZE incident_events"),
        ]
        for done, (what, stmt) in enumerate(steps):
            if on_step:
                on_step(what, done, len(steps))
            self.conn.execute(sa.text(stmt), self.params)
        if on_step:
            on_step("done", len(steps), len(steps))

    def _hint_rows(self, statement: str, batch: Batch, numbers: list[int]) -> list[Any]:
        """Run a hint query (``sql.SWAPPED_INSIDE``, ``sql.STEREO70_INSIDE``)
        over the batch rows ``numbers``.  In a savepoint, and an error gives
        no hint: a message's extra advice must never cost the batch."""
        m = self.mapping
        rows = [batch.rows[batch.index(n)] for n in numbers]
        geoms = batch.geometries
        params = {
            "c": self.city.city_id,
            "srid": self.srid,
            "n": numbers,
            "x": [r.get(m.lon) for r in rows] if m.lon else None,
            "y": [r.get(m.lat) for r in rows] if m.lat else None,
            "wkt": [r.get(m.wkt) for r in rows] if m.wkt else None,
            "wkb": [geoms[batch.index(n)] for n in numbers] if geoms is not None else None,
        }
        return self._query_rows(statement, params)

    def _query_rows(self, statement: str, params: dict[str, Any]) -> list[Any]:
        """The rows of a hint query, in a savepoint; an error gives no rows."""
        try:
            with self.conn.begin_nested():
                return list(self.conn.execute(sa.text(statement), params).all())
        except sa.exc.DBAPIError:
            return []

    def swapped_inside(self, batch: Batch, numbers: list[int]) -> set[int]:
        """Those of the rows ``numbers`` (outside the city) whose point, with its
        two coordinates swapped, falls inside: latitude given before
        longitude, or Stereo 70 northing before easting, is the usual cause
        of a whole file outside the city, and the message can say so."""
        if not numbers:
            return set()
        statement = sql.SWAPPED_INSIDE[sql.geometry_kind(self.mapping)]
        return {n for (n,) in self._hint_rows(statement, batch, numbers)}

    def stereo70_inside(self, batch: Batch, numbers: list[int]) -> dict[int, bool]:
        """Those of the rows ``numbers`` (bad coordinates under EPSG:4326)
        whose coordinates are Stereo 70 metres inside the city: row ->
        whether as given (else swapped).  A Romanian export in the national
        grid loaded with the default crs (or a Shapefile without its .prj)
        fails every row, and the message can name the fix."""
        kind = sql.geometry_kind(self.mapping)
        if not numbers or self.srid != 4326 or (kind == "file" and self.source.crs):
            return {}
        return dict(self._hint_rows(sql.STEREO70_INSIDE[kind], batch, numbers))

    def reads_day_month_swapped(self, batch: Batch,
                                rejects: list[tuple[int, str]]) -> dict[int, str]:
        """Of the bad-date rows (row, 'created' or 'closed'), those whose value
        is a date in the mapping's format with day and month swapped: row ->
        that format.  A day-first export read with a month-first pattern
        (or the reverse) fails only its days past 12; the rest loads with
        day and month swapped, so the message must say it."""
        m = self.mapping
        todo: list[tuple[int, str, str]] = []
        for n, fld in rejects:
            col = {"closed": m.closed, "updated": m.updated}.get(fld, m.created)
            value = batch.rows[batch.index(n)].get(col or "") or ""
            other = messages.day_month_swapped(self.date_format(col, value))
            if other:
                todo.append((n, value, other))
        if not todo:
            return {}
        formats = {n: f for n, _v, f in todo}
        found = self._query_rows(sql.READS_WITH, {
            "n": [n for n, _v, _f in todo], "v": [v for _n, v, _f in todo],
            "f": [f for _n, _v, f in todo], "tz": m.timezone or self.city.timezone,
        })
        return {n: formats[n] for (n,) in found}

    def write_rejects(self, batch: Batch, rejects: list[Any], result: RunResult) -> None:
        """The batch's rejects into feed_rejects (a dry run: into ``dry_rejects``)."""
        out = []
        swapped = self.swapped_inside(
            batch, [r for r, reason, *_ in rejects if reason == "outside_boundary"])
        stereo70 = self.stereo70_inside(
            batch, [r for r, reason, *_ in rejects if reason == "bad_coordinates"])
        reads_with = self.reads_day_month_swapped(
            batch, [(r, fld) for r, reason, fld, *_ in rejects if reason == "bad_date"])
        result.swapped_formats.update(reads_with.values())
        for source_row, reason, fld, length, status in rejects:
            at = batch.index(source_row)
            row = batch.rows[at]
            formats = {c: self.date_format(c, row.get(c or ""))
                       for c in (self.mapping.created, self.mapping.closed, self.mapping.updated)}
            detail = {
                "field": fld,
                "length": length,
                "status": status,
                "problem": batch.problems[at],
                "swapped": source_row in swapped,
                "stereo70": stereo70.get(source_row),
                "reads_with": reads_with.get(source_row),
            }
            text = {lang: messages.message(reason, row, self.mapping, self.city, self.srid,
                                           detail, formats, lang)
                    for lang in messages.LANGUAGES}
            ext = row.get(self.mapping.external_id)
            if self.source.rows_by_id and ext:
                text = {lang: f"{self.mapping.external_id} {ext[:100]!r}: {said}"
                        for lang, said in text.items()}
            out.append((source_row, reason, text, row))
            result.reasons[reason] += 1
        if self.dry_run:
            self.dry_rejects.extend((r, reason, m[self.lang]) for r, reason, m, _ in out)
            return
        dbapi = self.conn.connection.driver_connection
        assert dbapi is not None
        # Only the columns the mapping reads: what fixing and reloading the row
        # needs.  The rest of a source row (a petitioner's name, phone or CNP
        # in an export) is personal data the load never used.
        kept = self.mapping.columns()
        with dbapi.cursor() as cur, cur.copy(sql.COPY_REJECTS) as cp:
            for source_row, reason, text, row in out:
                raw = {c: v for c, v in row.items() if c in kept}
                cp.write_row(
                    (self.city.city_id, self.params["run"], source_row, reason, text["en"],
                     text["ro"], json.dumps(raw, ensure_ascii=False))
                )


def _commit_batch(conn: Connection, loader: Loader, batch: Batch, result: RunResult,
                  work: bytes) -> None:
    """One batch in its own transaction, run again if PostgreSQL cancels it for a
    deadlock (:mod:`sesizari.transactions`): its insert holds the registry
    counter while it waits for rollup rows, which a citizen's report may hold
    while it waits for the counter.  The rolled-back attempt left nothing in
    the database; its counts are taken back here.  A dry run rolls every
    batch back.
    """

    def attempt() -> None:
        before = replace(result, reasons=Counter(result.reasons))
        loader.dry_rejects.clear()
        numbers: list[str] = []
        try:
            with conn.begin() as tx:
                loader.process(batch, result, work)
                if loader.dry_run:
                    if loader.mapping.registry_number is not None:
                        numbers = list(conn.execute(sa.text(sql.NEW_NUMBERS)).scalars())
                    tx.rollback()  # a dry run: checked and inserted, then taken back
            if numbers:
                with conn.begin():
                    conn.execute(sa.text(sql.REMEMBER_NUMBERS), {"numbers": numbers})
        except BaseException:
            for f in fields(RunResult):
                setattr(result, f.name, getattr(before, f.name))
            raise

    run_again_after_deadlock(attempt, f"the batch from row {batch.first_row}")


def _copy_in(conn: Connection, statement: str, *, rows: list[tuple[Any, ...]] | None = None,
             data: bytes | None = None) -> None:
    """``COPY ... FROM STDIN`` of Python rows (text format) or of raw COPY data."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur, cur.copy(statement) as cp:
        if data is not None:
            cp.write(data)
        for values in rows or ():
            cp.write_row(values)


def _copy_out(conn: Connection, statement: str) -> bytes:
    """The whole output of ``COPY ... TO STDOUT`` (one batch: a few MB)."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur, cur.copy(statement) as cp:
        return b"".join(bytes(block) for block in cp)


_T = TypeVar("_T")
_DONE = object()


def read_ahead(batches: Iterator[Batch],
               prepare: Callable[[Batch], _T]) -> Iterator[tuple[Batch, _T]]:
    """``(batch, prepare(batch))`` for each batch, prepared one batch ahead in a thread.

    Reading the next batch and preparing it (in a load: staging and checking
    it on the helper session) then overlaps with the main session's insert of
    the current one instead of adding to it; a thread waiting on a database
    socket does not hold the interpreter lock.  At most one prepared batch
    waits in the queue, so memory stays flat.  An error of the reader (a bad
    encoding further down the file) is raised here, after the batches before
    it, as without the thread.  Closing this generator early stops the thread.
    """
    out: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for batch in batches:
                if not put((batch, prepare(batch))):
                    return
            put(_DONE)
        except BaseException as exc:  # handed over to the consumer, raised there
            put(exc)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=work, name="etl-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def load_file(
    engine: Engine,
    path: Path,
    city: str,
    mapping: Mapping,
    *,
    batch_size: int = DEFAULT_BATCH,
    encoding: str | None = None,
    delimiter: str | None = None,
    on_progress: ProgressFn | None = None,
    on_start: Callable[[Source], None] | None = None,
    bulk: bool = False,
    on_step: StepFn | None = None,
    name: str | None = None,
    layer: str | None = None,
    dry_run: bool = False,
    rejects_csv: Path | None = None,
    lang: str = "en",
) -> RunResult:
    """Load ``path`` into ``city`` with ``mapping``; record the run; return its counts.

    ``name``: what the run records as its file (default the file's name; a
    downloaded file records its URL).

    ``layer``: the layer or sheet of a GIS file or spreadsheet (default: the first).

    ``dry_run``: check the file against the city without keeping anything:
    each batch goes through the checks and inserts of a load, then is rolled
    back; no run is recorded.  The counts are what a load would do now.
    Its rejects go to ``rejects_csv`` (if given; written even when empty),
    not to feed_rejects, with their messages in ``lang`` (a load keeps
    them in feed_rejects in every language of :data:`etl.messages.LANGUAGES`).

    ``bulk``: the first import of a source into a city, in one transaction
    with the secondary indexes of incidents and incident_events, the keys
    between them and the rollups' triggers set aside during the load and
    put back at its end (``on_step`` hears of each step of that end).
    Refused when the city already has incidents from the source.  It locks
    both tables for every city until it ends (see README, ETL feeds).

    Raises :class:`ValidationError` before anything is written when the file,
    mapping or city do not fit together.  A failure during the load marks the
    run 'failed'; the batches committed before it stay, and loading the same
    file again completes the job.
    """
    source = open_source(path, encoding or mapping.encoding, delimiter or mapping.delimiter,
                         layer)
    return load_source(
        engine, source, name or path.name, city, mapping, batch_size=batch_size,
        on_progress=on_progress, on_start=on_start, bulk=bulk, on_step=on_step,
        dry_run=dry_run,
        rejects_csv=rejects_csv,
        lang=lang,
    )


def load_source(
    engine: Engine,
    source: Source,
    name: str,
    city: str,
    mapping: Mapping,
    *,
    batch_size: int = DEFAULT_BATCH,
    on_progress: ProgressFn | None = None,
    on_start: Callable[[Source], None] | None = None,
    bulk: bool = False,
    on_step: StepFn | None = None,
    dry_run: bool = False,
    rejects_csv: Path | None = None,
    lang: str = "en",
) -> RunResult:
    """:func:`load_file` for any opened :class:`Source` (a file, an Open311 endpoint)."""
    if batch_size < 1:
        raise ValidationError("batch_size", "must be at least 1")
    if bulk and dry_run:
        raise ValidationError("dry_run", "a dry run checks a normal load: leave out --bulk")
    if lang not in messages.LANGUAGES:
        raise ValidationError("lang", f"use one of {', '.join(messages.LANGUAGES)}")
    absent = preflight.check_columns(source, mapping, name)
    with engine.connect() as conn, engine.connect() as helper:
        city_row = get_city(conn, city)
        preflight.check_targets(conn, city_row, mapping)
        preflight.check_crs(conn, preflight.srid(mapping, source),
                            mapping.file_geometry and source.crs is not None)
        for session in (conn, helper):
            # The SQL helpers read wall times in the session zone: make it UTC.
            session.execute(sa.text("SET timezone TO 'UTC'"))
            # The batch statements look expensive to the planner (function
            # calls) but run in milliseconds: JIT would cost more than it saves.
            session.execute(sa.text("SET jit TO off"))
            session.commit()
        # The main session waits for the helper: a lock the helper cannot get
        # must end the load with an error, never leave both waiting.
        helper.execute(sa.text("SELECT set_config('lock_timeout', :t, false)"),
                       {"t": HELPER_LOCK_TIMEOUT})
        helper.commit()
        loader = Loader(conn, city_row, mapping, source, name, helper)
        # The same lock as a load: a dry run beside a load of the same
        # source would count rows that the load is changing.
        loader.lock()
        # A dry run's file is always written (only a header when nothing is
        # rejected): its fixed default name must not keep an earlier run's rows.
        out = (RejectsFile(rejects_csv, always=True)
               if dry_run and rejects_csv is not None else None)
        try:
            loader.lang = lang
            if dry_run:
                loader.dry_run = True
                loader.params["run"] = None
                result = RunResult(None)
            else:
                if bulk:  # refused before a run is recorded (checked again, locked, below)
                    loader.refuse_bulk_if_loaded()
                    conn.commit()
                result = RunResult(loader.start_run())
            result.absent_columns, result.file_columns = absent, list(source.columns)
            loader.create_temp_tables()
            if on_start:
                on_start(source)
            started = time.perf_counter()
            first_row = 1
            try:
                if bulk:
                    # The helper must not touch incidents, which this
                    # transaction locks; a first import has none to match.
                    loader.match_existing = False
                    with conn.begin():
                        restore = loader.bulk_prepare()
                        for batch, work in read_ahead(source.batches(batch_size),
                                                      loader.prepare):
                            first_row = batch.first_row
                            loader.process(batch, result, work)
                            # One transaction: ON COMMIT DELETE ROWS does not empty these.
                            conn.execute(sa.text(sql.CLEAR_BATCH))
                            if on_progress:
                                on_progress(result.read, batch.position)
                        loader.bulk_finish(restore, on_step)
                else:
                    for batch, work in read_ahead(source.batches(batch_size),
                                                  loader.prepare):
                        first_row = batch.first_row
                        _commit_batch(conn, loader, batch, result, work)
                        # Committed: a stop from here on is the next batch's.
                        first_row = batch.number(len(batch.rows) - 1) + 1 if batch.rows \
                            else first_row
                        if out is not None:
                            for reject in loader.dry_rejects:
                                out.write(*reject)
                        if on_progress:
                            on_progress(result.read, batch.position)
                    if out is not None:
                        out.close()
            except BaseException as exc:
                # An error of the helper session names the batch it prepared.
                first_row = getattr(exc, "etl_first_row", first_row)
                interrupted = _by_ctrl_c(exc)
                said, said_ro = INTERRUPTED_BULK if bulk else INTERRUPTED
                error = said if interrupted else _safe_error(exc)
                ended = "aborted" if interrupted else "failed"
                ending = {
                    # A bulk load is taken back whole: no row to resume from.
                    "error_row": None if interrupted and bulk else first_row,
                    "error_ro": said_ro if interrupted
                    else exc.ro if isinstance(exc, SesizariError) else None,
                }
                try:
                    conn.rollback()
                    loader.finish_run(ended, error, **ending)
                except Exception:
                    # A statement cut short (Ctrl-C) leaves the connection unable
                    # to send another: drop it (its lock and open batch go with
                    # it) and record the end on a new one.
                    try:
                        conn.invalidate()
                        with engine.connect() as fresh:
                            loader.finish_run(ended, error, conn=fresh, **ending)
                    except Exception:  # the original error matters more: raised below
                        pass
                if out is not None:
                    out.abort()
                if interrupted:
                    stop = KeyboardInterrupt()
                    if not dry_run:
                        # For the command line to say what is kept (bulk: nothing).
                        stop.etl_rows_kept = 0 if bulk else result.read  # type: ignore[attr-defined]
                    raise stop from None
                if isinstance(exc, sa.exc.DBAPIError) and dry_run:
                    raise LoadError(
                        f"the batch from row {first_row} was refused by the database ({error});"
                        " a load would stop there too. Nothing was written (dry run)."
                    ) from None
                if isinstance(exc, sa.exc.DBAPIError) and bulk:
                    raise LoadError(
                        f"the bulk load was refused by the database ({error}); nothing was"
                        " loaded. Fix the cause and run it again."
                    ) from None
                if isinstance(exc, sa.exc.DBAPIError):
                    raise LoadError(
                        f"the batch from row {first_row} was refused by the database ({error});"
                        f" the {result.read} rows before it are loaded. Fix the cause and"
                        " run the same load again: loaded rows will be found unchanged."
                    ) from None
                raise
            result.seconds = time.perf_counter() - started
            loader.finish_run("succeeded")
        finally:
            try:
                loader.unlock()
                # The connections go back to the pool: leave no setting behind.
                for session in (conn, helper):
                    session.execute(sa.text("RESET ALL"))
                    session.commit()
            except Exception:  # a dead connection releases its lock by itself
                pass
    return result


__all__ = [
    "DEFAULT_BATCH",
    "LoadError",
    "RunResult",
    "load_file",
    "load_source",
]

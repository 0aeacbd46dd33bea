"""The dashboard's filter state and the one SQL fragment that applies it.

Every analytics query starts from the same filtered set of incidents (the CTE
``f`` built by :func:`filtered_sql`), so a figure on one page can never be
computed over a different population than the figure next to it.  Filter
values only ever travel as bound parameters; the SQL text is assembled from
module constants alone, never from user input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from psycopg.adapt import Loader
from psycopg.pq import Format
from sqlalchemy.engine import Connection, Engine

from sesizari.errors import ValidationError
from sesizari.vocab import OPEN_STATUSES

Bind = Engine | Connection

#: The statuses counted as open, as plain strings for SQL parameters.
OPEN = [s.value for s in OPEN_STATUSES]


def _as_tuple(value: Iterable[str] | str | None, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    out = tuple(value)
    for item in out:
        if not isinstance(item, str):
            raise ValidationError(
                name,
                f"expected text values, got {item!r}",
                ro=f"se așteaptă valori text; valoarea primită: {item!r}",
            )
        _no_nul(item, name)
    return out


def _no_nul(value: str, name: str) -> None:
    # PostgreSQL text cannot hold NUL: refuse it here, with the field's name,
    # rather than let the database raise an error mid-page.
    if "\x00" in value:
        raise ValidationError(
            name, "a value contains a NUL character", ro="o valoare conține caracterul NUL"
        )


@dataclass(frozen=True)
class Filters:
    """What the user selected, plus the access scope of who is looking.

    Parameters
    ----------
    city:
        City slug (required): every figure belongs to exactly one city.
    start, end:
        Half-open range ``[start, end)`` of *local* dates (the city's time zone)
        on the incident's creation time; either may be None (unbounded).
    categories, departments, statuses, districts:
        Codes (categories, departments), status values and district names.
        Empty means "no restriction", as an empty multiselect does in the UI.
    department:
        Access scope: a department head sees only their department's incidents,
        whatever the other filters say.  None for city-wide roles.
    """

    city: str
    start: date | None = None
    end: date | None = None
    categories: tuple[str, ...] = field(default=())
    departments: tuple[str, ...] = field(default=())
    statuses: tuple[str, ...] = field(default=())
    districts: tuple[str, ...] = field(default=())
    department: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.city, str) or not self.city.strip():
            raise ValidationError("city", "a city slug is required", ro="alegeți orașul")
        _no_nul(self.city, "city")
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, datetime):
                # A datetime is a date subclass; keep the calendar day only.
                object.__setattr__(self, name, value.date())
            elif value is not None and not isinstance(value, date):
                raise ValidationError(
                    name,
                    f"expected a date, got {value!r}",
                    ro=f"se așteaptă o dată calendaristică; valoarea primită: {value!r}",
                )
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValidationError(
                "end",
                f"the range is empty: end {self.end} is not after start {self.start}",
                ro=f"intervalul este gol: data de sfârșit {self.end} nu este după"
                f" data de început {self.start}; alegeți o dată de sfârșit ulterioară",
            )
        for name in ("categories", "departments", "statuses", "districts"):
            object.__setattr__(self, name, _as_tuple(getattr(self, name), name))
        if self.department is not None and not isinstance(self.department, str):
            raise ValidationError(
                "department",
                f"expected a department code, got {self.department!r}",
                ro=f"se așteaptă codul unui compartiment; valoarea primită: {self.department!r}",
            )
        if self.department is not None:
            _no_nul(self.department, "department")

    def without_dates(self) -> Filters:
        """The same filters over all time (for figures with their own time window)."""
        return replace(self, start=None, end=None)

    def params(self) -> dict[str, Any]:
        """Bound parameters of :data:`FILTERED_CTE` (None = no restriction)."""
        return {
            "city": self.city,
            "start": self.start,
            "end": self.end,
            "cats": list(self.categories) or None,
            "deps": list(self.departments) or None,
            "statuses": list(self.statuses) or None,
            "districts": list(self.districts) or None,
            "scope_dep": self.department,
            # The city's time zone, filled in by read_frame (see _SESSION).
            "tz": None,
        }


#: The filters on category, department, status and district, written for a
#: table alias ``{t}``: the same conditions for the incidents (``f``) and for
#: the rollups (``r``, ``rd``), so all of them select the same population.
_DIMENSIONS = """
      AND (CAST(:cats AS text[]) IS NULL OR {t}.category_id = ANY(ARRAY(
            SELECT x.category_id FROM categories x JOIN cities y ON y.city_id = x.city_id
            WHERE y.slug = :city AND x.code = ANY(CAST(:cats AS text[])))))
      AND (CAST(:deps AS text[]) IS NULL OR {t}.department_id = ANY(ARRAY(
            SELECT x.department_id FROM departments x JOIN cities y ON y.city_id = x.city_id
            WHERE y.slug = :city AND x.code = ANY(CAST(:deps AS text[])))))
      AND (CAST(:statuses AS text[]) IS NULL OR {t}.status = ANY(CAST(:statuses AS text[])))
      AND (CAST(:districts AS text[]) IS NULL OR {t}.district_id = ANY(ARRAY(
            SELECT x.district_id FROM districts x JOIN cities y ON y.city_id = x.city_id
            WHERE y.slug = :city AND x.name = ANY(CAST(:districts AS text[])))))
      AND (CAST(:scope_dep AS text) IS NULL OR {t}.department_id = ANY(ARRAY(
            SELECT x.department_id FROM departments x JOIN cities y ON y.city_id = x.city_id
            WHERE y.slug = :city AND x.code = CAST(:scope_dep AS text))))"""

#: The fixed sample of migration 0015: one incident in :data:`SAMPLE_RATE`,
#: chosen by a hash of its id.  Written exactly as the predicate of
#: ``incidents_sample_idx`` (``& 7``), so that PostgreSQL reads the sample
#: through it; ``tests/test_queries_resolution.py`` checks that it does.
SAMPLE_RATE = 8
SAMPLE_PREDICATE = f"(hashint8extended(i.incident_id, 0) & {SAMPLE_RATE - 1}) = 0"

_CITY = """
city AS (
    SELECT city_id, timezone, boundary FROM cities WHERE slug = :city
)"""

#: ``city`` (one row: the selected city) and ``f`` (its filtered incidents,
#: with their category, department and district).  No personal data:
#: contacts are never joined, descriptions never selected.
#:
#: The filters compare the incidents' own ids with the ids of the selected
#: codes and names (each looked up once, uncorrelated, in a small table), and
#: the names come from LEFT JOINs on the dimensions' primary keys.  So a query
#: that reads no category, department or district column of ``f`` does not
#: join those tables at all: PostgreSQL removes a left join to a unique key
#: whose columns nobody reads.  The result is the same as with inner joins
#: (``category_id`` and ``department_id`` are NOT NULL foreign keys), and a
#: whole-city trend no longer pays three hash joins per incident (measured at
#: 580,000 incidents: ``daily_trend`` 660 ms -> 355 ms).
#:
#: The date range starts and ends at local midnights in the city's zone,
#: ``:tz``, which :func:`read_frame` reads with the session settings: a bound
#: value lets PostgreSQL estimate how many incidents the range selects.  Read
#: from the ``city`` row instead, the bounds are unknown when the query is
#: planned, every range looks like a few hundred incidents, and a range over
#: a whole city's history got plans made for a few hundred (clusters of
#: 580,000 incidents: 600 -> 360 ms).  Without ``:tz`` (None) the city row's
#: zone is used: the same rows.
#:
#: The city's id and zone are sub-selects of the one-row ``city``, not a join
#: with it: joined, every incident passed through a nested loop that kept
#: only its columns, so a value an index stores already computed (the hours
#: to resolve in ``incidents_resolved_idx``, migration 0021) was computed
#: again above it.
_F_HEAD = """
f AS (
    SELECT i.incident_id, i.registry_number, i.status, i.geom, i.x3844, i.y3844, i.hex250,
           i.created_at, i.acknowledged_at, i.resolved_at,
           i.category_id, i.department_id, i.district_id,
           c.code AS category_code, c.name_ro AS category_ro, c.name_en AS category_en,
           CAST(c.target_hours AS float8) AS target_hours, c.sensitive,
           d.code AS department_code, d.name_ro AS department_ro, d.name_en AS department_en,
           di.name AS district, (SELECT timezone FROM city) AS tz
    FROM incidents i
    LEFT JOIN categories c ON c.city_id = i.city_id AND c.category_id = i.category_id
    LEFT JOIN departments d ON d.city_id = i.city_id AND d.department_id = i.department_id
    LEFT JOIN districts di ON di.city_id = i.city_id AND di.district_id = i.district_id
    WHERE i.city_id = (SELECT city_id FROM city)
      AND (CAST(:start AS date) IS NULL
           OR i.created_at >= (CAST(:start AS date) + time '00:00') AT TIME ZONE
                              COALESCE(CAST(:tz AS text), (SELECT timezone FROM city)))
      AND (CAST(:end AS date) IS NULL
           OR i.created_at < (CAST(:end AS date) + time '00:00') AT TIME ZONE
                             COALESCE(CAST(:tz AS text), (SELECT timezone FROM city)))"""
_F = _F_HEAD + _DIMENSIONS.format(t="i")

#: ``city`` and ``f`` as one piece (the first read of :func:`filtered_sql`).
FILTERED_CTE = _CITY + "," + _F + "\n)\n"

#: The sums of the rollups (migration 0015), the same in both tables.
ROLLUP_SUMS = (
    "n", "n_acknowledged", "ack_sum_h", "n_resolved", "resolve_sum_h", "n_within",
    "resolved_lt_4h", "resolved_4_8h", "resolved_8_24h", "resolved_1_2d", "resolved_2_3d",
    "resolved_3_7d", "resolved_7_14d", "resolved_14_30d", "resolved_gt_30d",
)  # fmt: skip
_KEYS = ("category_id", "department_id", "district_id", "status")

#: ``rd``: the daily rollup rows (``incident_daily``) of the same selection
#: as ``f``, with their local ``day``, for figures that split a selection by
#: day or week.  Every filter is a key of the rollup and the dates are local
#: days, so counts and sums over ``rd`` are exactly those over ``f``, from
#: about a seventh of the rows.
_RD_HEAD = """
rd AS (
    SELECT d.* FROM city JOIN incident_daily d ON d.city_id = city.city_id
    WHERE (CAST(:start AS date) IS NULL OR d.day >= CAST(:start AS date))
      AND (CAST(:end AS date) IS NULL OR d.day < CAST(:end AS date))"""
_RD = _RD_HEAD + _DIMENSIONS.format(t="d") + "\n)"

#: ``r``: the same selection's sums without the day: the monthly rollup's
#: rows for the months wholly inside the date range (every month when there
#: is none), and the daily rows of the days outside those months.  The same
#: sums as ``rd`` from about a fourteenth of its rows (Alba Iulia's whole
#: history: 78,597 daily rows, 5,748 monthly; 36 -> 4-6 ms).
_WHOLE_MONTH = """
      AND (CAST(:start AS date) IS NULL OR {m} >= CAST(:start AS date))
      AND (CAST(:end AS date) IS NULL
           OR CAST({m} + interval '1 month' AS date) <= CAST(:end AS date))"""
_R = (
    "\nr AS (\n    SELECT "  # noqa: S608 - constants of this module; values are bound parameters
    + ", ".join(f"m.{c}" for c in (*_KEYS, *ROLLUP_SUMS))
    + "\n    FROM city JOIN incident_monthly m ON m.city_id = city.city_id\n    WHERE true"
    + _WHOLE_MONTH.format(m="m.month")
    + _DIMENSIONS.format(t="m")
    + "\n    UNION ALL\n    SELECT "
    + ", ".join(f"d.{c}" for c in (*_KEYS, *ROLLUP_SUMS))
    + "\n    FROM city JOIN incident_daily d ON d.city_id = city.city_id"
    + "\n    WHERE (CAST(:start AS date) IS NOT NULL OR CAST(:end AS date) IS NOT NULL)"
    + "\n      AND (CAST(:start AS date) IS NULL OR d.day >= CAST(:start AS date))"
    + "\n      AND (CAST(:end AS date) IS NULL OR d.day < CAST(:end AS date))"
    + "\n      AND NOT (true"
    + _WHOLE_MONTH.format(m="CAST(date_trunc('month', CAST(d.day AS timestamp)) AS date)")
    + ")"
    + _DIMENSIONS.format(t="d")
    + "\n)"
)

ROLLUP_CTE = _CITY + "," + _R + "\n"


def filtered_sql(
    body: str,
    reads: int = 1,
    sampled: Iterable[int] = (),
    daily: bool = False,
) -> sa.TextClause:
    """``WITH city, f AS (...) <body>``: a query over the filtered incidents.

    With ``reads`` > 1, the same filtered set is also defined as ``f2``,
    ``f3``..., for a query that reads it in several different ways (by
    creation week and by resolution week; or the open, the recent and the
    recently resolved incidents, each through its own index).  Each CTE read
    once is inlined by PostgreSQL, and the body's conditions reach the index
    scan; one CTE read twice would be materialised whole, which at city scale
    spills to disk and costs more than a second index scan.

    ``sampled`` lists the reads (1 for ``f``, 2 for ``f2``...) that hold only
    the fixed sample (:data:`SAMPLE_PREDICATE`), read through its own index.
    With ``daily``, the query also has ``rd``, the selection's rows of the
    daily rollup, with their ``day``.

    Both pieces are constants of this package; user values are bound
    parameters only (``:city``, ``:cats``...), so this concatenation cannot
    carry an injection.
    """
    if reads < 1:
        raise ValueError("reads must be at least 1")
    chosen = set(sampled)
    if not chosen <= set(range(1, reads + 1)):
        raise ValueError(f"sampled reads must be among 1..{reads}, got {sorted(chosen)}")
    parts = ["WITH ", _CITY.strip()]
    if daily:
        parts += [",", _RD]
    for n in range(1, reads + 1):
        name = "f" if n == 1 else f"f{n}"
        definition = _F.replace("\nf AS (", f"\n{name} AS (", 1)
        if n in chosen:
            definition += f"\n      AND {SAMPLE_PREDICATE}"
        parts += [",", definition, "\n)"]
    parts += ["\n", body]
    return sa.text("".join(parts))


def rollup_sql(body: str) -> sa.TextClause:
    """``WITH city, r AS (...) <body>``: a query over the selection's rollup sums.

    ``r`` has the keys (``category_id``, ``department_id``, ``district_id``
    (0 outside every district), ``status``) and :data:`ROLLUP_SUMS`, not
    the day: sum it, do not count its rows.

    It takes the same bound parameters as :func:`filtered_sql`
    (:meth:`Filters.params`).
    """
    return sa.text("WITH " + ROLLUP_CTE.strip() + "\n" + body)


def _keyed_rollup(name: str, table: str, columns: str) -> str:
    """The CTE ``name``: the selection's rows of a rollup with no dates.

    For ``incident_cells`` and ``incident_hexes`` (migrations 0017, 0018):
    every filter but the dates is one of their keys, so they hold the
    selection of ``f`` only when the date range leaves none of its incidents
    out (:func:`covers_history`).
    """
    return (
        f"\n{name} AS (\n    SELECT {columns}\n    FROM {table} c"  # noqa: S608 - module constants only
        "\n    WHERE c.city_id = (SELECT city_id FROM city)"
        + _DIMENSIONS.format(t="c")
        + "\n)"
    )


#: ``rc``: counts and coordinate sums per cell of the clusters' default grid.
_RC = _keyed_rollup(
    "rc", "incident_cells", "c.cy, c.cx, c.category_id, c.district_id, c.status, c.n, c.sx, c.sy"
)
#: ``rh``: counts per hexagon of the dashboard's grid (``hex250``).
_RH = _keyed_rollup("rh", "incident_hexes", "c.hex250, c.status, c.n")


def cells_sql(body: str) -> sa.TextClause:
    """``WITH city, rc AS (...) <body>``: a query over the selection's grid cells.

    ``rc`` has ``cy``, ``cx`` (the cell), ``category_id``, ``district_id``
    (0 outside every district), ``status`` and the sums ``n``, ``sx``,
    ``sy``; the dates of :meth:`Filters.params` are not applied.
    """
    return sa.text("WITH " + _CITY.strip() + "," + _RC + "\n" + body)


def hexes_sql(body: str) -> sa.TextClause:
    """``WITH city, rh AS (...) <body>``: a query over the selection's hexagons.

    ``rh`` has ``hex250``, ``status`` and ``n``; the dates of
    :meth:`Filters.params` are not applied.
    """
    return sa.text("WITH " + _CITY.strip() + "," + _RH + "\n" + body)


#: Whether ``f``'s date range (the same bounds, the city's zone) holds every
#: incident of the city: its first and last are read from the ends of the
#: analytics index.  A city without incidents is covered by any range.
_COVERS = sa.text(
    """
SELECT COALESCE(
    (CAST(:start AS date) IS NULL
     OR (CAST(:start AS date) + time '00:00') AT TIME ZONE c.timezone
        <= (SELECT min(i.created_at) FROM incidents i WHERE i.city_id = c.city_id))
    AND (CAST(:end AS date) IS NULL
     OR (CAST(:end AS date) + time '00:00') AT TIME ZONE c.timezone
        > (SELECT max(i.created_at) FROM incidents i WHERE i.city_id = c.city_id)),
    true) AS covers
FROM cities c WHERE c.slug = :city
"""
)


def covers_history(bind: Bind, filters: Filters) -> bool:
    """Whether the filters' dates leave none of the city's incidents out.

    Then a rollup without dates holds the same selection as ``f``.  This is
    what the Live map sends when a user widens the dates to everything.
    Ask it and read the rollup in :func:`one_snapshot`.
    """
    if filters.start is None and filters.end is None:
        return True
    return bool(read_frame(bind, _COVERS, filters.params())["covers"].iloc[0])


@contextmanager
def one_snapshot(bind: Bind) -> Iterator[Connection]:
    """A connection whose queries all see the same committed data.

    A layer that asks :func:`covers_history` and then reads a rollup without
    dates must do both in one snapshot: an import committing a backdated
    incident in between would otherwise put it in a range that leaves its
    date out.  A read-only REPEATABLE READ transaction has one snapshot and
    cannot fail for serialization (it writes nothing).  A caller's
    connection is used as it is: its transaction is the caller's.
    """
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        yield conn


#: ``buckets``: the local calendar days or weeks (``:unit``, ``'day'`` or
#: ``'week'``) from the city's first incident to its last creation or
#: resolution, as ``days`` (the local dates) and ``starts`` (the instant each
#: begins, local midnight in the city's zone).  A query buckets a timestamp
#: with ``buckets.days[width_bucket(ts, buckets.starts)]``: a binary search
#: among exact instants, so days of 23 or 25 hours come out right, and
#: cheaper than converting every incident's time to local time
#: (``date_trunc(..., ts AT TIME ZONE tz)``: about 100 ms more per 580,000
#: incidents).  The span's ends are read from the ends of two indexes.
BUCKETS_CTE = """,
span AS (
    SELECT (SELECT min(i.created_at) FROM incidents i WHERE i.city_id = city.city_id) AS lo,
           GREATEST(
               (SELECT max(i.created_at) FROM incidents i WHERE i.city_id = city.city_id),
               (SELECT max(i.resolved_at) FROM incidents i
                WHERE i.city_id = city.city_id AND i.resolved_at IS NOT NULL)) AS hi,
           city.timezone AS tz
    FROM city
),
buckets AS MATERIALIZED (
    SELECT array_agg((CAST(d AS date) + time '00:00') AT TIME ZONE span.tz ORDER BY d) AS starts,
           array_agg(CAST(d AS date) ORDER BY d) AS days
    FROM span,
         generate_series(date_trunc(CAST(:unit AS text), span.lo AT TIME ZONE span.tz),
                         date_trunc(CAST(:unit AS text), span.hi AT TIME ZONE span.tz),
                         CAST('1 ' || CAST(:unit AS text) AS interval)) AS d
)"""


#: Settings of every analytics transaction (``SET LOCAL``: they end with it).
#:
#: * No JIT: the statements run for tens to hundreds of milliseconds, and the
#:   planner's cost estimates over a whole city make PostgreSQL JIT-compile
#:   them, which costs more than it saves (25 ms to over 1 s per statement).
#: * No parallel workers: a page already runs its queries two at a time
#:   (``dashboard.data.prefetch``) and a server has several users, so workers
#:   only take the cores another query of the same page is using.  Measured at
#:   1,000,000 incidents on 2 cores: single queries unchanged within noise,
#:   pages two at a time faster (Live map p95 0.39-0.54 s -> 0.22-0.44 s).
#: * 64 MB of work memory per sort or hash: a whole city's resolutions sorted
#:   by week for their medians take about 40 MB, and with the server's
#:   default they were sorted on disk (weekly trend 344 -> 255 ms).  Only the
#:   dashboard's own transactions get it, and at most two per page at once.
#:
#: The same round trip returns the city's time zone (``tz``), the bound
#: ``:tz`` of ``f``'s date range (see :data:`_F_HEAD`).
_SESSION = sa.text(
    "SELECT set_config('jit', 'off', true),"
    " set_config('max_parallel_workers_per_gather', '0', true),"
    " set_config('work_mem', '64MB', true),"
    " (SELECT timezone FROM cities WHERE slug = CAST(:city AS text)) AS tz"
)

#: A setting for the rest of the transaction, returning its value before
#: (the target list is evaluated left to right).
_SET_LOCAL = sa.text(
    "SELECT current_setting(:name) AS before, set_config(:name, :value, true) AS now"
)


def read_frame(
    bind: Bind,
    query: sa.TextClause,
    params: Mapping[str, Any],
    planner: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Run ``query`` on an Engine (own short connection) or a caller's Connection.

    :data:`_SESSION` applies to the current transaction only, so a caller's
    connection keeps its own settings once its transaction ends.  It also
    reads the zone of ``params["city"]`` into ``:tz``, unless the caller
    gave one.  ``planner``: more settings for this query alone (for example
    ``{"enable_mergejoin": "off"}``), set the same way.
    """
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return read_frame(conn, query, params, planner)
    values = dict(params)
    tz = bind.execute(_SESSION, {"city": values.get("city")}).one().tz
    values["tz"] = values.get("tz") or tz
    before = {
        name: bind.execute(_SET_LOCAL, {"name": name, "value": value}).one().before
        for name, value in (planner or {}).items()
    }
    frame = pd.read_sql(query, bind, params=values)
    for name, value in before.items():  # the caller's next query plans as before
        bind.execute(_SET_LOCAL, {"name": name, "value": value})
    return frame


class _NumpyArray(Loader):
    """A one-dimensional ``int4[]`` received in binary as a numpy array.

    The binary form of an array of fixed-width values without NULLs is a
    header and then (length, value) pairs of equal size: numpy reads them
    as they are, without one Python object per element.  The values are
    copied out (in the machine's byte order): ``data`` is a view of the
    query's result, which psycopg frees with the cursor.
    """

    format = Format.BINARY
    dtype = ">i4"

    def load(self, data: Any) -> np.ndarray:
        ndim, has_null = np.frombuffer(data, ">i4", count=2)
        if ndim == 0:
            return np.empty(0, self.dtype)
        if ndim != 1 or has_null:
            raise ValueError("read_arrays takes one-dimensional arrays without NULLs")
        size = int(np.frombuffer(data, ">i4", count=1, offset=12)[0])
        pairs = np.frombuffer(data, [("length", ">i4"), ("value", self.dtype)], size, 20)
        return pairs["value"].astype(np.dtype(self.dtype).newbyteorder("="))


class _NumpyInt8Array(_NumpyArray):
    dtype = ">i8"


class _NumpyFloat8Array(_NumpyArray):
    dtype = ">f8"


#: The array types :func:`read_arrays` reads (their PostgreSQL oids).
_ARRAY_LOADERS = {1007: _NumpyArray, 1016: _NumpyInt8Array, 1022: _NumpyFloat8Array}


def read_arrays(bind: Bind, query: sa.TextClause, params: Mapping[str, Any]) -> dict[str, Any]:
    """The one row of ``query``, its ``int4[]``, ``int8[]`` and ``float8[]``
    columns as numpy arrays (a NULL array, as ``array_agg`` of no rows
    gives, as an empty one).

    For a layer that computes over a selection's rows in numpy
    (:mod:`gis.grid_dbscan`): ``array_agg`` sends them in a few messages,
    which numpy reads in place.  ``pandas.read_sql`` of the same 170,000 rows
    builds a Python object per value, and a ``COPY`` sends a message per row.
    Settings and ``:tz`` as :func:`read_frame`.
    """
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return read_arrays(conn, query, params)
    values = dict(params)
    tz = bind.execute(_SESSION, {"city": values.get("city")}).one().tz
    values["tz"] = values.get("tz") or tz
    compiled = query.compile(dialect=bind.dialect)
    raw = bind.connection.driver_connection
    assert raw is not None
    with raw.cursor(binary=True) as cur:
        for oid, loader in _ARRAY_LOADERS.items():
            cur.adapters.register_loader(oid, loader)
        cur.execute(str(compiled), compiled.construct_params(values))
        row = cur.fetchone()
        columns = list(cur.description or ())
    assert row is not None
    empty = {oid: loader.dtype for oid, loader in _ARRAY_LOADERS.items()}
    return {
        c.name: np.empty(0, empty[c.type_code]) if v is None and c.type_code in empty else v
        for c, v in zip(columns, row, strict=True)
    }


def city_exists(bind: Bind, slug: str) -> None:
    """Raise a clear error for an unknown city instead of returning silent zeros."""
    query = sa.text("SELECT slug FROM cities ORDER BY slug")
    known = list(read_frame(bind, query, {})["slug"])
    if slug not in known:
        raise ValidationError(
            "city",
            f"unknown city {slug!r}; known cities: {', '.join(known)}",
            ro=f"nu există orașul {slug!r}; orașele cunoscute: {', '.join(known)}",
        )


def now_param(now: datetime | None) -> datetime | None:
    """Validate the reference time: aware datetimes only (naive ones are ambiguous)."""
    if now is not None and now.tzinfo is None:
        raise ValidationError(
            "now",
            "pass a time-zone aware datetime (e.g. tzinfo=UTC)",
            ro="dați data și ora cu fusul orar (de exemplu tzinfo=UTC)",
        )
    return now

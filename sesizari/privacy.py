"""Personal data kept no longer than needed (GDPR): retention and erasure.

A reporter's contacts (name, phone, e-mail: ``incident_contacts``) serve
to answer them.  Once the incident is answered they are kept for the city's
retention period (``contact_retention_days``, default a year: time for the
reporter to dispute the answer and for the legal reply checks), then
:func:`expire_contacts` removes them.  An erasure request (GDPR art. 17)
removes at once, with :func:`erase`, everything the reporter gave about
themselves: contacts, the photos sent with the report and the words of the
report (which may name them), replaced by a fixed text.

The registry entry stays, as the city's registry is a legal record:
number, dates, category, department, place, status, the staff's resolution
and photos, the history of what staff did.  Every removal writes an
``erased`` event naming what went and why, never the values (migration
0029).  Photo files go with the next ``python -m sesizari photos clean``
(the rows are gone at once; files no row refers to are collected there).

Each request is also written to the erasure journal
(:mod:`sesizari.erasure_log`), outside the database, so that restoring a
backup made before it does not bring the data back:
:func:`reapply_erasures` carries the journal out again after a restore.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sesizari import catalog, erasure_log, registry
from sesizari.catalog import City
from sesizari.errors import NotFoundError, ValidationError
from sesizari.vocab import OPEN_STATUSES, Status

#: Days a reporter's contacts are kept after the incident was answered,
#: unless the city sets ``contact_retention_days`` (sesizari.admin.SETTINGS).
DEFAULT_RETENTION_DAYS = 365
#: What an erased report's description becomes (the column must hold text).
ERASED_DESCRIPTION = "Text șters la cererea persoanei care a făcut sesizarea."
#: Incidents whose retention clock runs: those answered one way or another
#: (resolved, closed, rejected, a duplicate).
ANSWERED = tuple(s.value for s in Status if s not in OPEN_STATUSES)


def retention_days(city: City) -> int:
    """The city's retention period for contacts, in days (default when unset or invalid)."""
    value = (city.settings or {}).get("contact_retention_days", DEFAULT_RETENTION_DAYS)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
        return DEFAULT_RETENTION_DAYS
    return int(value)


#: The incidents of city :c whose reporter's contacts are past the
#: retention period (:days after the answer, judged at :now).  One
#: definition for the removal and for its dry run.
_EXPIRED = """
    SELECT ic.incident_id FROM incident_contacts ic JOIN incidents i USING (city_id, incident_id)
    WHERE ic.city_id = :c AND i.status IN :answered
      -- When the incident was answered (migration 0006), else its last change.
      AND COALESCE(i.answered_at, i.closed_at, i.resolved_at, i.updated_at)
          < CAST(:now AS timestamptz) - make_interval(days => :days)
"""
_ANSWERED = sa.bindparam("answered", expanding=True)

# Only the constant _EXPIRED is formatted into these two (no input).
_EXPIRE = sa.text(
    f"""
    WITH gone AS (
        DELETE FROM incident_contacts
        WHERE city_id = :c AND incident_id IN ({_EXPIRED})
        RETURNING incident_id
    )
    INSERT INTO incident_events (city_id, incident_id, kind, actor_label, channel, data)
    SELECT :c, incident_id, 'erased', 'retention', 'staff',
           jsonb_build_object('why', 'retention', 'days', :days, 'removed', '["contacts"]'::jsonb)
    FROM gone
    RETURNING incident_id
    """  # noqa: S608
).bindparams(_ANSWERED)

_EXPIRE_COUNT = sa.text(f"SELECT count(*) FROM ({_EXPIRED}) e").bindparams(  # noqa: S608
    _ANSWERED)


def expire_contacts(
    engine: Engine, city: str | None = None, *, now: datetime | None = None,
    dry_run: bool = False,
) -> dict[str, int]:
    """Remove the contacts whose retention period has passed, for ``city`` or
    every city; return city slug -> contacts removed (or that would be, with
    ``dry_run``).  Each city in its own transaction: safe to run daily, and
    to run again after an interruption.

    ``now``: the moment to judge from (tests jump ahead with it); the
    database's clock by default.
    """
    out: dict[str, int] = {}
    with engine.connect() as conn:
        slugs = [city] if city else catalog.list_city_slugs(conn)
        at = now or conn.execute(sa.text("SELECT now()")).scalar_one()
    for slug in slugs:
        with engine.begin() as conn:
            c = catalog.get_city(conn, slug)
            params = {"c": c.city_id, "answered": list(ANSWERED), "now": at,
                      "days": retention_days(c)}
            if dry_run:
                out[slug] = conn.execute(_EXPIRE_COUNT, params).scalar_one()
            else:
                out[slug] = len(conn.execute(_EXPIRE, params).all())
    return out


@dataclass(frozen=True)
class Erasure:
    """What an erasure request removed from one incident."""

    registry_number: str
    contacts: bool
    photos: int
    description: bool

    @property
    def removed(self) -> list[str]:
        """What went, in a fixed order (the ``erased`` event's ``removed``)."""
        done = {"contacts": self.contacts, "photos": self.photos > 0,
                "description": self.description}
        return [what for what, gone in done.items() if gone]


def erase(
    engine: Engine,
    city: str,
    number: str,
    *,
    by: str,
    reason: str = "",
    journal: Path | None = None,
) -> Erasure:
    """Carry out an erasure request for the report ``number`` of ``city``:
    its reporter's contacts, the photos sent with it and its description go;
    the registry entry stays.  ``by`` names who carried it out (recorded on
    the ``erased`` event with ``reason``, e.g. the request's own number).

    The request is written to the erasure journal (``journal``, default the
    installation's: :mod:`sesizari.erasure_log`) before the removal commits,
    so a backup restored later carries it out again.
    Run twice, the second call removes nothing and says so (all False / 0).
    """
    by = (by or "").strip()
    if not by or len(by) > 200:
        raise ValidationError(
            "by",
            "name who carries out the erasure (1-200 characters)",
            ro="scrieți cine efectuează ștergerea (1-200 de caractere)",
        )
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationError(
            "reason", "at most 500 characters", ro="scrieți cel mult 500 de caractere"
        )
    with engine.begin() as conn:
        c = catalog.get_city(conn, city)
        done = _erase_report(conn, c, _incident(conn, c, number), number, by,
                             {"why": "request", "reason": reason or None})  # fmt: skip
        if done.removed:
            erasure_log.append(
                erasure_log.entry(c.slug, done.registry_number, "report", by=by, reason=reason),
                journal,
            )
    return done


def erase_with_files(engine: Engine, city: str, number: str, *, by: str,
                     reason: str = "") -> tuple[Erasure, list[str]]:  # fmt: skip
    """:func:`erase`, then the photo files no row names any longer removed at
    once (those younger than the clean-up's grace period go with the next
    ``photos clean``); returns the erasure and the files removed.  What the
    command line and the Administration page both do."""
    from sesizari.photos import remove_orphans

    done = erase(engine, city, number, by=by, reason=reason)
    return done, (remove_orphans(engine) if done.photos else [])


def _erase_report(conn: Connection, c: City, incident_id: int, number: str, by: str,
                  why: dict[str, object]) -> Erasure:  # fmt: skip
    """The removals of an erasure request, and their ``erased`` event (``why`` and what went)."""
    contacts = conn.execute(
        sa.text("DELETE FROM incident_contacts WHERE city_id = :c AND incident_id = :i"),
        {"c": c.city_id, "i": incident_id},
    ).rowcount > 0
    photos = conn.execute(
        sa.text("DELETE FROM photos WHERE city_id = :c AND incident_id = :i"
                " AND stage = 'report'"),
        {"c": c.city_id, "i": incident_id},
    ).rowcount
    description = conn.execute(
        # updated_at stays: it dates the last change of the case (a rejected
        # report's answer, sesizari/queries/accountability.py), which this is not.
        sa.text("UPDATE incidents SET description = :d"
                " WHERE city_id = :c AND incident_id = :i AND description <> :d"),
        {"c": c.city_id, "i": incident_id, "d": ERASED_DESCRIPTION},
    ).rowcount > 0
    done = Erasure(registry.normalize(number), contacts, photos, description)
    if done.removed:
        conn.execute(
            sa.text("INSERT INTO incident_events (city_id, incident_id, kind, actor_label,"
                    " channel, data) VALUES (:c, :i, 'erased', :by, 'staff',"
                    " CAST(:d AS jsonb))"),
            {"c": c.city_id, "i": incident_id, "by": by,
             "d": json.dumps({**why, "removed": done.removed, "photos": photos})},
        )
    return done


def erasure_history(engine: Engine, city: str, limit: int = 200) -> pd.DataFrame:
    """The city's latest removals of personal data, newest first: when, which
    report, who carried it out (a person, ``reporter``, ``retention``), why
    and what went.  Read from the ``erased`` events, which never hold the
    values removed."""
    with engine.connect() as conn:
        c = catalog.get_city(conn, city)
        return pd.read_sql(ERASURE_HISTORY, conn, params={"c": c.city_id, "n": limit})


#: The latest ``erased`` events of city ``:c`` (at most ``:n``); migration
#: 0041's partial index serves it.
ERASURE_HISTORY = sa.text(
    "SELECT e.created_at AS erased_at, i.registry_number, e.actor_label AS erased_by,"
    " e.data->>'why' AS why, e.data->>'reason' AS reason,"
    " ARRAY(SELECT jsonb_array_elements_text(e.data->'removed')) AS removed"
    " FROM incident_events e JOIN incidents i USING (city_id, incident_id)"
    " WHERE e.city_id = :c AND e.kind = 'erased'"
    " ORDER BY e.created_at DESC LIMIT :n"
)


def _incident(conn: Connection, city: City, number: str) -> int:
    found = conn.execute(
        sa.text("SELECT incident_id FROM incidents WHERE city_id = :c AND registry_number = :n"
                " FOR UPDATE"),
        {"c": city.city_id, "n": registry.normalize(number)},
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(
            f"{city.name_ro} has no report {number!r}; give its registry number as on the"
            f" receipt (e.g. {city.registry_prefix}-2026-000123)",
            ro=f"Nu există sesizarea {number!r} în {city.name_ro}; scrieți numărul de"
            " înregistrare așa cum apare pe dovada de înregistrare"
            f" (de ex. {city.registry_prefix}-2026-000123)",
        )
    return found


def stop_emails(engine: Engine, number: str, pin: str, *, journal: Path | None = None) -> bool:
    """The reporter asks, with their PIN, for no more e-mails about ``number``
    (GDPR art. 21): their address is removed, since nothing else needs it,
    and an ``erased`` event says so (never the address).  Messages still
    waiting are then skipped by the sender.  The request goes to the erasure
    journal, as :func:`erase`'s do.  Returns False when there was no address
    to remove.
    """
    from sesizari import accountability

    accountability.check_pin(engine, number, pin)
    with engine.begin() as conn:
        row = accountability.lock_report(conn, number)
        removed = _forget_email(conn, row.city_id, row.incident_id, {"why": "reporter"})
        if removed:
            erasure_log.append(
                erasure_log.entry(row.slug, row.registry_number, "email", by="reporter"), journal
            )
    return removed


def _forget_email(conn: Connection, city_id: int, incident_id: int,
                  why: dict[str, object]) -> bool:  # fmt: skip
    """Remove the reporter's address of one incident, with its ``erased`` event."""
    removed = conn.execute(
        sa.text("UPDATE incident_contacts SET email = NULL"
                " WHERE city_id = :c AND incident_id = :i AND email IS NOT NULL"),
        {"c": city_id, "i": incident_id},
    ).rowcount > 0  # fmt: skip
    if removed:
        conn.execute(
            sa.text("INSERT INTO incident_events (city_id, incident_id, kind, actor_label,"
                    " channel, data) VALUES (:c, :i, 'erased', 'reporter', 'web',"
                    " CAST(:d AS jsonb))"),
            {"c": city_id, "i": incident_id, "d": json.dumps({**why, "removed": ["email"]})},
        )  # fmt: skip
    return removed


@dataclass(frozen=True)
class Reapplied:
    """What carrying the journal's requests out again did (after a restore)."""

    #: Requests that removed something again: the backup predates them.
    carried_out: int = 0
    #: Requests the restored database had already carried out.
    already: int = 0
    #: Requests for a report the restored database does not hold (made after the backup).
    not_found: int = 0
    #: Report photos removed again (their files go with ``photos clean``).
    photos: int = 0


def reapply_erasures(engine: Engine, journal: erasure_log.Journal) -> Reapplied:
    """Carry out again every request of ``journal`` (oldest first), each in its
    own transaction.  Only what is still there is removed, and its ``erased``
    event says ``again_after_restore`` with the date of the original request;
    nothing is written to the journal, which already holds them.
    """
    counts = {"carried_out": 0, "already": 0, "not_found": 0, "photos": 0}
    for e in journal.entries:
        with engine.begin() as conn:
            try:
                c = catalog.get_city(conn, e.city)
                incident_id = _incident(conn, c, e.number)
            except NotFoundError:
                counts["not_found"] += 1
                continue
            if e.scope == "report":
                done = _erase_report(
                    conn, c, incident_id, e.number, (e.by or "erasures.jsonl")[:200],
                    {"why": "request", "reason": e.reason[:500] or None,
                     "again_after_restore": e.at},
                )  # fmt: skip
                removed = bool(done.removed)
                counts["photos"] += done.photos
            else:
                removed = _forget_email(conn, c.city_id, incident_id,
                                        {"why": "reporter", "again_after_restore": e.at})
        counts["carried_out" if removed else "already"] += 1
    return Reapplied(**counts)

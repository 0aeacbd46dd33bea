"""The outbox: e-mails to reporters and departments, written with the events,
sent with retries.

An event that concerns the reporter (registration, a status change, a public
update...) puts a row in ``notifications`` in its own transaction (the
trigger of migration 0035); a report registered for a department, or
re-routed to it, one for the department's mailbox (migration 0036); a
report given to a person, one for theirs (migration 0037).
:func:`send_due` delivers the rows that are due, one transaction each: the
row is locked (``SKIP LOCKED``: two senders never take the same one), the
message is sent, and the outcome is written before the commit.  A crash
between the server's acceptance and the commit sends that one message again
on the next run; nothing is ever lost.

Outcomes: ``sent``; ``skipped`` when the address is gone (erased, expired)
or was never usable; ``failed`` when the server refused it for good, or after
:data:`MAX_ATTEMPTS` temporary failures; otherwise the row waits
:data:`FIRST_RETRY` doubled at each attempt.  A refused login or sender
stops the run and counts against no message (:class:`MailConfigError`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sesizari.commitments import LEGAL_DUE_SQL
from sesizari.mailer import MailConfigError, PermanentFailure, TemporaryFailure
from sesizari.notices import compose, compose_for_department
from sesizari.opendata import unless_personal
from sesizari.settings import Settings

#: Temporary failures before a message is given up (about 10 hours of tries).
MAX_ATTEMPTS = 8
#: The wait after the first temporary failure; each next one doubles it.
FIRST_RETRY = timedelta(minutes=5)
#: The longest text kept of a server's refusal.
MAX_ERROR = 500

STATUSES = ("pending", "sent", "failed", "skipped")


class Mailer(Protocol):
    """What :func:`send_due` needs of a mail connection (:class:`~sesizari.mailer.SmtpMailer`)."""

    def send(self, message: Any) -> None: ...


@dataclass
class SendReport:
    """What one run of :func:`send_due` did."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retry: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, will retry {self.retry}, failed {self.failed},"
            f" skipped {self.skipped}"
        )


# The row to send next, with everything the message says.  Staff text goes
# through the same filter as on the tracking page (a fixed fragment, no input).
_CLAIM = sa.text(
    "SELECT n.city_id, n.notification_id, n.attempts, n.recipient, e.kind, e.data,"  # noqa: S608
    " e.created_at AS event_at, e.body IS NOT NULL AS has_text,"
    " " + unless_personal("e.body") + " AS text,"
    " i.registry_number, ci.name_ro AS city_ro, ci.name_en AS city_en, ci.timezone,"
    " cat.name_ro AS category_ro, cat.name_en AS category_en,"
    # a department's message names that department, even if the report has
    # moved on since; the reporter's names the one that has it now
    " COALESCE(rd.name_ro, d.name_ro) AS department_ro,"
    " COALESCE(rd.name_en, d.name_en) AS department_en,"
    " i.pin_hash IS NOT NULL AS has_pin, ci.settings AS city_settings,"
    " CASE WHEN i.owes_reply THEN " + LEGAL_DUE_SQL + " END AS legal_due_at,"
    " i.expected_hours_p50, i.expected_hours_p80, i.expected_basis,"
    " i.address, ST_Y(i.geom) AS lat, ST_X(i.geom) AS lon,"
    " CASE WHEN i.description_public THEN i.description END AS description,"
    " u.full_name AS assignee, c.lang AS reporter_lang,"
    " CASE n.recipient WHEN 'reporter' THEN c.email WHEN 'department' THEN rd.email"
    "  ELSE ru.email END AS email"
    " FROM notifications n"
    " JOIN incident_events e ON e.city_id = n.city_id AND e.event_id = n.event_id"
    " JOIN incidents i ON i.city_id = n.city_id AND i.incident_id = n.incident_id"
    " JOIN cities ci ON ci.city_id = n.city_id"
    " JOIN categories cat ON cat.city_id = i.city_id AND cat.category_id = i.category_id"
    " JOIN departments d ON d.city_id = i.city_id AND d.department_id = i.department_id"
    " LEFT JOIN users u ON u.city_id = i.city_id AND u.user_id = i.assignee_user_id"
    " LEFT JOIN incident_contacts c ON c.city_id = n.city_id AND c.incident_id = n.incident_id"
    " LEFT JOIN departments rd ON rd.city_id = n.city_id AND rd.department_id = n.department_id"
    " LEFT JOIN users ru ON ru.city_id = n.city_id AND ru.user_id = n.user_id AND ru.active"
    " WHERE n.status = 'pending' AND n.next_attempt_at <= COALESCE(:now, now())"
    "  AND (CAST(:city AS text) IS NULL OR ci.slug = :city)"
    " ORDER BY n.next_attempt_at, n.notification_id"
    " LIMIT 1 FOR UPDATE OF n SKIP LOCKED"
)

_FINISH = sa.text(
    "UPDATE notifications SET status = :s, attempts = attempts + :tried, last_error = :err,"
    " sent_at = CASE WHEN :s = 'sent' THEN COALESCE(:now, now()) END,"
    " next_attempt_at = COALESCE(:now, now()) + :wait"
    " WHERE city_id = :c AND notification_id = :n"
)


def without_address(error: str, address: str | None) -> str:
    """``error`` as stored: the recipient's address removed, cut to :data:`MAX_ERROR`.

    Mail servers repeat the address in their refusals ("550 <ana@x.ro>:
    unknown user"); the outbox keeps no personal data (migration 0035).
    """
    if address:
        error = re.sub(re.escape(address), "<adresa>", error, flags=re.IGNORECASE)
    return error[:MAX_ERROR]


def _finish(
    conn: Connection,
    row: Any,
    status: str,
    *,
    tried: int,
    error: str | None = None,
    wait: timedelta = timedelta(0),
    now: datetime | None = None,
) -> None:
    conn.execute(
        _FINISH,
        {
            "s": status,
            "tried": tried,
            "err": without_address(error, row.email) if error else None,
            "now": now,
            "wait": wait,
            "c": row.city_id,
            "n": row.notification_id,
        },
    )


def send_due(
    engine: Engine,
    settings: Settings,
    mailer: Mailer,
    *,
    city: str | None = None,
    limit: int = 500,
    now: datetime | None = None,
    on_each: Callable[[], None] | None = None,
) -> SendReport:
    """Send up to ``limit`` due messages (of ``city``, or all); return the counts.

    ``now`` stands for the clock (tests of the retries).  Raises
    :class:`MailConfigError` when the server refuses the login or the sender:
    the message being sent stays due, untouched.
    """
    report = SendReport()
    for _ in range(limit):
        with engine.begin() as conn:
            row = conn.execute(_CLAIM, {"now": now, "city": city}).one_or_none()
            if row is None:
                break
            if row.email is None:
                gone = {"reporter": "erased", "department": "removed from the department",
                        "assignee": "removed, or the account disabled"}[row.recipient]
                _finish(conn, row, "skipped", tried=0, error=f"no address ({gone})", now=now)
                report.skipped += 1
            else:
                _deliver(conn, row, settings, mailer, report, now)
        if on_each is not None:
            on_each()
    return report


def _deliver(
    conn: Connection,
    row: Any,
    settings: Settings,
    mailer: Mailer,
    report: SendReport,
    now: datetime | None,
) -> None:
    try:
        write = compose if row.recipient == "reporter" else compose_for_department
        message = write(row._mapping, settings.mail_from, settings.public_url)
    except ValueError as exc:
        _finish(conn, row, "skipped", tried=0, error=f"the address cannot be used: {exc}", now=now)
        report.skipped += 1
        return
    try:
        mailer.send(message)
    except MailConfigError:
        raise
    except PermanentFailure as exc:
        _finish(conn, row, "failed", tried=1, error=str(exc), now=now)
        report.failed += 1
    except TemporaryFailure as exc:
        if row.attempts + 1 >= MAX_ATTEMPTS:
            _finish(conn, row, "failed", tried=1, error=str(exc), now=now)
            report.failed += 1
        else:
            wait = FIRST_RETRY * 2**row.attempts
            _finish(conn, row, "pending", tried=1, error=str(exc), wait=wait, now=now)
            report.retry += 1
    else:
        _finish(conn, row, "sent", tried=1, now=now)
        report.sent += 1


def count_due(engine: Engine, city: str | None = None, now: datetime | None = None) -> int:
    """How many messages are due now (a progress bar's total)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM notifications n JOIN cities ci USING (city_id)"
                " WHERE n.status = 'pending' AND n.next_attempt_at <= COALESCE(:now, now())"
                " AND (CAST(:city AS text) IS NULL OR ci.slug = :city)"
            ),
            {"now": now, "city": city},
        ).scalar_one()


def outbox_counts(engine: Engine, city: str) -> dict[str, int]:
    """Messages of ``city`` by status (every status present, zeros included)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT n.status, count(*) FROM notifications n JOIN cities ci USING (city_id)"
                " WHERE ci.slug = :city GROUP BY n.status"
            ),
            {"city": city},
        ).all()
    return {status: 0 for status in STATUSES} | {s: int(n) for s, n in rows}


def outbox_problems(engine: Engine, city: str, limit: int = 20) -> pd.DataFrame:
    """The latest messages of ``city`` that failed or wait after a failure, newest first."""
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT i.registry_number, e.kind AS about, n.recipient, d.code AS department,"
                " u.full_name AS person,"
                " n.status, n.attempts, n.last_error,"
                " CASE WHEN n.status = 'pending' THEN n.next_attempt_at END AS next_attempt_at,"
                " n.created_at AS queued_at"
                " FROM notifications n JOIN cities ci USING (city_id)"
                " JOIN incidents i ON i.city_id = n.city_id AND i.incident_id = n.incident_id"
                " JOIN incident_events e ON e.city_id = n.city_id AND e.event_id = n.event_id"
                " LEFT JOIN departments d ON d.city_id = n.city_id"
                "  AND d.department_id = n.department_id"
                " LEFT JOIN users u ON u.city_id = n.city_id AND u.user_id = n.user_id"
                " WHERE ci.slug = :city AND (n.status = 'failed'"
                "  OR (n.status = 'pending' AND n.attempts > 0))"
                " ORDER BY n.created_at DESC, n.notification_id DESC LIMIT :lim"
            ),
            conn,
            params={"city": city, "lim": limit},
        )

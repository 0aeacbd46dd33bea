"""The morning e-mail to each department: its open reports past their target.

A department head tracks what is overdue on the work queue, when they open
it; this brings the list to the department's mailbox (migration 0038).  Run
``python -m sesizari notify digest`` once in the morning (cron).  Each
department with a mailbox and at least one open report past its category's
target gets one message a local day: the day's row in ``overdue_digests``
is written in the transaction that sends, so a second run sends nothing and
a failed send leaves no row for the next run to find.

"Past its target" is the work queue's "overdue" (``sesizari/workspace.py``):
open, and older than the category's ``target_hours``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sesizari.mailer import PermanentFailure, TemporaryFailure
from sesizari.notices import message_to
from sesizari.notifications import Mailer
from sesizari.settings import Settings
from sesizari.vocab import STATUS_RO, ro_count

#: Reports listed in one message at most; the rest are counted.
MAX_LISTED = 50

_DEPARTMENTS = sa.text(
    "SELECT ci.city_id, ci.slug, ci.name_ro AS city_ro, ci.name_en AS city_en, ci.timezone,"
    " d.department_id, d.name_ro AS department_ro, d.name_en AS department_en, d.email,"
    " (COALESCE(:now, now()) AT TIME ZONE ci.timezone)::date AS local_day"
    " FROM departments d JOIN cities ci USING (city_id)"
    " WHERE d.active AND d.email IS NOT NULL"
    " AND (CAST(:city AS text) IS NULL OR ci.slug = :city)"
    " ORDER BY ci.slug, d.code"
)

_OVERDUE = sa.text(
    "SELECT i.registry_number, c.name_ro AS category_ro, c.name_en AS category_en,"
    " i.status, i.address, u.full_name AS assignee,"
    " i.created_at + make_interval(secs => c.target_hours * 3600) AS due_at,"
    " count(*) OVER () AS total"
    " FROM incidents i JOIN categories c USING (city_id, category_id)"
    " LEFT JOIN users u ON u.city_id = i.city_id AND u.user_id = i.assignee_user_id"
    " WHERE i.city_id = :c AND i.department_id = :d"
    " AND i.status IN ('new', 'acknowledged', 'in_progress')"
    " AND COALESCE(:now, now()) - i.created_at > make_interval(secs => c.target_hours * 3600)"
    " ORDER BY due_at, i.registry_number"
    " LIMIT :lim"
)

_CLAIM = sa.text(
    "INSERT INTO overdue_digests (city_id, department_id, local_day, incidents, sent_at)"
    " VALUES (:c, :d, :day, :n, COALESCE(:now, now()))"
    " ON CONFLICT DO NOTHING RETURNING 1"
)


@dataclass
class DigestReport:
    """What one run of :func:`send_digests` did, by department."""

    sent: int = 0
    already_sent: int = 0
    nothing_overdue: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, already sent today {self.already_sent},"
            f" nothing overdue {self.nothing_overdue}, failed {self.failed}"
        )


def send_digests(
    engine: Engine,
    settings: Settings,
    mailer: Mailer,
    *,
    city: str | None = None,
    now: datetime | None = None,
) -> DigestReport:
    """Send today's list to every department with a mailbox (of ``city``, or all).

    A department whose message the server refuses is counted ``failed`` and
    left for the next run; :class:`~sesizari.mailer.MailConfigError` stops
    the run.  ``now`` stands for the clock (tests).
    """
    report = DigestReport()
    with engine.connect() as conn:
        departments = conn.execute(_DEPARTMENTS, {"now": now, "city": city}).all()
    for dep in departments:
        try:
            with engine.begin() as conn:
                rows = conn.execute(
                    _OVERDUE,
                    {"c": dep.city_id, "d": dep.department_id, "now": now, "lim": MAX_LISTED},
                ).all()
                if not rows:
                    report.nothing_overdue += 1
                    continue
                claimed = conn.execute(
                    _CLAIM,
                    {"c": dep.city_id, "d": dep.department_id, "day": dep.local_day,
                     "n": rows[0].total, "now": now},
                ).first()  # fmt: skip
                if claimed is None:
                    report.already_sent += 1
                    continue
                mailer.send(compose_digest(dep._mapping, rows, settings))
                report.sent += 1
        except (TemporaryFailure, PermanentFailure, ValueError):
            report.failed += 1  # rolled back: the next run sends it
    return report


def _line(row: Any, tz: str, lang: int) -> str:
    due = row.due_at.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M")
    category = (row.category_ro, row.category_en)[lang]
    status = (STATUS_RO[row.status], row.status.replace("_", " "))[lang]
    who = row.assignee or ("fără responsabil", "nobody assigned")[lang]
    address = row.address or "—"
    return (
        f"- {row.registry_number}, {category}, {status}, termen {due}, {who}, {address}",
        f"- {row.registry_number}, {category}, {status}, due {due}, {who}, {address}",
    )[lang]


def _part(dep: Any, rows: list[Any], day: date, public_url: str, lang: int) -> list[str]:
    total = rows[0].total
    name = (dep["department_ro"], dep["department_en"])[lang]
    when = day.strftime("%d.%m.%Y")
    lines = [
        ("Bună dimineața,", "Good morning,")[lang],
        "",
        (
            f"Compartimentul {name} are {ro_count(total, 'sesizări deschise', 'sesizare deschisă')}"
            f" peste termenul categoriei, la {when}; cele mai vechi întâi:",
            f"{name} has {total} open report{'s' if total != 1 else ''} past the category's"
            f" target on {when}; the furthest past first:",
        )[lang],
        "",
        *(_line(row, dep["timezone"], lang) for row in rows),
    ]
    if total > len(rows):
        more = total - len(rows)
        lines.append(
            (f"… și încă {more}.", f"… and {more} more.")[lang]
        )
    queue = f"{public_url}/queue" if public_url else ""
    lines += [
        "",
        (
            f"Lista completă: pagina „Lucrări de făcut”, ordonată „Depășite întâi”. {queue}",
            f"The full list: the Work queue page, sorted 'Overdue first'. {queue}",
        )[lang].rstrip(),
        (
            f"Sesizări {dep['city_ro']}: mesaj trimis automat, o dată pe zi.",
            f"Sesizari {dep['city_en']}: an automatic message, once a day.",
        )[lang],
    ]
    return lines


def compose_digest(dep: Any, rows: list[Any], settings: Settings) -> EmailMessage:
    """The day's message to the department ``dep`` about its overdue ``rows``."""
    day = dep["local_day"]
    body = [*_part(dep, rows, day, settings.public_url, 0), "", "— English —", "",
            *_part(dep, rows, day, settings.public_url, 1)]  # fmt: skip
    subject = (
        f"Sesizări peste termen în {dep['department_ro']}: {rows[0].total}"
        f" ({day:%d.%m.%Y})"
    )
    return message_to(dep["email"], dep["city_ro"], settings.mail_from, subject, body)


def recent_digests(engine: Engine, city: str, limit: int = 20) -> pd.DataFrame:
    """The latest morning lists sent in ``city``: department, local day, how
    many reports each listed, when it left; newest first."""
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT d.code AS department, o.local_day, o.incidents, o.sent_at"
                " FROM overdue_digests o JOIN cities ci USING (city_id)"
                " JOIN departments d ON d.city_id = o.city_id AND d.department_id = o.department_id"
                " WHERE ci.slug = :city ORDER BY o.sent_at DESC, d.code LIMIT :lim"
            ),
            conn,
            params={"city": city, "lim": limit},
        )

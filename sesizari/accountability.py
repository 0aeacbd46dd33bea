"""Accountability actions: legal deadlines, forwarding, verified resolution, field checks.

"Closed" is not "fixed": the reporter can confirm or dispute a fix with the PIN
given at submission, managers draw random samples of resolved incidents for a
field check, and the petition law's deadlines (OG 27/2002) are tracked per
incident.  What is set at creation (deadline, PIN, estimate, recurrence) lives
in :mod:`sesizari.commitments`, re-exported here.

Forwarding closes the incident as ``rejected`` with ``forwarded_to`` /
``forwarded_at`` set and a ``forwarded`` event, rather than with a new status:
every consumer of the status vocabulary (Open311 ``closed``, open data,
dashboard labels, past-state rebuilds) already treats ``rejected`` as "closed,
not by a fix", which is what a forward is for this city; the forward columns
keep it apart wherever it matters.
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sesizari import incidents, registry
from sesizari.auth import StaffUser
from sesizari.commitments import (
    DEFAULTS,
    Commitments,
    Estimate,
    backlog_factor,
    pin_matches,
    setting,
)
from sesizari.errors import NotFoundError, PermissionDeniedError, TransitionError, ValidationError
from sesizari.incidents import Actor
from sesizari.transactions import run_in_transaction
from sesizari.vocab import OPEN_STATUSES, STATUS_RO, Action, EventKind, Role, Status, ro_count

__all__ = [
    "DEFAULTS",
    "MAX_PIN_FAILURES",
    "Commitments",
    "Estimate",
    "Forwarded",
    "Sample",
    "backlog_factor",
    "confirm_fix",
    "dispute_fix",
    "draw_sample",
    "extend_deadline",
    "forward",
    "has_after_photo",
    "record_check",
]

#: Wrong PINs allowed per incident before the reporter must call the city hall.
MAX_PIN_FAILURES = 10
MAX_INSTITUTION = 200
OUTCOMES = ("fixed", "not_fixed")
#: The reporter's channel on confirm/dispute events: through the tracking link.
REPORTER = Actor("reporter", None, "web")
#: Why the system reopened a fix, on the public timeline.  Written in Romanian,
#: the language of the city's registry and of every text staff write there.
REOPENED_BY_DISPUTE = "Reclamantul spune că problema nu este rezolvată."
REOPENED_BY_CHECK = "Verificarea pe teren a găsit problema nerezolvată."
#: The reporter's verdicts as the Romanian refusals name them.
_VERDICT_RO = {"confirmed": "confirmată", "disputed": "contestată"}


def _staff_actor(user: StaffUser) -> Actor:
    return Actor(user.username, user.user_id, "staff")


def _city_row(conn: Connection, city_id: int) -> sa.Row:
    return conn.execute(
        sa.text("SELECT slug, timezone, settings FROM cities WHERE city_id = :c"),
        {"c": city_id},
    ).one()


# -- legal deadline -----------------------------------------------------------


def extend_deadline(
    engine: Engine, user: StaffUser, number: str, reason: str, *, at: datetime | None = None
) -> datetime:
    """Extend the legal reply deadline once, by ``legal_extension_days`` (default 15).

    The law allows one extension, decided by the head of the department (here:
    a ``dept_head`` of the incident's department, or an ``admin``), with a
    reason the petitioner is told; so the reason is required and the event is
    public.  Returns the new deadline.
    """
    if user.role not in (Role.DEPT_HEAD, Role.ADMIN):
        raise PermissionDeniedError(
            "only a department head or an administrator may extend",
            ro="Doar un șef de compartiment sau un administrator poate prelungi termenul",
        )
    from sesizari import workspace

    workspace.check_scope(engine, user, number)
    text = incidents.require_text(reason, "reason")
    with engine.begin() as conn:
        ref = incidents._lock(conn, user.city, number)
        city = _city_row(conn, user.city_id)
        row = conn.execute(
            sa.text(
                "SELECT COALESCE(legal_due_at, legal_term_end(created_at, :tz, :days)) AS due,"
                " legal_extended_at, answered_at, COALESCE(:at, now()) AS now"
                " FROM incidents WHERE city_id = :c AND incident_id = :i"
            ),
            {
                "tz": city.timezone,
                "days": setting(city.settings, "legal_reply_days"),
                "at": at,
                "c": user.city_id,
                "i": ref.incident_id,
            },
        ).one()
        if row.legal_extended_at is not None:
            raise ValidationError(
                "legal_due_at",
                f"{number} was already extended once; the law allows one extension",
                ro=f"termenul sesizării {number} a fost deja prelungit o dată;"
                " legea permite o singură prelungire",
            )
        if row.answered_at is not None:
            raise ValidationError(
                "legal_due_at",
                f"{number} was already answered",
                ro=f"sesizarea {number} a primit deja răspuns",
            )
        if row.now >= row.due:
            raise ValidationError(
                "legal_due_at",
                f"the term of {number} already ran out; extend before it ends",
                ro=f"termenul sesizării {number} a expirat deja;"
                " prelungiți-l înainte să expire",
            )
        days = setting(city.settings, "legal_extension_days")
        new_due = conn.execute(
            sa.text(
                "UPDATE incidents SET legal_due_at ="
                " ((CAST(:due AS timestamptz) AT TIME ZONE :tz) + make_interval(days => :days))"
                " AT TIME ZONE :tz, legal_extended_at = :now, legal_extension_reason = :r,"
                " updated_at = :now WHERE city_id = :c AND incident_id = :i"
                " RETURNING legal_due_at"
            ),
            {
                "due": row.due,
                "tz": city.timezone,
                "days": days,
                "now": row.now,
                "r": text,
                "c": user.city_id,
                "i": ref.incident_id,
            },
        ).scalar_one()
        incidents._event(
            conn,
            user.city_id,
            ref.incident_id,
            EventKind.EXTENDED,
            _staff_actor(user),
            public=True,
            body=text,
            data={"from": row.due.isoformat(), "to": new_due.isoformat(), "days": days},
            at=at,
        )
    return new_due


@dataclass(frozen=True)
class Forwarded:
    status: Status
    institution: str
    forwarded_at: datetime
    late: bool


def forward(
    engine: Engine, user: StaffUser, number: str, institution: str, *, at: datetime | None = None
) -> Forwarded:
    """Send a report that another institution must solve, and close it here.

    Records to whom and when; ``late`` is true when it left after the
    ``forward_days`` (default 5) term, counted like the reply term (end of the
    local calendar day).  The incident becomes ``rejected`` (see the module
    docstring) and the forward counts as the formal answer.
    """
    from sesizari import workspace

    workspace.check_scope(engine, user, number)
    name = (institution or "").strip()
    if not name:
        raise ValidationError(
            "forwarded_to",
            "name the institution the report is sent to",
            ro="scrieți instituția către care este redirecționată sesizarea",
        )
    if len(name) > MAX_INSTITUTION:
        raise ValidationError(
            "forwarded_to",
            f"at most {MAX_INSTITUTION} characters",
            ro=f"cel mult {MAX_INSTITUTION} de caractere",
        )

    def work(conn: Connection) -> Forwarded:
        ref = incidents._lock(conn, user.city, number)
        if ref.status not in OPEN_STATUSES:
            raise TransitionError(
                f"Cannot forward {number}: it is {ref.status.value}",
                ro=f"Sesizarea {number} nu poate fi redirecționată:"
                f" este {STATUS_RO.get(ref.status, ref.status.value)}",
            )
        city = _city_row(conn, user.city_id)
        row = conn.execute(
            sa.text(
                "UPDATE incidents SET status = 'rejected', forwarded_to = :to,"
                " forwarded_at = COALESCE(:at, now()),"
                " answered_at = COALESCE(answered_at, :at, now()),"
                " updated_at = COALESCE(:at, now())"
                " WHERE city_id = :c AND incident_id = :i AND created_at <= COALESCE(:at, now())"
                " RETURNING forwarded_at,"
                " forwarded_at >= legal_term_end(created_at, :tz, :days) AS late"
            ),
            {
                "to": name,
                "at": at,
                "c": user.city_id,
                "i": ref.incident_id,
                "tz": city.timezone,
                "days": setting(city.settings, "forward_days"),
            },
        ).one_or_none()
        if row is None:
            raise ValidationError(
                "forwarded_at",
                "cannot be before the report was registered",
                ro="nu poate fi înainte de înregistrarea sesizării",
            )
        incidents._event(
            conn,
            user.city_id,
            ref.incident_id,
            EventKind.FORWARDED,
            _staff_actor(user),
            from_status=ref.status,
            to_status=Status.REJECTED,
            public=True,
            body=name,
            data={"institution": name, "late": bool(row.late)},
            at=at,
        )
        return Forwarded(Status.REJECTED, name, row.forwarded_at, bool(row.late))

    # Changes the incident's status: run again after a deadlock (sesizari.transactions).
    return run_in_transaction(engine, work)


# -- the reporter's verdict ---------------------------------------------------


def _lock_public(conn: Connection, number: str) -> sa.Row:
    prefix, normalized = registry.read_number(number)
    row = conn.execute(
        sa.text(
            "SELECT i.city_id, i.incident_id, i.registry_number, i.status, i.resolved_at,"
            " i.pin_hash, i.pin_failures, c.slug, c.settings, now() AS now"
            " FROM incidents i JOIN cities c USING (city_id)"
            " WHERE c.registry_prefix = :p AND i.registry_number = :n FOR UPDATE OF i"
        ),
        {"p": prefix, "n": normalized},
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"No report {normalized}", ro=f"Nu există sesizarea {normalized}")
    return row


def _check_verdict(engine: Engine, number: str, pin: str) -> None:
    """PIN first (nothing about the report is told to someone without it), then state."""
    with engine.begin() as conn:
        row = _lock_public(conn, number)
        if row.pin_hash is None:
            raise ValidationError(
                "pin",
                f"{row.registry_number} has no PIN: it was filed without contact details",
                ro=f"sesizarea {row.registry_number} nu are cod PIN:"
                " a fost depusă fără date de contact",
            )
        if row.pin_failures >= MAX_PIN_FAILURES:
            raise ValidationError(
                "pin",
                "too many wrong PINs; contact the city hall",
                ro="prea multe coduri PIN greșite; contactați primăria",
            )
        if not pin_matches(row.pin_hash, pin or ""):
            conn.execute(
                sa.text(
                    "UPDATE incidents SET pin_failures = pin_failures + 1"
                    " WHERE city_id = :c AND incident_id = :i"
                ),
                {"c": row.city_id, "i": row.incident_id},
            )
            # the failed attempt is counted (committed) and the caller gets the error
            failed = True
        else:
            failed = False
    if failed:
        raise ValidationError(
            "pin", "wrong PIN for this report", ro="cod PIN greșit pentru această sesizare"
        )


def check_pin(engine: Engine, number: str, pin: str) -> None:
    """The reporter's PIN for ``number``, under the verdict's guard (each wrong
    PIN counted, the report locked after :data:`MAX_PIN_FAILURES`): every
    request a reporter makes with it shares the one count."""
    _check_verdict(engine, number, pin)


def lock_report(conn: Connection, number: str) -> sa.Row:
    """The report ``number`` found by its number alone, locked for the transaction."""
    return _lock_public(conn, number)


def _verdict(conn: Connection, number: str) -> sa.Row:
    """The locked row after the PIN check, refused unless a verdict may be given now."""
    row = _lock_public(conn, number)
    if row.status not in (Status.RESOLVED, Status.CLOSED) or row.resolved_at is None:
        raise ValidationError(
            "status",
            f"{row.registry_number} is {row.status}: only a resolved report can be"
            " confirmed or disputed",
            ro=f"sesizarea {row.registry_number} este {STATUS_RO.get(row.status, row.status)}:"
            " doar o sesizare rezolvată poate fi confirmată sau contestată",
        )
    days = setting(row.settings, "verification_days")
    ends = row.resolved_at + timedelta(days=days)
    if row.now > ends:
        raise ValidationError(
            "verification_days",
            f"the {days}-day window to confirm or dispute {row.registry_number} ended on"
            f" {ends.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
            ro=f"perioada de {ro_count(days, 'zile', 'zi')} pentru confirmarea sau contestarea"
            f" sesizării {row.registry_number} s-a încheiat la"
            f" {ends.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        )
    given = conn.execute(
        sa.text(
            "SELECT kind FROM incident_events WHERE city_id = :c AND incident_id = :i"
            " AND kind IN ('confirmed', 'disputed') AND created_at >= :r"
            " ORDER BY created_at DESC LIMIT 1"
        ),
        {"c": row.city_id, "i": row.incident_id, "r": row.resolved_at},
    ).scalar_one_or_none()
    if given is not None:
        raise ValidationError(
            "verdict",
            f"this fix was already {given} by the reporter",
            ro=f"această rezolvare a fost deja {_VERDICT_RO.get(given, given)} de petent",
        )
    conn.execute(
        sa.text("UPDATE incidents SET pin_failures = 0 WHERE city_id = :c AND incident_id = :i"),
        {"c": row.city_id, "i": row.incident_id},
    )
    return row


def confirm_fix(engine: Engine, number: str, pin: str) -> None:
    """The reporter confirms the fix (tracking link + PIN), within ``verification_days``."""
    _check_verdict(engine, number, pin)
    with engine.begin() as conn:
        row = _verdict(conn, number)
        incidents._event(
            conn, row.city_id, row.incident_id, EventKind.CONFIRMED, REPORTER, public=True
        )


def dispute_fix(engine: Engine, number: str, pin: str, text: str) -> Status:
    """The reporter says it is not fixed: a ``disputed`` event, and the incident reopens.

    Both in one transaction, so a dispute can never be recorded without the
    reopen (or the other way round).  The reporter's words stay off public
    outputs (they may name people); staff see them in the event's ``data.text``.
    """
    body = incidents.require_text(text, "text")
    _check_verdict(engine, number, pin)

    def work(conn: Connection) -> Status:
        row = _verdict(conn, number)
        # public (the timeline shows the dispute) but without a body: public bodies
        # reach Open311 status notes, and the reporter's words may name people
        incidents._event(
            conn,
            row.city_id,
            row.incident_id,
            EventKind.DISPUTED,
            REPORTER,
            public=True,
            data={"text": body},
        )
        return incidents.perform_in(
            conn,
            row.slug,
            row.registry_number,
            Action.REOPEN,
            REPORTER,
            text=REOPENED_BY_DISPUTE,
        )

    return run_in_transaction(engine, work)


# -- resolution evidence --------------------------------------------------------


def photo_required(conn: Connection, city_id: int) -> bool:
    """City setting ``resolution_photo_required``; true when absent (new cities)."""
    return bool(
        conn.execute(
            sa.text(
                "SELECT COALESCE((settings->>'resolution_photo_required')::boolean, true)"
                " FROM cities WHERE city_id = :c"
            ),
            {"c": city_id},
        ).scalar_one()
    )


def has_after_photo(conn: Connection, city_id: int, number: str) -> bool:
    """A 'resolution' photo uploaded after the report was created and after its last
    reopen: a picture from before the report, or of an earlier failed fix, is no evidence."""
    return bool(
        conn.execute(
            sa.text(
                "SELECT EXISTS (SELECT 1 FROM incidents i JOIN photos p"
                " ON p.city_id = i.city_id AND p.incident_id = i.incident_id"
                " WHERE i.city_id = :c AND i.registry_number = :n AND p.stage = 'resolution'"
                " AND p.uploaded_at > GREATEST(i.created_at, (SELECT max(e.created_at)"
                "  FROM incident_events e WHERE e.city_id = i.city_id"
                "  AND e.incident_id = i.incident_id AND e.kind = 'reopened')))"
            ),
            {"c": city_id, "n": registry.normalize(number)},
        ).scalar_one()
    )


# -- field verification ---------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    sample_id: int
    population: int
    numbers: tuple[str, ...]


def _require_manager(user: StaffUser) -> None:
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise PermissionDeniedError(
            "only a manager or an administrator may do field checks",
            ro="Doar conducerea sau un administrator poate face verificări pe teren",
        )


def draw_sample(
    engine: Engine,
    user: StaffUser,
    share: float = 0.05,
    since: datetime | None = None,
    seed: int | None = None,
) -> Sample:
    """Draw ``ceil(share * N)`` of the N incidents resolved (or closed) since ``since``
    (default: 30 days ago) for a field check.  The same ``seed`` over the same
    population draws the same incidents, so a draw can be audited."""
    _require_manager(user)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise ValidationError(
            "share",
            f"a fraction in (0, 1], e.g. 0.05; got {share!r}",
            ro=f"o fracție din intervalul (0, 1], de exemplu 0.05; valoarea primită: {share!r}",
        )
    if since is not None and since.tzinfo is None:
        raise ValidationError(
            "since",
            "pass a time-zone aware datetime (e.g. tzinfo=UTC)",
            ro="dați data și ora cu fusul orar (de exemplu tzinfo=UTC)",
        )
    with engine.begin() as conn:
        since = since or conn.execute(sa.text("SELECT now() - interval '30 days'")).scalar_one()
        population = conn.execute(
            sa.text(
                "SELECT incident_id, registry_number FROM incidents WHERE city_id = :c"
                " AND status IN ('resolved', 'closed') AND resolved_at >= :since"
                " ORDER BY incident_id"
            ),
            {"c": user.city_id, "since": since},
        ).all()
        k = math.ceil(share * len(population)) if population else 0
        rng = random.Random(seed) if seed is not None else secrets.SystemRandom()
        drawn = sorted(rng.sample(population, k), key=lambda r: r.incident_id)
        sample_id = conn.execute(
            sa.text(
                "INSERT INTO verification_samples (city_id, drawn_by, share, since, seed,"
                " population) VALUES (:c, :u, :share, :since, :seed, :n) RETURNING sample_id"
            ),
            {
                "c": user.city_id,
                "u": user.user_id,
                "share": share,
                "since": since,
                "seed": seed,
                "n": len(population),
            },
        ).scalar_one()
        if drawn:
            conn.execute(
                sa.text(
                    "INSERT INTO verification_checks (city_id, sample_id, incident_id)"
                    " VALUES (:c, :s, :i)"
                ),
                [{"c": user.city_id, "s": sample_id, "i": r.incident_id} for r in drawn],
            )
    return Sample(sample_id, len(population), tuple(r.registry_number for r in drawn))


def record_check(
    engine: Engine,
    user: StaffUser,
    sample_id: int,
    number: str,
    outcome: str,
    notes: str | None = None,
) -> Status:
    """Record what the field check found.  ``not_fixed`` reopens a resolved incident,
    like a reporter's dispute.  Returns the incident's status afterwards."""
    _require_manager(user)
    if outcome not in OUTCOMES:
        raise ValidationError(
            "outcome",
            f"use one of {list(OUTCOMES)}, got {outcome!r}",
            ro=f"folosiți una dintre valorile {list(OUTCOMES)}; valoarea primită: {outcome!r}",
        )
    if notes is not None and len(notes) > incidents.MAX_TEXT:
        raise ValidationError(
            "notes",
            f"at most {incidents.MAX_TEXT} characters",
            ro=f"cel mult {incidents.MAX_TEXT} de caractere",
        )
    actor = _staff_actor(user)

    def work(conn: Connection) -> Status:
        ref = incidents._lock(conn, user.city, number)
        done = conn.execute(
            sa.text(
                "SELECT checked_at FROM verification_checks"
                " WHERE city_id = :c AND sample_id = :s AND incident_id = :i FOR UPDATE"
            ),
            {"c": user.city_id, "s": sample_id, "i": ref.incident_id},
        ).one_or_none()
        if done is None:
            raise ValidationError(
                "number",
                f"{number} is not in sample {sample_id}",
                ro=f"sesizarea {number} nu face parte din eșantionul {sample_id}",
            )
        if done.checked_at is not None:
            raise ValidationError(
                "outcome",
                f"the check of {number} was already recorded",
                ro=f"verificarea sesizării {number} a fost deja înregistrată",
            )
        conn.execute(
            sa.text(
                "UPDATE verification_checks SET outcome = :o, checked_at = now(),"
                " checked_by = :u, notes = :notes"
                " WHERE city_id = :c AND sample_id = :s AND incident_id = :i"
            ),
            {
                "o": outcome,
                "u": user.user_id,
                "notes": (notes or "").strip() or None,
                "c": user.city_id,
                "s": sample_id,
                "i": ref.incident_id,
            },
        )
        incidents._event(
            conn,
            user.city_id,
            ref.incident_id,
            EventKind.VERIFIED,
            actor,
            public=True,
            data={"sample_id": sample_id, "outcome": outcome},
        )
        if outcome == "not_fixed" and ref.status in (Status.RESOLVED, Status.CLOSED):
            return incidents.perform_in(
                conn,
                user.city,
                number,
                Action.REOPEN,
                actor,
                text=REOPENED_BY_CHECK,
            )
        return ref.status

    return run_in_transaction(engine, work)

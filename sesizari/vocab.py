"""The shared vocabulary: statuses, channels, roles, workflow, CRS constants.

Depends on nothing else in the project, so every layer (SQL checks, domain
API, dashboard, ETL) can agree on the same words.  The SQL ``CHECK``
constraints in ``sql/migrations`` list the same values; a test keeps them equal.
"""

from __future__ import annotations

from enum import StrEnum

#: Geographic CRS of every stored geometry.
WGS84 = 4326
#: Romania's national metric CRS (Stereo70): distances, buffers and clusters.
STEREO70 = 3844


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


#: The statuses as the Romanian refusals name them ("este în lucru"); the
#: pages' own labels are in ``dashboard/texts.py``.
STATUS_RO: dict[str, str] = {
    Status.NEW: "nouă",
    Status.ACKNOWLEDGED: "preluată",
    Status.IN_PROGRESS: "în lucru",
    Status.RESOLVED: "rezolvată",
    Status.CLOSED: "închisă",
    Status.REJECTED: "respinsă",
    Status.DUPLICATE: "marcată ca dublură",
}

def ro_count(n: int, plural: str, one: str | None = None) -> str:
    """``n`` with its noun as Romanian writes it: "1 zi", "14 zile", "30 de zile",
    "40.000.000 de pixeli" ("de" from 20 on, except after 01-19 in the last two
    digits; thousands grouped with points)."""
    if n == 1 and one:
        return f"1 {one}"
    de = "" if n < 20 or 0 < n % 100 < 20 else "de "
    return f"{n:,}".replace(",", ".") + f" {de}{plural}"


#: Statuses counted as "still to do" by every backlog figure.
OPEN_STATUSES: tuple[Status, ...] = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
#: Statuses where the work is finished with a fix.
DONE_STATUSES: tuple[Status, ...] = (Status.RESOLVED, Status.CLOSED)


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    PHONE = "phone"
    EMAIL = "email"
    COUNTER = "counter"
    FEED = "feed"


class Role(StrEnum):
    STAFF = "staff"
    DEPT_HEAD = "dept_head"
    DISPATCHER = "dispatcher"
    MANAGER = "manager"
    ADMIN = "admin"


class Action(StrEnum):
    """Workflow actions; each writes one ``incident_events`` row of the same kind."""

    ACKNOWLEDGE = "acknowledged"
    START = "started"
    RESOLVE = "resolved"
    CLOSE = "closed"
    REJECT = "rejected"
    MARK_DUPLICATE = "duplicate"
    REOPEN = "reopened"


class EventKind(StrEnum):
    """Every kind of row in ``incident_events`` (status changes and the rest)."""

    CREATED = "created"
    ACKNOWLEDGED = "acknowledged"
    STARTED = "started"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"
    ASSIGNED = "assigned"
    REROUTED = "rerouted"
    NOTE = "note"
    PUBLIC_UPDATE = "public_update"
    UPDATED = "updated"
    EXTENDED = "extended"
    FORWARDED = "forwarded"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    VERIFIED = "verified"
    ERASED = "erased"  # personal data removed (sesizari.privacy)


_ANY_OPEN = frozenset(OPEN_STATUSES)

#: action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.ACKNOWLEDGE: (frozenset({Status.NEW}), Status.ACKNOWLEDGED),
    Action.START: (frozenset({Status.NEW, Status.ACKNOWLEDGED}), Status.IN_PROGRESS),
    Action.RESOLVE: (_ANY_OPEN, Status.RESOLVED),
    Action.CLOSE: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.REJECT: (_ANY_OPEN, Status.REJECTED),
    Action.MARK_DUPLICATE: (_ANY_OPEN, Status.DUPLICATE),
    Action.REOPEN: (
        frozenset({Status.RESOLVED, Status.CLOSED, Status.REJECTED, Status.DUPLICATE}),
        Status.ACKNOWLEDGED,
    ),
}


def next_status(current: Status | str, action: Action) -> Status | None:
    """The status ``action`` leads to from ``current``, or None when not allowed."""
    sources, target = TRANSITIONS[action]
    return target if Status(current) in sources else None

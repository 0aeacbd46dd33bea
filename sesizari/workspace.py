"""The staff workspace: what a signed-in user may see and do.

Every staff action goes through here, which checks the user's scope before
calling the domain API: staff and department heads act only on incidents of
their own department, city-wide roles on the whole city.  Nothing in the
dashboard bypasses this module to change an incident.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sesizari import accountability, incidents, registry
from sesizari.auth import StaffUser
from sesizari.errors import PermissionDeniedError, TransitionError, ValidationError
from sesizari.incidents import Actor
from sesizari.vocab import STATUS_RO, Action, next_status

_QUEUE_SQL = sa.text(
    """
    SELECT i.registry_number, c.code AS category, c.name_ro AS category_ro,
           c.name_en AS category_en, d.code AS department, i.status,
           u.username AS assignee, u.full_name AS assignee_name,
           u.active AS assignee_active, ds.name AS district,
           i.address, i.description,
           i.created_at,
           date_part('epoch', (now() - i.created_at)) / 3600 AS age_hours,
           c.target_hours,
           (now() - i.created_at) > make_interval(secs => c.target_hours * 3600) AS overdue,
           sp.supporters,
           count(*) OVER () AS total
    FROM incidents i
    JOIN cities ci USING (city_id)
    JOIN categories c USING (city_id, category_id)
    JOIN departments d ON d.city_id = i.city_id AND d.department_id = i.department_id
    LEFT JOIN users u ON u.city_id = i.city_id AND u.user_id = i.assignee_user_id
    LEFT JOIN districts ds ON ds.city_id = i.city_id AND ds.district_id = i.district_id
    -- How many more times it was reported (supports on the web, calls added,
    -- reports marked as its duplicates).
    CROSS JOIN LATERAL (
        SELECT (SELECT count(*) FROM incident_supports s
                WHERE s.city_id = i.city_id AND s.incident_id = i.incident_id)
             + (SELECT count(*) FROM incidents dup
                WHERE dup.city_id = i.city_id AND dup.duplicate_of = i.incident_id)
               AS supporters
    ) sp
    WHERE i.city_id = :city_id
      AND (CAST(:dep AS integer) IS NULL OR i.department_id = :dep)
      AND i.status = ANY(:statuses)
      AND (CAST(:me AS integer) IS NULL OR i.assignee_user_id = :me)
      AND (CAST(:search AS text) IS NULL OR i.registry_number ILIKE :search
           OR translate(i.address, :fold_from, :fold_to) ILIKE :search
           OR translate(i.description, :fold_from, :fold_to) ILIKE :search)
      AND (NOT :overdue_only
           OR (now() - i.created_at) > make_interval(secs => c.target_hours * 3600))
    -- Overdue first: the earliest target first, so a cut keeps the most overdue.
    -- Most reported first: the most supports first, then the oldest.
    ORDER BY CASE WHEN :sort = 'overdue'
                  THEN i.created_at + make_interval(secs => c.target_hours * 3600) END,
             CASE WHEN :sort = 'reported' THEN sp.supporters END DESC NULLS LAST,
             i.created_at, i.registry_number
    LIMIT :limit
    """
)


#: Romanian letters and their plain forms: a search typed without diacritics
#: ("scolii", "Bocsei") finds the text written with them, and the other way round.
FOLD_FROM, FOLD_TO = "ăâîșşțţĂÂÎȘŞȚŢ", "aaissttAAISSTT"
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)


def contains_pattern(text: str | None) -> str | None:
    """An ILIKE pattern matching ``text`` anywhere, its own ``%``, ``_`` and
    ``\\`` taken literally, its Romanian letters folded (:data:`FOLD_FROM`);
    None for no text (no filter)."""
    text = (text or "").strip().translate(_FOLD)
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


#: The orders of the work queue: oldest first, furthest past the target
#: first, or reported the most times first (the problem most people wait on).
QUEUE_SORTS = ("age", "overdue", "reported")


def scope(user: StaffUser) -> int | None:
    """The department a user is limited to, or None for city-wide roles."""
    return None if user.city_wide else user.department_id


def work_queue(
    engine: Engine,
    user: StaffUser,
    statuses: tuple[str, ...] = ("new", "acknowledged", "in_progress"),
    overdue_only: bool = False,
    limit: int = 500,
    sort: str = "age",
    mine: bool = False,
    search: str | None = None,
) -> pd.DataFrame:
    """Open work of the user's department (city-wide roles: the city), oldest
    first, or (``sort="overdue"``) furthest past the category's target first,
    or (``sort="reported"``) reported again the most times first
    (``supporters``: a citizen's support on the web, a call added by the desk,
    a report marked as its duplicate).

    At most ``limit`` rows, cut after the sort; ``total`` (on every row) counts
    them all, so the page can say how many it does not show.  ``mine`` keeps
    the incidents given to ``user``; ``search`` those whose number, address or
    description holds the text (any case, with or without diacritics; ``%`` and
    ``_`` are plain characters), for the caller who does not know their number.
    """
    if sort not in QUEUE_SORTS:
        raise ValidationError(
            "sort",
            f"sort by one of {', '.join(QUEUE_SORTS)}, not {sort!r}",
            ro=f"ordonarea este una dintre {', '.join(QUEUE_SORTS)}, nu {sort!r}",
        )
    with engine.connect() as conn:
        return pd.read_sql(
            _QUEUE_SQL,
            conn,
            params={
                "city_id": user.city_id,
                "dep": scope(user),
                "statuses": list(statuses),
                "overdue_only": overdue_only,
                "limit": limit,
                "sort": sort,
                "me": user.user_id if mine else None,
                "search": contains_pattern(search),
                "fold_from": FOLD_FROM,
                "fold_to": FOLD_TO,
            },
        )


def check_scope(engine: Engine, user: StaffUser, number: str) -> None:
    with engine.connect() as conn:
        dep = conn.execute(
            sa.text(
                "SELECT department_id FROM incidents WHERE city_id = :c AND registry_number = :n"
            ),
            {"c": user.city_id, "n": registry.normalize(number)},
        ).scalar_one_or_none()
    if dep is None:
        raise incidents.NotFoundError(
            f"No incident {number!r} in this city",
            ro=f"Nu există sesizarea {number!r} în acest oraș",
        )
    if scope(user) is not None and dep != scope(user):
        raise PermissionDeniedError(
            f"{number} belongs to another department",
            ro=f"Sesizarea {number} aparține altui compartiment",
        )


def incident_detail(engine: Engine, user: StaffUser, number: str) -> dict[str, Any]:
    """Incident, full history, reporter contact, photos (``photos``, as
    :func:`sesizari.photos.photos_for` gives them), the times it was
    reported again (``supports``: channel -> count, the reports marked as its
    duplicates included) and those reports' numbers (``duplicates``), for a
    user allowed to see them."""
    from sesizari import photos

    check_scope(engine, user, number)
    with engine.connect() as conn:
        detail = incidents.get_incident(conn, user.city, number)
        detail["events"] = incidents.get_events(
            conn, user.city, number, incident_id=detail["incident_id"]
        )
        detail["photos"] = photos.photos_for(conn, user.city, number)
        contact = conn.execute(
            sa.text(
                "SELECT name, phone, email FROM incident_contacts"
                " WHERE city_id = :c AND incident_id = :i"
            ),
            {"c": user.city_id, "i": detail["incident_id"]},
        ).one_or_none()
        # How many more times it was reported (a citizen's "support" on the
        # web, a dispatcher adding a call, a report marked as its duplicate),
        # by channel, most first: staff see how many people wait on it.
        key = {"c": user.city_id, "i": detail["incident_id"]}
        supports = conn.execute(
            sa.text(
                "SELECT channel, count(*) AS n FROM ("
                " SELECT channel FROM incident_supports WHERE city_id = :c AND incident_id = :i"
                " UNION ALL SELECT channel FROM incidents"
                " WHERE city_id = :c AND duplicate_of = :i) r"
                " GROUP BY channel ORDER BY n DESC, channel"
            ),
            key,
        ).all()
        detail["duplicates"] = list(conn.execute(
            sa.text("SELECT registry_number FROM incidents WHERE city_id = :c"
                    " AND duplicate_of = :i ORDER BY created_at, registry_number"),
            key,
        ).scalars())  # fmt: skip
    detail["supports"] = {r.channel: r.n for r in supports}
    detail["contact"] = dict(contact._mapping) if contact else None
    return detail


def actor(user: StaffUser) -> Actor:
    return Actor(user.username, user.user_id, "staff")


def act(engine: Engine, user: StaffUser, number: str, action: Action | str, **kwargs: Any):
    """A workflow action by ``user`` (see :func:`sesizari.incidents.perform`).

    Resolving here needs the same evidence as :func:`resolve` (an "after" photo
    already attached, when the city requires one), so no staff path skips it.
    """
    check_scope(engine, user, number)
    if Action(action) is Action.RESOLVE:
        with engine.connect() as conn:
            if accountability.photo_required(
                conn, user.city_id
            ) and not accountability.has_after_photo(conn, user.city_id, number):
                raise ValidationError("photo", _PHOTO_NEEDED, ro=_PHOTO_NEEDED_RO)
    return incidents.perform(engine, user.city, number, action, actor(user), **kwargs)


_PHOTO_NEEDED = 'this city requires a photo of the fix taken after the report (an "after" photo)'
_PHOTO_NEEDED_RO = (
    "acest oraș cere o fotografie a rezolvării, făcută după sesizare (o fotografie „după”)"
)


def resolve(engine: Engine, user: StaffUser, number: str, text: str, images: list[bytes]):
    """Resolve with a description and "after" photos; the city may require evidence.

    With ``resolution_photo_required`` (the default for new cities) a resolution
    needs a 'resolution' photo uploaded after the report was created and after
    its last reopen: one given now, or one attached before.  The domain
    :func:`sesizari.incidents.perform` stays permissive on purpose: feeds and
    imports close incidents whose evidence lives in another system; the rule
    binds city staff, who resolve through this module.

    Everything that can be refused is checked before anything is stored: scope,
    status, text, the photo requirement, and every photo (decoded and cleaned).
    """
    from sesizari import photos

    check_scope(engine, user, number)
    incidents.require_text(text, "resolution_text")
    with engine.connect() as conn:
        status = incidents.get_incident(conn, user.city, number)["status"]
        required = accountability.photo_required(conn, user.city_id)
        has_photo = accountability.has_after_photo(conn, user.city_id, number)
    if next_status(status, Action.RESOLVE) is None:
        raise TransitionError(
            f"Cannot resolve {number}: it is {status}",
            ro=f"Nu se poate rezolva sesizarea {number}: este"
            f" {STATUS_RO.get(status, status)}",
        )
    if required and not images and not has_photo:
        raise ValidationError("photo", _PHOTO_NEEDED, ro=_PHOTO_NEEDED_RO)
    processed = [photos.process_photo(data) for data in images]
    for photo in processed:
        photos.attach_photo(engine, user.city, number, photo, "resolution", actor(user), True)
    return incidents.perform(engine, user.city, number, Action.RESOLVE, actor(user), text=text)


def assign(engine: Engine, user: StaffUser, number: str, username: str) -> None:
    check_scope(engine, user, number)
    incidents.assign(engine, user.city, number, username, actor(user))


def reroute(engine: Engine, user: StaffUser, number: str, **kwargs: Any) -> str:
    check_scope(engine, user, number)
    return incidents.reroute(engine, user.city, number, actor(user), **kwargs)


def attach_report_photo(engine: Engine, user: StaffUser, number: str, data: bytes) -> None:
    """Attach a photo of the problem to a report taken by staff (an e-mail's
    attachment, a caller's picture shown at the counter): the same checks
    and cleaning as a citizen's, with the staff member as its uploader."""
    from sesizari import photos

    check_scope(engine, user, number)
    photos.attach_photo(engine, user.city, number, data, "report", actor(user))


def note(engine: Engine, user: StaffUser, number: str, text: str, public: bool = False) -> None:
    check_scope(engine, user, number)
    incidents.add_note(engine, user.city, number, actor(user), text, public)


def set_description_public(engine: Engine, user: StaffUser, number: str, public: bool) -> None:
    """Show or hide the description in every public output."""
    check_scope(engine, user, number)
    incidents.set_description_public(engine, user.city, number, public, actor(user))


def department_users(engine: Engine, user: StaffUser, department: str | None) -> dict[str, str]:
    """The people a user may assign work to: username -> full name, by name.

    Active staff and heads of ``department`` only (as :func:`assign` requires).
    """
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT u.username, u.full_name FROM users u JOIN departments d"
                " ON d.city_id = u.city_id AND d.department_id = u.department_id"
                " WHERE u.city_id = :c AND d.code = :dep AND u.active"
                " AND u.role IN ('staff', 'dept_head') ORDER BY u.full_name, u.username"
            ),
            {"c": user.city_id, "dep": department},
        )
        return {r.username: r.full_name for r in rows}

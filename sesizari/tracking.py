"""The citizen's view of one report, found by its registry number alone.

The prefix of the number names the city (``LUG-2026-000123`` -> Lugoj), so a
tracking link needs nothing else.  Only public fields leave this module: no
reporter contact, no internal notes, no staff names, and no staff text that
looks like it holds personal data (numbers are sequential: anyone can open
any of them).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sesizari.catalog import get_city
from sesizari.commitments import LEGAL_DUE_SQL, setting
from sesizari.errors import NotFoundError
from sesizari.opendata import (
    PUBLIC_ADDRESS_SQL,
    PUBLIC_POINT_SQL,
    public_precision,
    unless_personal,
)
from sesizari.registry import read_number

#: Event kinds shown on the public timeline (internal notes never are).
PUBLIC_KINDS = (
    "created",
    "acknowledged",
    "started",
    "resolved",
    "closed",
    "rejected",
    "duplicate",
    "reopened",
    "rerouted",
    "public_update",
    "extended",
    "forwarded",
    "confirmed",
    "disputed",
    "verified",
)


def track(engine: Engine, number: str) -> dict[str, Any]:
    """Public fields, timeline and resolution photos of the incident ``number``.

    Includes what the city committed to: ``legal_due_at`` (reply deadline, after
    any extension; ``legal_extended_at`` when extended), ``owes_reply`` (false for
    anonymous reports), ``answered_at``, ``forwarded_to`` / ``forwarded_at`` when
    another institution got it, the ``expected_hours_p50`` / ``_p80`` estimate
    given at creation, ``recurrence_of`` (an earlier fix here that did not last)
    and ``supporters``, how many more times the problem was reported
    (supports, and reports marked as its duplicates: a count only, who did
    is nobody's business).
    The extension reason is public (the petitioner must be told it); the
    reporter's dispute text is not.

    For a resolved or closed report, ``verdict_until`` is the end of the
    reporter's window to confirm or dispute the fix (``verification_days``
    after it), and ``verdict`` the ``confirmed`` / ``disputed`` already given
    for this fix, if any: both public already (the timeline shows the verdict),
    they let the page offer the form only while it can still be used
    (``verdict_open``, on the database's clock, as the verdict itself is checked).
    """
    prefix, normalized = read_number(number)
    with engine.connect() as conn:
        slug = conn.execute(sa.text("SELECT slug FROM cities WHERE registry_prefix = :p"),
                            {"p": prefix}).scalar_one_or_none()
        if slug is None:
            raise NotFoundError(f"No report {normalized}", ro=f"Nu există sesizarea {normalized}")
        city = get_city(conn, slug)
        row = conn.execute(
            sa.text(
                "SELECT i.city_id, i.incident_id, i.registry_number, ci.slug AS city,"  # noqa: S608
                " ci.name_ro AS city_ro, ci.name_en AS city_en, ci.timezone, i.status,"
                " cat.name_ro AS category_ro, cat.name_en AS category_en,"
                " d.name_ro AS department_ro, d.name_en AS department_en,"
                " i.created_at, i.resolved_at, i.closed_at,"
                # Anyone with the number opens this page: a text holding an
                # e-mail, phone, CNP or plate is left out (migration 0027).
                " " + unless_personal("i.resolution_text") + " AS resolution_text,"
                # A sensitive category's place as the open data gives it: no
                # address, the point snapped to the city's public grid; no
                # address that holds contact data either.
                " " + PUBLIC_ADDRESS_SQL + " AS address,"
                " ST_Y(p.geom) AS latitude, ST_X(p.geom) AS longitude,"
                " dup.registry_number AS duplicate_of,"
                " " + LEGAL_DUE_SQL + " AS legal_due_at,"
                " i.legal_extended_at, i.owes_reply, i.answered_at, i.forwarded_to,"
                " i.forwarded_at, CAST(i.expected_hours_p50 AS float8) AS expected_hours_p50,"
                " CAST(i.expected_hours_p80 AS float8) AS expected_hours_p80,"
                " rec.registry_number AS recurrence_of, now() AS checked_at,"
                " (SELECT count(*) FROM incident_supports s WHERE s.city_id = i.city_id"
                "  AND s.incident_id = i.incident_id)"
                " + (SELECT count(*) FROM incidents d2 WHERE d2.city_id = i.city_id"
                "  AND d2.duplicate_of = i.incident_id) AS supporters"
                " FROM incidents i JOIN cities ci USING (city_id)"
                " JOIN categories cat USING (city_id, category_id)"
                " CROSS JOIN LATERAL (SELECT " + PUBLIC_POINT_SQL + " AS geom) p"
                " JOIN departments d ON d.city_id = i.city_id AND d.department_id = i.department_id"
                " LEFT JOIN incidents dup ON dup.city_id = i.city_id"
                "  AND dup.incident_id = i.duplicate_of"
                " LEFT JOIN incidents rec ON rec.city_id = i.city_id"
                "  AND rec.incident_id = i.recurrence_of"
                " WHERE i.city_id = :bnd_city AND i.registry_number = :n"
            ),
            {"n": normalized, "bnd_city": city.city_id, "prec": public_precision(city)},
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"No report {normalized}", ro=f"Nu există sesizarea {normalized}")
        incident = dict(row._mapping)
        timeline = conn.execute(
            sa.text(
                "SELECT kind, to_status, CASE WHEN kind IN ('public_update', 'resolved',"  # noqa: S608
                " 'rejected', 'reopened', 'extended', 'forwarded')"
                " THEN " + unless_personal("body") + " END AS text,"
                " created_at"
                " FROM incident_events WHERE city_id = :c AND incident_id = :i"
                " AND is_public AND kind = ANY(:kinds) ORDER BY created_at, event_id"
            ),
            {"c": row.city_id, "i": row.incident_id, "kinds": list(PUBLIC_KINDS)},
        )
        incident["timeline"] = [dict(r._mapping) for r in timeline]
        photos = conn.execute(
            sa.text(
                "SELECT stage, storage_key, width, height FROM photos"
                " WHERE city_id = :c AND incident_id = :i"
                " AND (stage = 'resolution' OR is_public) ORDER BY uploaded_at, photo_id"
            ),
            {"c": row.city_id, "i": row.incident_id},
        )
        incident["photos"] = [dict(r._mapping) for r in photos]
    checked_at = incident.pop("checked_at")
    incident["verdict"] = incident["verdict_until"] = None
    if incident["status"] in ("resolved", "closed") and incident["resolved_at"] is not None:
        days = setting(city.settings, "verification_days")
        incident["verdict_until"] = incident["resolved_at"] + timedelta(days=days)
        given = [
            e["kind"]
            for e in incident["timeline"]
            if e["kind"] in ("confirmed", "disputed") and e["created_at"] >= incident["resolved_at"]
        ]
        incident["verdict"] = given[-1] if given else None
    incident["verdict_open"] = (
        incident["verdict"] is None
        and incident["verdict_until"] is not None
        and checked_at <= incident["verdict_until"]
    )
    for private in ("city_id", "incident_id"):
        incident.pop(private)
    return incident

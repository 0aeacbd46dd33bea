"""Citizen intake: duplicates nearby, support instead of a new report, rate limits.

The dashboard's Report page and the dispatcher desk call these before and
around :func:`sesizari.incidents.create_incident`.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sesizari.catalog import get_city
from sesizari.errors import NotFoundError, RateLimitError, ValidationError
from sesizari.opendata import PUBLIC_POINT_SQL, public_precision
from sesizari.registry import normalize as normalize_number
from sesizari.settings import load_settings

NEARBY_METRES = 50
NEARBY_DAYS = 30
#: Who :func:`check_rate` counts (its ``what``), as the Romanian refusal names them.
_WHAT_RO = {"this connection": "această conexiune", "this api_key": "această cheie API"}

#: What a citizen filing a report sees of the open reports around the point:
#: what the public map shows, no more.  Distances are measured from each
#: report's public point (snapped for sensitive categories: with the exact
#: one, moving the point in and out of the radius would find a sensitive
#: report to the metre), and a description staff hid stays hidden.
#: PUBLIC_POINT_SQL is a constant of sesizari.opendata; every value is bound.
_NEARBY_SQL = sa.text(
    "SELECT i.registry_number, i.status,"  # noqa: S608
    " CASE WHEN i.description_public THEN i.description END AS description, i.created_at,"
    " round(ST_Distance(ST_Transform(p.geom, 3844), ST_Transform(me.geom, 3844)))"
    "  AS distance_m,"
    " (SELECT count(*) FROM incident_supports s"
    "  WHERE s.city_id = i.city_id AND s.incident_id = i.incident_id) AS supporters"
    " FROM incidents i"
    " JOIN categories cat USING (city_id, category_id)"
    " CROSS JOIN (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom) me"
    " CROSS JOIN LATERAL (SELECT " + PUBLIC_POINT_SQL + " AS geom) p"
    " WHERE i.city_id = :bnd_city AND cat.code = :category"
    " AND i.status IN ('new', 'acknowledged', 'in_progress')"
    " AND i.created_at >= now() - make_interval(days => :days)"
    # The exact point first: a snapped one is at most 1.42 grid cells away
    # (the snap, then the boundary), so only these can be near enough.
    " AND ST_DWithin(ST_Transform(i.geom, 3844), ST_Transform(me.geom, 3844),"
    "  :radius + 1.5 * :prec)"
    " AND ST_DWithin(ST_Transform(p.geom, 3844), ST_Transform(me.geom, 3844), :radius)"
    " ORDER BY distance_m, i.created_at DESC"
    " LIMIT 10"
)


def nearby_open(
    engine: Engine,
    city: str,
    category: str,
    lon: float,
    lat: float,
    radius_m: float = NEARBY_METRES,
    days: int = NEARBY_DAYS,
) -> pd.DataFrame:
    """Open incidents of ``category`` within ``radius_m`` (metric CRS) from the last
    ``days``, as the public sees them (:data:`_NEARBY_SQL`)."""
    with engine.connect() as conn:
        city_row = get_city(conn, city)
        return pd.read_sql(
            _NEARBY_SQL,
            conn,
            params={
                "bnd_city": city_row.city_id,
                "prec": public_precision(city_row),
                "category": category,
                "lon": lon,
                "lat": lat,
                "radius": radius_m,
                "days": days,
            },
        )


def add_support(engine: Engine, city: str, number: str, channel: str = "web") -> int:
    """Record a citizen's support for an existing open incident; returns the supporter count."""
    with engine.begin() as conn:
        row = conn.execute(
            sa.text(
                "SELECT i.city_id, i.incident_id, i.status FROM incidents i JOIN cities c"
                " USING (city_id) WHERE c.slug = :city AND i.registry_number = :n"
            ),
            {"city": city, "n": normalize_number(number)},
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"No incident {number!r}", ro=f"Nu există sesizarea {number!r}")
        if row.status not in ("new", "acknowledged", "in_progress"):
            raise ValidationError(
                "incident",
                f"{number} is no longer open",
                ro=f"sesizarea {number} nu mai este deschisă",
            )
        conn.execute(
            sa.text(
                "INSERT INTO incident_supports (city_id, incident_id, channel) VALUES (:c, :i, :ch)"
            ),
            {"c": row.city_id, "i": row.incident_id, "ch": channel},
        )
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM incident_supports WHERE city_id = :c AND incident_id = :i"
            ),
            {"c": row.city_id, "i": row.incident_id},
        ).scalar_one()


def client_hash(client: str) -> str:
    """A salted hash of a client address: countable, not reversible to the address."""
    return hashlib.sha256(f"{load_settings().secret}:{client}".encode()).hexdigest()


def check_rate(engine: Engine, city: str, client: str, limit: int | None = None,
               what: str = "this connection") -> None:
    """Count this attempt; refuse it (:class:`RateLimitError`) when the client
    already made ``limit`` submissions this hour.

    ``client``: a connection's address, or ``api-key:ID`` for an app.  A
    client's attempts are counted one at a time (a transaction-level
    advisory lock on the city and client): a flood of parallel requests
    would otherwise all count the same total and all pass.
    """
    limit = load_settings().rate_limit_per_hour if limit is None else limit
    digest = client_hash(client)
    with engine.begin() as conn:
        city_id = conn.execute(
            sa.text("SELECT city_id FROM cities WHERE slug = :s"), {"s": city}
        ).scalar_one_or_none()
        if city_id is None:
            raise ValidationError("city", f"No city {city!r}", ro=f"nu există orașul {city!r}")
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:c, hashtext(:h))"),
                     {"c": city_id, "h": digest})
        conn.execute(
            sa.text("DELETE FROM submission_attempts WHERE created_at < now() - interval '1 day'")
        )
        recent = conn.execute(
            sa.text(
                "SELECT count(*) FROM submission_attempts WHERE city_id = :c"
                " AND client_hash = :h AND created_at > now() - interval '1 hour'"
            ),
            {"c": city_id, "h": digest},
        ).scalar_one()
        if recent >= limit:
            raise RateLimitError(
                "rate_limit",
                f"too many reports from {what}; try again in an hour",
                ro=f"prea multe sesizări de la {_WHAT_RO.get(what, what)};"
                " încercați din nou peste o oră",
            )
        conn.execute(
            sa.text("INSERT INTO submission_attempts (city_id, client_hash) VALUES (:c, :h)"),
            {"c": city_id, "h": digest},
        )


def attach_report_photo(engine: Engine, city: str, number: str, data: bytes) -> None:
    """Attach a citizen's photo to their new report (validated and stripped of metadata)."""
    from sesizari import photos
    from sesizari.incidents import CITIZEN

    photos.attach_photo(engine, city, number, data, "report", CITIZEN)


def photo_place(engine: Engine, city: str, pictures: list[bytes]) -> tuple[float, float] | None:
    """Where the first of ``pictures`` that says so was taken, if inside ``city``.

    A citizen who reports from home, later, finds the place on the map with
    difficulty; the phone that took the picture recorded it.  The place is
    only proposed (the form puts it on the map for them to check), never
    kept: the stored picture has no GPS (:func:`sesizari.photos.process_photo`).
    """
    from sesizari.photos import MAX_UPLOAD_BYTES, gps_point

    for data in pictures:
        place = gps_point(data) if 0 < len(data) <= MAX_UPLOAD_BYTES else None
        if place is None:
            continue
        with engine.connect() as conn:
            inside = conn.execute(sa.text(
                "SELECT ST_Covers(boundary, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
                " FROM cities WHERE slug = :city"), {"lon": place[1], "lat": place[0],
                                                    "city": city}).scalar()  # fmt: skip
        if inside:
            return place
    return None

"""Registry numbers: ``{PREFIX}-{YYYY}-{NNNNNN}``, per city and calendar year.

The counter row of (city, year) is incremented inside the transaction that
inserts the incident.  Concurrent submissions queue on that row lock, and a
rolled-back submission rolls its increment back too: no duplicates, no gaps.
(A sequence would leave gaps; ``max()+1`` would give duplicates.)
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sesizari.errors import ValidationError

#: Stored numbers have at least six digits of sequence; one typed by hand may
#: have fewer ("LUG-2026-123" is read as LUG-2026-000123).
REGISTRY_RE = re.compile(r"^(?P<prefix>[A-Z]{2,6})-(?P<year>\d{4})-(?P<seq>\d{1,12})$")


def format_number(prefix: str, year: int, seq: int) -> str:
    """``format_number("LUG", 2026, 123) == "LUG-2026-000123"``."""
    return f"{prefix}-{year:04d}-{seq:06d}"


def parse_number(number: str) -> tuple[str, int, int] | None:
    """Split a registry number into (prefix, year, sequence); None when malformed."""
    m = REGISTRY_RE.match(number.strip().upper())
    if not m:
        return None
    return m["prefix"], int(m["year"]), int(m["seq"])


def normalize(number: str | None) -> str:
    """The number as stored, for a lookup: ``" lug-2026-123 "`` -> ``"LUG-2026-000123"``.

    Text that is no number comes back trimmed and in capitals: it finds
    nothing, and the caller's "not found" quotes what was typed.
    """
    parsed = parse_number(number or "")
    return format_number(*parsed) if parsed else (number or "").strip().upper()


def read_number(number: str | None) -> tuple[str, str]:
    """A number as a citizen types it: (its city's prefix, the number as stored).

    Lower case, spaces around it and a sequence with fewer or more leading
    zeros than stored all find the report; anything else is a :class:`ValidationError`
    that shows the expected form, in both languages.
    """
    parsed = parse_number(number or "")
    if parsed is None:
        raise ValidationError(
            "registry_number",
            "use the form LUG-2026-000123",
            ro="scrieți-l în forma LUG-2026-000123",
        )
    return parsed[0], format_number(*parsed)


def next_number(conn: Connection, city_id: int, prefix: str, year: int) -> str:
    """Take the next number of (city, year); must run in the inserting transaction."""
    seq = conn.execute(
        sa.text(
            "INSERT INTO registry_counters AS rc (city_id, year, last_value) VALUES (:c, :y, 1)"
            " ON CONFLICT (city_id, year) DO UPDATE SET last_value = rc.last_value + 1"
            " RETURNING last_value"
        ),
        {"c": city_id, "y": year},
    ).scalar_one()
    return format_number(prefix, year, seq)


def local_year(conn: Connection, at: datetime | None, timezone: str) -> int:
    """Calendar year of ``at`` (default: this moment) in the city's time zone,
    computed by PostgreSQL."""
    return int(
        conn.execute(
            sa.text("SELECT extract(year FROM COALESCE(:at, clock_timestamp()) AT TIME ZONE :tz)"),
            {"at": at, "tz": timezone},
        ).scalar_one()
    )


def registration_time(conn: Connection, year: int, timezone: str) -> datetime:
    """When a report made now is registered: read once :func:`next_number`
    has taken its number (under the counter row's lock, held to commit), so
    a later number never carries an earlier time.  The transaction's start
    (``now()``) would not do: a submission that started first but waited
    for the lock would hold a larger number and an earlier time.

    Kept inside ``year``, the year numbered (read before the lock): a wait
    across local midnight on 31 December ends on the year's last microsecond
    rather than in a year whose numbers it is not among.
    """
    return conn.execute(
        sa.text("SELECT LEAST(clock_timestamp(), make_timestamptz(:y + 1, 1, 1, 0, 0, 0, :tz)"
                " - interval '1 microsecond')"),
        {"y": year, "tz": timezone},
    ).scalar_one()

"""API keys of the apps allowed to create reports through the HTTP API.

A key is shown once, when it is issued; only its SHA-256 is stored, so a
leaked database dump or backup holds no usable key.  Keys belong to a city
(an app registered with Lugoj cannot file reports in Alba Iulia).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sesizari.errors import ValidationError

#: Longest key accepted for checking; anything longer cannot be one of ours.
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class ApiKey:
    """A valid, unrevoked key as the API needs it: who is calling."""

    city_id: int
    key_id: int
    name: str


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key, as stored in ``api_keys.key_hash``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_key(conn: Connection, city_id: int, name: str) -> str:
    """Create a key for an app; return the plain key (the only time it is known)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError(
            "name",
            "name the app the key is for (1-200 characters)",
            ro="scrieți numele aplicației căreia îi este destinată cheia (1-200 de caractere)",
        )
    key = "sz_" + secrets.token_urlsafe(32)
    conn.execute(
        sa.text("INSERT INTO api_keys (city_id, name, key_hash) VALUES (:c, :n, :h)"),
        {"c": city_id, "n": name, "h": hash_key(key)},
    )
    return key


def revoke_key(conn: Connection, city_id: int, key_id: int) -> None:
    """Stop accepting a key from now on (kept for the audit trail)."""
    conn.execute(
        sa.text(
            "UPDATE api_keys SET revoked_at = now()"
            " WHERE city_id = :c AND key_id = :k AND revoked_at IS NULL"
        ),
        {"c": city_id, "k": key_id},
    )


def check_key(conn: Connection, city_id: int, key: str | None) -> ApiKey | None:
    """The city's unrevoked key matching ``key``, or None."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    row = conn.execute(
        sa.text(
            "SELECT city_id, key_id, name FROM api_keys"
            " WHERE city_id = :c AND key_hash = :h AND revoked_at IS NULL"
        ),
        {"c": city_id, "h": hash_key(key)},
    ).one_or_none()
    return None if row is None else ApiKey(*row)


def list_keys(conn: Connection, city_id: int) -> list[dict[str, Any]]:
    """The city's keys without their hashes, oldest first."""
    rows = conn.execute(
        sa.text(
            "SELECT key_id, name, created_at, revoked_at FROM api_keys"
            " WHERE city_id = :c ORDER BY key_id"
        ),
        {"c": city_id},
    )
    return [dict(r._mapping) for r in rows]

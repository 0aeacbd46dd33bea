"""Staff accounts: argon2 password hashes and the signed-in user.

Citizens never log in: they track a report by its registry number.  Staff
sign in per city; what they may see and do follows from :class:`StaffUser`
(see :mod:`sesizari.access`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from sesizari.errors import ValidationError
from sesizari.vocab import Role, ro_count

_hasher = PasswordHasher()
MIN_PASSWORD = 10


@dataclass(frozen=True)
class StaffUser:
    """A signed-in staff member; frozen so it can key cached queries."""

    city_id: int
    city: str
    user_id: int
    username: str
    full_name: str
    role: Role
    department_id: int | None
    department: str | None

    @property
    def city_wide(self) -> bool:
        """Managers, admins and dispatchers see the whole city; others one department."""
        return self.role in (Role.MANAGER, Role.ADMIN, Role.DISPATCHER)


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(
            "password",
            f"use at least {MIN_PASSWORD} characters",
            ro=f"folosiți cel puțin {ro_count(MIN_PASSWORD, 'caractere')}",
        )
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_USER_SQL = sa.text(
    "SELECT u.city_id, c.slug, u.user_id, u.username, u.full_name, u.role, u.department_id,"
    " d.code AS department, u.password_hash FROM users u JOIN cities c USING (city_id)"
    " LEFT JOIN departments d ON d.city_id = u.city_id AND d.department_id = u.department_id"
    " WHERE c.slug = :city AND u.username = :username AND u.active"
)


def load_user(conn: Connection, city: str, username: str) -> StaffUser | None:
    row = conn.execute(_USER_SQL, {"city": city, "username": username}).one_or_none()
    if row is None:
        return None
    return StaffUser(
        row.city_id,
        row.slug,
        row.user_id,
        row.username,
        row.full_name,
        Role(row.role),
        row.department_id,
        row.department,
    )


def authenticate(conn: Connection, city: str, username: str, password: str) -> StaffUser | None:
    """The user when the password matches, else None (same answer for unknown users)."""
    row = conn.execute(_USER_SQL, {"city": city, "username": (username or "").strip()})
    found = row.one_or_none()
    if found is None:
        _hasher.hash("timing-equaliser")  # answer unknown users as slowly as known ones
        return None
    if not verify_password(found.password_hash, password or ""):
        return None
    return load_user(conn, city, found.username)


def change_own_password(
    conn: Connection, user: StaffUser, current: str, new: str, repeated: str
) -> None:
    """A signed-in user's new password, given the one they have now.

    Asking for the current password keeps a tab left open on a shared
    computer from being turned into someone else's account.  Like every new
    password it ends the user's open sessions (migration 0031): the caller
    starts a new one for the tab the change was made in.
    """
    stored = conn.execute(
        sa.text(
            "SELECT password_hash FROM users WHERE city_id = :c AND user_id = :u AND active"
        ),
        {"c": user.city_id, "u": user.user_id},
    ).scalar_one_or_none()
    if not verify_password(stored, current or ""):
        raise ValidationError(
            "password", "the current password is wrong", ro="parola de acum este greșită"
        )
    if new != repeated:
        raise ValidationError(
            "password",
            "the new password and its repetition differ",
            ro="parola nouă și repetarea ei diferă",
        )
    if new == current:
        raise ValidationError(
            "password",
            "choose a password other than the current one",
            ro="alegeți o parolă diferită de cea de acum",
        )
    conn.execute(
        sa.text("UPDATE users SET password_hash = :h WHERE city_id = :c AND user_id = :u"),
        {"h": hash_password(new), "c": user.city_id, "u": user.user_id},
    )


def set_password(conn: Connection, city_id: int, username: str, password: str) -> None:
    done = conn.execute(
        sa.text("UPDATE users SET password_hash = :h WHERE city_id = :c AND username = :u"),
        {"h": hash_password(password), "c": city_id, "u": username},
    ).rowcount
    if not done:
        raise ValidationError(
            "username",
            f"no user {username!r} in this city",
            ro=f"nu există utilizatorul {username!r} în acest oraș",
        )

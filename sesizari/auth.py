"""Staff accounts: argon2 password hashes and the signed-in user.

Citizens never log in: they track a report by its registry number.  Staff
sign in per city; what they may see and do follows from :class:`StaffUser`
(see :mod:`sesizari.access`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from sesizari.errors import RateLimitError, ValidationError
from sesizari.settings import load_settings
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


#: Words that make a password guessed first, alone or with digits after them.
_COMMON = frozenset({
    "password", "parola", "passw0rd", "qwerty", "qwertyuiop", "azerty", "admin",
    "administrator", "administrare", "letmein", "welcome", "iloveyou", "primaria",
    "primarie", "sesizare", "sesizari", "romania", "bucuresti", "lugoj", "albaiulia",
    "changeme", "secret", "parolamea", "abc",
})
#: Runs of keys and letters that make no password however long: any piece of
#: them (forwards or backwards) is refused.
_RUNS = ("01234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm",
         "qwertzuiop", "yxcvbnm")


def weak_password(password: str) -> str | None:
    """Why ``password`` would be guessed in a few tries (None when it would
    not): too short, few different characters, one piece repeated, a run of
    keys, or a common word with digits."""
    if len(password) < MIN_PASSWORD:
        return "short"
    low = password.casefold()
    if len(set(low)) < 5:
        return "few"
    if any(len(low) % n == 0 and low == low[:n] * (len(low) // n)
           for n in range(1, len(low) // 2 + 1)):
        return "repeated"
    bare = "".join(c for c in low if c.isalnum())
    if bare and any(bare in run or bare in run[::-1] for run in _RUNS):
        return "run"
    if bare.rstrip("0123456789") in _COMMON or bare.lstrip("0123456789") in _COMMON:
        return "common"
    return None


def hash_password(password: str) -> str:
    why = weak_password(password or "")
    if why == "short":
        raise ValidationError(
            "password",
            f"use at least {MIN_PASSWORD} characters",
            ro=f"folosiți cel puțin {ro_count(MIN_PASSWORD, 'caractere')}",
        )
    if why is not None:
        raise ValidationError(
            "password",
            "too easy to guess (a common word, a run of keys, one piece repeated or few"
            " different characters): use a few unrelated words, e.g. 'lampa-verde-rau-42'",
            ro="prea ușor de ghicit (un cuvânt obișnuit, un șir de taste, o bucată repetată"
            " sau prea puține caractere diferite): folosiți câteva cuvinte fără legătură,"
            " de exemplu „lampa-verde-rau-42”",
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


#: Wrong passwords for one user name in a city before it must wait, and the wait.
MAX_FAILURES = 5
FAILURE_WINDOW_MINUTES = 15


def authenticate(conn: Connection, city: str, username: str, password: str) -> StaffUser | None:
    """The user when the password matches, else None (same answer for unknown users).

    After :data:`MAX_FAILURES` wrong passwords for the same name in
    :data:`FAILURE_WINDOW_MINUTES`, the name is refused with
    :class:`RateLimitError` without checking the password, whether or not
    such a user exists (migration 0033).  The failures are written on
    ``conn``: the caller commits them.
    """
    username = (username or "").strip()
    city_id = conn.execute(
        sa.text("SELECT city_id FROM cities WHERE slug = :s"), {"s": city}
    ).scalar_one_or_none()
    if city_id is None:
        _hasher.hash("timing-equaliser")
        return None
    key = {"c": city_id, "h": _name_hash(city_id, username)}
    failures = conn.execute(
        sa.text(
            "SELECT count(*) FROM sign_in_failures WHERE city_id = :c AND name_hash = :h"
            " AND failed_at > now() - make_interval(mins => :w)"
        ),
        {**key, "w": FAILURE_WINDOW_MINUTES},
    ).scalar_one()
    if failures >= MAX_FAILURES:
        raise RateLimitError(
            "username",
            f"{MAX_FAILURES} wrong passwords in a row; try again in"
            f" {FAILURE_WINDOW_MINUTES} minutes, or ask an administrator for a new password",
            ro=f"{MAX_FAILURES} parole greșite la rând; încercați din nou peste"
            f" {FAILURE_WINDOW_MINUTES} minute sau cereți unui administrator o parolă nouă",
        )
    found = conn.execute(_USER_SQL, {"city": city, "username": username}).one_or_none()
    if found is None:
        _hasher.hash("timing-equaliser")  # answer unknown users as slowly as known ones
    elif verify_password(found.password_hash, password or ""):
        conn.execute(
            sa.text("DELETE FROM sign_in_failures WHERE city_id = :c AND name_hash = :h"), key
        )
        return load_user(conn, city, found.username)
    conn.execute(
        sa.text(
            "DELETE FROM sign_in_failures WHERE city_id = :c"
            " AND failed_at <= now() - make_interval(mins => :w)"
        ),
        {**key, "w": FAILURE_WINDOW_MINUTES},
    )
    conn.execute(sa.text("INSERT INTO sign_in_failures (city_id, name_hash) VALUES (:c, :h)"), key)
    return None


def forget_failures(conn: Connection, city_id: int, username: str) -> None:
    """A new password given by an administrator (or ``create-admin``) opens
    the way at once: the wrong passwords typed before it no longer count."""
    conn.execute(
        sa.text("DELETE FROM sign_in_failures WHERE city_id = :c AND name_hash = :h"),
        {"c": city_id, "h": _name_hash(city_id, username)},
    )


def _name_hash(city_id: int, username: str) -> str:
    """A typed user name as the failures table keeps it: salted, never in clear."""
    salted = f"{load_settings().secret}:sign-in:{city_id}:{username}"
    return hashlib.sha256(salted.encode("utf-8", "surrogatepass")).hexdigest()


def act_as(conn: Connection, user: StaffUser) -> None:
    """Name ``user`` as the one acting in this transaction: the history of
    the accounts it changes records them (migration 0034's trigger)."""
    conn.execute(
        sa.text("SELECT set_config('sesizari.actor_user_id', :u, true)"),
        {"u": str(user.user_id)},
    )


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
    act_as(conn, user)
    conn.execute(
        sa.text("UPDATE users SET password_hash = :h WHERE city_id = :c AND user_id = :u"),
        {"h": hash_password(new), "c": user.city_id, "u": user.user_id},
    )


def set_password(conn: Connection, city_id: int, username: str, password: str) -> None:
    done = conn.execute(
        sa.text("UPDATE users SET password_hash = :h WHERE city_id = :c AND username = :u"),
        {"h": hash_password(password), "c": city_id, "u": username},
    ).rowcount
    forget_failures(conn, city_id, username)
    if not done:
        raise ValidationError(
            "username",
            f"no user {username!r} in this city",
            ro=f"nu există utilizatorul {username!r} în acest oraș",
        )

"""A city's reference data: the city itself, districts, departments, categories,
routing rules and users.  Used by the demo loader, the tests and (later) the
admin pages, so the same validation applies to all of them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from sesizari.errors import NotFoundError, ValidationError
from sesizari.vocab import Role

#: The roles as the Romanian refusals name them.
_ROLE_RO: dict[str, str] = {
    Role.STAFF: "angajat",
    Role.DEPT_HEAD: "șef de compartiment",
    Role.DISPATCHER: "dispecer",
    Role.MANAGER: "conducere",
    Role.ADMIN: "administrator",
}


@dataclass(frozen=True)
class City:
    """The few city fields every other module needs."""

    city_id: int
    slug: str
    name_ro: str
    name_en: str
    registry_prefix: str
    timezone: str
    settings: dict


#: The longest name of a city, department or category (the tables' checks).
MAX_NAME = 200


def require_names(name_ro: str, name_en: str) -> None:
    """Both names of a city, department or category: the pages show one or the other."""
    for field_name, value in (("name_ro", name_ro), ("name_en", name_en)):
        if not (value or "").strip():
            raise ValidationError(field_name, "a name is required", ro="scrieți numele")
        if len(value.strip()) > MAX_NAME:
            raise ValidationError(
                field_name,
                f"at most {MAX_NAME} characters, not {len(value.strip())}",
                ro=f"cel mult {MAX_NAME} de caractere, nu {len(value.strip())}",
            )


def _multipolygon(geom: BaseGeometry | dict, field: str) -> str:
    """Validate a (multi)polygon and return it as GeoJSON text for ``ST_GeomFromGeoJSON``."""
    if isinstance(geom, dict):
        try:
            geom = shape(geom)
        except Exception as exc:  # shapely raises several types on bad GeoJSON
            raise ValidationError(
                field,
                f"not a valid GeoJSON geometry ({exc})",
                ro=f"nu este o geometrie GeoJSON validă ({exc})",
            ) from None
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon) or geom.is_empty:
        raise ValidationError(
            field,
            "must be a Polygon or MultiPolygon",
            ro="trebuie să fie un Polygon sau un MultiPolygon",
        )
    if not geom.is_valid:
        raise ValidationError(
            field,
            "the polygon is not valid (self-intersecting?)",
            ro="poligonul nu este valid (laturile se intersectează?)",
        )
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError(
            field,
            "coordinates must be longitude/latitude (EPSG:4326)",
            ro="coordonatele trebuie să fie longitudine/latitudine (EPSG:4326)",
        )
    return json.dumps(mapping(geom))


def create_city(
    conn: Connection,
    *,
    slug: str,
    name_ro: str,
    name_en: str,
    registry_prefix: str,
    boundary: BaseGeometry | dict,
    timezone: str = "Europe/Bucharest",
    settings: dict | None = None,
) -> int:
    """Insert a city and return its ``city_id``."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", slug):
        raise ValidationError(
            "slug",
            "use 2-40 lowercase letters, digits or '-'",
            ro="folosiți 2-40 de caractere: litere mici, cifre sau '-'",
        )
    if not re.fullmatch(r"[A-Z]{2,6}", registry_prefix):
        raise ValidationError(
            "registry_prefix",
            "use 2-6 capital letters, e.g. LUG",
            ro="folosiți 2-6 majuscule, de exemplu LUG",
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "timezone",
            f"unknown time zone {timezone!r}",
            ro=f"fus orar necunoscut: {timezone!r}",
        ) from None
    return conn.execute(
        sa.text(
            "INSERT INTO cities (slug, name_ro, name_en, registry_prefix, timezone, boundary,"
            " settings) VALUES (:slug, :name_ro, :name_en, :prefix, :tz,"
            " ST_SetSRID(ST_GeomFromGeoJSON(:boundary), 4326), CAST(:settings AS jsonb))"
            " RETURNING city_id"
        ),
        {
            "slug": slug,
            "name_ro": name_ro,
            "name_en": name_en,
            "prefix": registry_prefix,
            "tz": timezone,
            "boundary": _multipolygon(boundary, "boundary"),
            # new cities require an "after" photo to resolve (see workspace.resolve)
            "settings": json.dumps({"resolution_photo_required": True, **(settings or {})}),
        },
    ).scalar_one()


def get_city(conn: Connection, slug: str) -> City:
    """The city with this slug, or :class:`NotFoundError`."""
    row = conn.execute(
        sa.text(
            "SELECT city_id, slug, name_ro, name_en, registry_prefix, timezone, settings"
            " FROM cities WHERE slug = :slug"
        ),
        {"slug": slug},
    ).one_or_none()
    if row is None:
        known = ", ".join(list_city_slugs(conn))
        raise NotFoundError(
            f"No city {slug!r}; known cities: {known}",
            ro=f"Nu există orașul {slug!r}; orașele cunoscute: {known}",
        )
    return City(*row)


def list_city_slugs(conn: Connection) -> list[str]:
    return list(conn.execute(sa.text("SELECT slug FROM cities ORDER BY slug")).scalars())


def create_district(conn: Connection, city_id: int, name: str, geom: BaseGeometry | dict) -> int:
    return conn.execute(
        sa.text(
            "INSERT INTO districts (city_id, name, geom)"
            " VALUES (:c, :name, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)) RETURNING district_id"
        ),
        {"c": city_id, "name": name, "g": _multipolygon(geom, "geom")},
    ).scalar_one()


def create_department(conn: Connection, city_id: int, code: str, name_ro: str, name_en: str) -> int:
    if not re.fullmatch(r"[a-z0-9_]{2,40}", code):
        raise ValidationError(
            "code",
            "use 2-40 lowercase letters, digits or '_'",
            ro="folosiți 2-40 de caractere: litere mici, cifre sau '_'",
        )
    return conn.execute(
        sa.text(
            "INSERT INTO departments (city_id, code, name_ro, name_en)"
            " VALUES (:c, :code, :ro, :en) RETURNING department_id"
        ),
        {"c": city_id, "code": code, "ro": name_ro, "en": name_en},
    ).scalar_one()


def department_id(
    conn: Connection, city_id: int, code: str | None, *, stopped_ok: bool = False
) -> int:
    """The id of a department that takes work: a stopped one is refused (its
    people, categories and rules were moved before it stopped), unless
    ``stopped_ok`` (a disabled account may keep the department it had).

    The row is read ``FOR SHARE`` so that stopping the department
    (:func:`sesizari.admin.set_department_active`, which locks it ``FOR
    UPDATE``) waits for this transaction, and this one sees it stopped.
    """
    if not code:
        raise ValidationError("department", "choose a department", ro="alegeți compartimentul")
    found = conn.execute(
        sa.text("SELECT department_id, active FROM departments"
                " WHERE city_id = :c AND code = :code FOR SHARE"),
        {"c": city_id, "code": code},
    ).one_or_none()  # fmt: skip
    if found is None:
        raise ValidationError(
            "department",
            f"unknown department {code!r} in this city",
            ro=f"nu există compartimentul {code!r} în acest oraș",
        )
    if not found.active and not stopped_ok:
        raise ValidationError(
            "department",
            f"department {code!r} is stopped: choose another, or start it again"
            " on the Administration page",
            ro=f"compartimentul {code!r} este oprit: alegeți altul sau porniți-l din nou"
            " din pagina Administrare",
        )
    return found.department_id


def create_category(
    conn: Connection,
    city_id: int,
    code: str,
    name_ro: str,
    name_en: str,
    department_code: str,
    target_hours: float,
    sensitive: bool = False,
) -> int:
    if not re.fullmatch(r"[a-z0-9_]{2,40}", code):
        raise ValidationError(
            "code",
            "use 2-40 lowercase letters, digits or '_'",
            ro="folosiți 2-40 de caractere: litere mici, cifre sau '_'",
        )
    if not target_hours or target_hours <= 0:
        raise ValidationError(
            "target_hours",
            "must be a positive number of hours",
            ro="scrieți un număr pozitiv de ore",
        )
    return conn.execute(
        sa.text(
            "INSERT INTO categories (city_id, code, name_ro, name_en, default_department_id,"
            " target_hours, sensitive) VALUES (:c, :code, :ro, :en, :d, :t, :s)"
            " RETURNING category_id"
        ),
        {
            "c": city_id,
            "code": code,
            "ro": name_ro,
            "en": name_en,
            "d": department_id(conn, city_id, department_code),
            "t": target_hours,
            "s": sensitive,
        },
    ).scalar_one()


def create_routing_rule(
    conn: Connection,
    city_id: int,
    *,
    name: str,
    category_code: str,
    department_code: str,
    area: BaseGeometry | dict | None = None,
    assignee_username: str | None = None,
) -> int:
    category = conn.execute(
        sa.text("SELECT category_id FROM categories WHERE city_id = :c AND code = :code"
                " AND active FOR SHARE"),
        {"c": city_id, "code": category_code},
    ).scalar_one_or_none()  # fmt: skip
    if category is None:
        raise ValidationError(
            "category",
            f"unknown or stopped category {category_code!r}",
            ro=f"categoria {category_code!r} nu există sau este oprită",
        )
    department = department_id(conn, city_id, department_code)
    assignee = None
    if assignee_username is not None:
        person = conn.execute(
            sa.text("SELECT user_id, active, department_id FROM users"
                    " WHERE city_id = :c AND username = :u"),
            {"c": city_id, "u": assignee_username},
        ).one_or_none()  # fmt: skip
        if person is None:
            raise ValidationError(
                "assignee",
                f"unknown user {assignee_username!r}",
                ro=f"nu există utilizatorul {assignee_username!r}",
            )
        if not person.active or person.department_id != department:
            raise ValidationError(
                "assignee",
                f"{assignee_username} is not an active member of department"
                f" {department_code!r}: the rule's incidents would reach nobody who sees them",
                ro=f"{assignee_username} nu este un membru activ al compartimentului"
                f" {department_code!r}: sesizările regulii n-ar ajunge la nimeni care le vede",
            )
        assignee = person.user_id
    shape = None if area is None else _multipolygon(area, "area")
    if shape is not None and not conn.execute(
        sa.text("SELECT ST_Intersects(boundary, ST_SetSRID(ST_GeomFromGeoJSON(:a), 4326))"
                " FROM cities WHERE city_id = :c"),
        {"a": shape, "c": city_id},
    ).scalar_one():
        # No report can ever fall in it: every one outside the boundary is refused.
        raise ValidationError(
            "area",
            "the area lies wholly outside the city's boundary, so no report could ever fall"
            " in it: check that the file is this city's, in longitude/latitude (EPSG:4326)",
            ro="zona este în întregime în afara limitei localității, deci nicio sesizare n-ar"
            " cădea în ea: verificați că fișierul este al acestei localități, în longitudine/"
            "latitudine (EPSG:4326)",
        )
    return conn.execute(
        sa.text(
            "INSERT INTO routing_rules (city_id, name, category_id, area, department_id,"
            " assignee_user_id) VALUES (:c, :name, :cat,"
            " ST_SetSRID(ST_GeomFromGeoJSON(:area), 4326), :dep, :who) RETURNING rule_id"
        ),
        {
            "c": city_id,
            "name": name,
            "cat": category,
            "area": shape,
            "dep": department,
            "who": assignee,
        },
    ).scalar_one()


def create_user(
    conn: Connection,
    city_id: int,
    *,
    username: str,
    full_name: str,
    role: Role | str,
    department_code: str | None = None,
    email: str | None = None,
    password_hash: str | None = None,
) -> int:
    if not re.fullmatch(r"[a-z0-9._-]{2,60}", username):
        raise ValidationError(
            "username",
            "use 2-60 lowercase letters, digits, '.', '_' or '-'",
            ro="folosiți 2-60 de caractere: litere mici, cifre, '.', '_' sau '-'",
        )
    role, dep = _role_and_department(conn, city_id, role, department_code)
    return conn.execute(
        sa.text(
            "INSERT INTO users (city_id, username, full_name, email, role, department_id,"
            " password_hash) VALUES (:c, :u, :n, :e, :r, :d, :p) RETURNING user_id"
        ),
        {
            "c": city_id,
            "u": username,
            "n": full_name,
            "e": email,
            "r": role.value,
            "d": dep,
            "p": password_hash,
        },
    ).scalar_one()


def _role_and_department(
    conn: Connection,
    city_id: int,
    role: Role | str,
    department_code: str | None,
    *,
    active: bool = True,
) -> tuple[Role, int | None]:
    """A known role, and the id of its department (staff and heads need one).

    An ``active`` account needs a department that takes work; a disabled one
    may keep a stopped department (editing it must not force a move)."""
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(
            "role",
            f"unknown role {role!r}; use one of {[r.value for r in Role]}",
            ro=f"rol necunoscut: {role!r}; folosiți unul dintre {[r.value for r in Role]}",
        ) from None
    if role in (Role.STAFF, Role.DEPT_HEAD) and not department_code:
        raise ValidationError(
            "department",
            f"a {role.value} user needs a department",
            ro=f"alegeți compartimentul: rolul de {_ROLE_RO.get(role, role.value)} îl cere",
        )
    if not department_code:
        return role, None
    return role, department_id(conn, city_id, department_code, stopped_ok=not active)


def update_user(
    conn: Connection,
    city_id: int,
    username: str,
    *,
    full_name: str,
    role: Role | str,
    department_code: str | None,
    active: bool,
    password_hash: str | None = None,
    email: str | None = None,
) -> None:
    """Change an account; ``password_hash`` None keeps the password, ``email``
    None keeps the address and ``""`` removes it.

    A new password, role or department, or a disabled account, ends the
    account's open sessions (migration 0031's trigger on ``users``).
    """
    user_id = get_user_id(conn, city_id, username)
    role, dep = _role_and_department(conn, city_id, role, department_code, active=active)
    conn.execute(
        sa.text(
            "UPDATE users SET full_name = :n, role = :r, department_id = :d, active = :a,"
            " password_hash = COALESCE(:p, password_hash),"
            " email = CASE WHEN CAST(:e AS text) IS NULL THEN email ELSE NULLIF(:e, '') END"
            " WHERE city_id = :c AND user_id = :u"
        ),
        {
            "e": email,
            "n": full_name,
            "r": role.value,
            "d": dep,
            "a": active,
            "p": password_hash,
            "c": city_id,
            "u": user_id,
        },
    )


def get_user_id(conn: Connection, city_id: int, username: str) -> int:
    found = conn.execute(
        sa.text("SELECT user_id FROM users WHERE city_id = :c AND username = :u"),
        {"c": city_id, "u": username},
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(
            f"No user {username!r} in this city",
            ro=f"Nu există utilizatorul {username!r} în acest oraș",
        )
    return found

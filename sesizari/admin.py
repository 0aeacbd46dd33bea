"""City administration by an admin user: users, targets, routing rules, settings.

Each function checks the acting user is an admin of the city, validates
through :mod:`sesizari.catalog`, and writes in one transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sesizari import auth, catalog, digests, inbox, notifications, privacy
from sesizari.auth import StaffUser
from sesizari.errors import NotFoundError, PermissionDeniedError, ValidationError
from sesizari.incidents import EMAIL_RE
from sesizari.privacy import Erasure
from sesizari.vocab import Role, ro_count

#: City settings an admin may change: name -> (type, minimum, maximum) for numbers.
SETTINGS: dict[str, tuple[type, int, int]] = {
    "resolution_photo_required": (bool, 0, 1),
    "work_anonymous": (bool, 0, 1),
    # OG 27/2002 gives 30 days (art. 8); a city may promise less, never more:
    # the Accountability page's "within the legal term" reads this.
    "legal_reply_days": (int, 1, 30),
    "verification_days": (int, 1, 90),
    "recurrence_days": (int, 1, 730),
    "recurrence_m": (int, 1, 1000),
    "public_precision_m": (int, 10, 5000),
    # Reporters' contacts are removed this long after the answer (sesizari.privacy).
    "contact_retention_days": (int, 30, 3650),
}


def setting_default(key: str) -> int | bool:
    """What a setting is when the city has not set it, from the module that reads it."""
    from sesizari import commitments, opendata, privacy

    defaults: dict[str, int | bool] = {
        **commitments.DEFAULTS,
        "resolution_photo_required": False,
        "work_anonymous": True,
        "public_precision_m": int(opendata.DEFAULT_PRECISION_M),
        "contact_retention_days": privacy.DEFAULT_RETENTION_DAYS,
    }
    return defaults[key]


def _require_admin(user: StaffUser) -> None:
    if user.role is not Role.ADMIN:
        raise PermissionDeniedError(
            "only a city administrator may change this",
            ro="Doar un administrator al orașului poate face această modificare",
        )


#: The city's accounts as the Administration page lists them (no password hashes).
_ACCOUNTS = (
    "SELECT u.username, u.full_name, u.role, d.code AS department, u.email, u.active"
    " FROM users u LEFT JOIN departments d ON d.city_id = u.city_id"
    " AND d.department_id = u.department_id WHERE u.city_id = :c"
)


def users(engine: Engine, user: StaffUser) -> pd.DataFrame:
    _require_admin(user)
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(_ACCOUNTS + " ORDER BY u.username"), conn, params={"c": user.city_id}
        )


def user(engine: Engine, admin_user: StaffUser, username: str) -> dict[str, Any]:
    """One account of the city as the edit form shows it (no password hash)."""
    _require_admin(admin_user)
    with engine.connect() as conn:
        user_id = catalog.get_user_id(conn, admin_user.city_id, username)  # or NotFoundError
        row = conn.execute(
            sa.text(_ACCOUNTS + " AND u.user_id = :u"), {"c": admin_user.city_id, "u": user_id}
        ).one()
    return dict(row._mapping)


def account_history(engine: Engine, admin_user: StaffUser, username: str) -> pd.DataFrame:
    """An account's history, newest first: when, who acted (``actor``: a full
    name, None for the command line or the database), ``kind`` ('created',
    'changed') and ``changes`` (field -> [before, after]; on creation field ->
    value; ``password`` only says that one was set)."""
    _require_admin(admin_user)
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT e.created_at, a.full_name AS actor, e.kind, e.changes"
                " FROM account_events e"
                " JOIN users u ON u.city_id = e.city_id AND u.user_id = e.user_id"
                " LEFT JOIN users a ON a.city_id = e.city_id AND a.user_id = e.actor_user_id"
                " WHERE e.city_id = :c AND u.username = :u"
                " ORDER BY e.created_at DESC, e.event_id DESC"
            ),
            conn,
            params={"c": admin_user.city_id, "u": username},
        )


def _full_name(name: str | None) -> str:
    """A person's name as stored: trimmed, 1 to 200 characters."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("full_name", "a name is required", ro="scrieți numele")
    if len(name) > 200:
        raise ValidationError(
            "full_name", "use at most 200 characters", ro="folosiți cel mult 200 de caractere"
        )
    return name


def create_user(
    engine: Engine,
    user: StaffUser,
    *,
    username: str,
    full_name: str,
    role: str,
    department: str | None,
    password: str,
    email: str | None = None,
) -> int:
    """A new staff account; ``email`` (optional) receives the reports given to it."""
    _require_admin(user)
    full_name = _full_name(full_name)
    email = _email(email)
    hashed = auth.hash_password(password)
    with engine.begin() as conn:
        _require_free(conn, user.city_id, "users", username)
        auth.act_as(conn, user)
        return catalog.create_user(
            conn,
            user.city_id,
            username=username,
            full_name=full_name,
            role=role,
            department_code=department,
            password_hash=hashed,
            email=email,
        )


def _email(value: str | None) -> str | None:
    """A staff or department mailbox as stored: trimmed, checked, None when empty."""
    value = (value or "").strip() or None
    if value is not None and (len(value) > 254 or not EMAIL_RE.fullmatch(value)):
        raise ValidationError(
            "email",
            f"{value!r} is not a valid e-mail address (one address, like drumuri@primarie.ro)",
            ro=f"{value!r} nu este o adresă de e-mail validă (o singură adresă, ca"
            " drumuri@primarie.ro)",
        )
    return value


def update_user(
    engine: Engine,
    user: StaffUser,
    username: str,
    *,
    full_name: str,
    role: str,
    department: str | None,
    active: bool,
    password: str | None = None,
    email: str | None = None,
) -> None:
    """Change a colleague's account: name, role, department, whether it may
    sign in, its password when one is given (empty keeps it), and the address
    that receives the reports given to it (None keeps it, empty removes it).

    Disabling an account is how someone who left loses access (accounts are
    never deleted: their name stays on the history they wrote).  Any change
    of access ends the account's open sessions at once (migration 0031).  An
    administrator cannot disable or demote their own account, so a city is
    never left without one who can sign in.
    """
    _require_admin(user)
    full_name = _full_name(full_name)
    if username == user.username and (not active or role != Role.ADMIN.value):
        raise ValidationError(
            "role",
            "you cannot take away your own access; ask another administrator",
            ro="nu vă puteți retrage propriul acces; cereți-i altui administrator",
        )
    hashed = auth.hash_password(password) if password else None
    email = None if email is None else (_email(email) or "")
    with engine.begin() as conn:
        auth.act_as(conn, user)
        catalog.update_user(
            conn,
            user.city_id,
            username,
            full_name=full_name,
            role=role,
            department_code=department,
            active=active,
            password_hash=hashed,
            email=email,
        )
        if hashed is not None:
            auth.forget_failures(conn, user.city_id, username)


def outbox(
    engine: Engine, user: StaffUser
) -> tuple[dict[str, int], pd.DataFrame, pd.DataFrame]:
    """The city's e-mails by status, the latest that failed or wait after a
    failure (:mod:`sesizari.notifications`), and the latest morning lists
    (:mod:`sesizari.digests`): the administrator sees that the mail server
    works without reading its logs."""
    _require_admin(user)
    return (
        notifications.outbox_counts(engine, user.city),
        notifications.outbox_problems(engine, user.city),
        digests.recent_digests(engine, user.city),
    )


def inbox_summary(engine: Engine, user: StaffUser) -> tuple[dict[str, int], datetime | None]:
    """The e-mails received (:mod:`sesizari.inbox`) by status and the latest
    import: the administrator sees that the mailbox is being read."""
    _require_admin(user)
    return inbox.summary(engine, user.city)


def erase_report(engine: Engine, user: StaffUser, number: str, reason: str) -> Erasure:
    """Carry out an erasure request (GDPR art. 17) from the Administration
    page, as ``privacy erase`` does (:func:`sesizari.privacy.erase_with_files`),
    recorded with the administrator's name."""
    _require_admin(user)
    done, _ = privacy.erase_with_files(engine, user.city, number,
                                       by=user.full_name or user.username, reason=reason)
    return done


def erasures(engine: Engine, user: StaffUser) -> pd.DataFrame:
    """The city's latest removals of personal data (:func:`sesizari.privacy.erasure_history`)."""
    _require_admin(user)
    return privacy.erasure_history(engine, user.city)


def departments(engine: Engine, user: StaffUser) -> pd.DataFrame:
    _require_admin(user)
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT code, name_ro, name_en, email, active FROM departments"
                " WHERE city_id = :c ORDER BY name_ro"
            ),
            conn,
            params={"c": user.city_id},
        )


#: What a code or user name must be unique in, per city: table -> (column, field).
_UNIQUE = {
    "users": ("username", "username"),
    "departments": ("code", "code"),
    "categories": ("code", "code"),
}


def _require_free(conn: Connection, city_id: int, table: str, value: str) -> None:
    """A clear error for a taken name rather than the unique index's."""
    column, field = _UNIQUE[table]
    taken = conn.execute(
        # table and column come from _UNIQUE above; the value is bound
        sa.text(f"SELECT 1 FROM {table} WHERE city_id = :c AND {column} = :v"),  # noqa: S608
        {"c": city_id, "v": value},
    ).first()
    if taken:
        raise ValidationError(
            field, f"{value!r} is already taken", ro=f"{value!r} este deja folosit; alegeți altul"
        )


def _require_target(code: str, hours: float) -> None:
    """A category's target: from half an hour to a year."""
    if not hours or hours <= 0 or hours > 8760:
        raise ValidationError(
            "target_hours",
            f"{code}: use 0.5 to 8760 hours",
            ro=f"{code}: folosiți între 0,5 și 8760 de ore",
        )


def _require_name_free(conn: Connection, city_id: int, table: str, code: str, name_ro: str,
                       name_en: str) -> None:
    """No other row of ``table`` (departments or categories, fixed names)
    has either name: pickers, the report form and the Open311 service list
    would show two alike."""
    taken = conn.execute(
        sa.text(
            f"SELECT code FROM {table} WHERE city_id = :c AND code <> :code"  # noqa: S608
            " AND (lower(name_ro) = lower(:ro) OR lower(name_en) = lower(:en)) LIMIT 1"
        ),
        {"c": city_id, "code": code, "ro": name_ro.strip(), "en": name_en.strip()},
    ).scalar_one_or_none()
    if taken is not None:
        raise ValidationError(
            "name_ro",
            f"{taken!r} already has this name",
            ro=f"{taken!r} are deja acest nume",
        )


def create_department(
    engine: Engine, user: StaffUser, *, code: str, name_ro: str, name_en: str
) -> int:
    """A new department (its code is permanent: feeds and rules refer to it)."""
    _require_admin(user)
    catalog.require_names(name_ro, name_en)
    with engine.begin() as conn:
        _require_free(conn, user.city_id, "departments", code)
        _require_name_free(conn, user.city_id, "departments", code, name_ro, name_en)
        return catalog.create_department(conn, user.city_id, code, name_ro.strip(), name_en.strip())


def create_category(
    engine: Engine,
    user: StaffUser,
    *,
    code: str,
    name_ro: str,
    name_en: str,
    department: str,
    target_hours: float,
    sensitive: bool = False,
) -> int:
    """A new category, routed to ``department`` (its code is permanent: feeds map to it).

    ``sensitive``: its points are generalised on every public output (RELIABILITY R10).
    """
    _require_admin(user)
    catalog.require_names(name_ro, name_en)
    _require_target(code, target_hours)
    with engine.begin() as conn:
        _require_free(conn, user.city_id, "categories", code)
        _require_name_free(conn, user.city_id, "categories", code, name_ro, name_en)
        return catalog.create_category(
            conn,
            user.city_id,
            code,
            name_ro.strip(),
            name_en.strip(),
            department,
            target_hours,
            sensitive,
        )


#: The tables whose rows an administrator renames, by what the page calls them.
_RENAMED = {"department": "departments", "category": "categories"}


def rename(
    engine: Engine, user: StaffUser, kind: str, code: str, *, name_ro: str, name_en: str
) -> None:
    """New names for a department or a category (``kind``); its code stays,
    since feeds, rules and history refer to it.  A name another row of the
    same kind already has is refused: pickers and tables would show two alike.
    """
    _require_admin(user)
    if kind not in _RENAMED:
        raise ValidationError(
            "kind",
            f"rename a department or a category, not {kind!r}",
            ro=f"se redenumește un compartiment sau o categorie, nu {kind!r}",
        )
    catalog.require_names(name_ro, name_en)
    names = {"ro": name_ro.strip(), "en": name_en.strip()}
    table = _RENAMED[kind]
    with engine.begin() as conn:
        _require_name_free(conn, user.city_id, table, code, names["ro"], names["en"])
        done = conn.execute(
            sa.text(
                f"UPDATE {table} SET name_ro = :ro, name_en = :en"  # noqa: S608
                " WHERE city_id = :c AND code = :code"
            ),
            {"c": user.city_id, "code": code, **names},
        ).rowcount
    if not done:
        what = "compartimentul" if kind == "department" else "categoria"
        raise NotFoundError(
            f"no {kind} {code!r} in this city", ro=f"nu există {what} {code!r} în acest oraș"
        )


def categories(engine: Engine, user: StaffUser) -> pd.DataFrame:
    """Every category of the city, stopped ones too (the page starts them
    again): ``code``, ``name_ro``, ``name_en``, ``department`` with
    ``department_ro``/``_en``, ``target_hours``, ``sensitive``, ``active``."""
    _require_admin(user)
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT c.code, c.name_ro, c.name_en, d.code AS department,"
                " d.name_ro AS department_ro, d.name_en AS department_en,"
                " CAST(c.target_hours AS float8) AS target_hours, c.sensitive, c.active"
                " FROM categories c JOIN departments d"
                " ON d.city_id = c.city_id AND d.department_id = c.default_department_id"
                " WHERE c.city_id = :c ORDER BY c.name_ro"
            ),
            conn,
            params={"c": user.city_id},
        )


def _locked(conn: Connection, city_id: int, table: str, code: str) -> Any:
    """A department's or category's row, locked until the transaction ends."""
    row = conn.execute(
        # table comes from the callers below; the values are bound
        sa.text(f"SELECT * FROM {table} WHERE city_id = :c AND code = :code FOR UPDATE"),  # noqa: S608
        {"c": city_id, "code": code},
    ).one_or_none()
    if row is None:
        en, ro = {"departments": ("department", "compartimentul"),
                  "categories": ("category", "categoria")}[table]  # fmt: skip
        raise NotFoundError(
            f"no {en} {code!r} in this city", ro=f"nu există {ro} {code!r} în acest oraș"
        )
    return row


#: What still sends work to a department, or holds it: what must move before
#: it stops.  Each counts rows of one department (``:c``, ``:d``).
_DEPARTMENT_HOLDS = {
    "categories": ("SELECT count(*) FROM categories WHERE city_id = :c"
                   " AND default_department_id = :d AND active"),
    "rules": ("SELECT count(*) FROM routing_rules WHERE city_id = :c"
              " AND department_id = :d AND active"),
    "people": "SELECT count(*) FROM users WHERE city_id = :c AND department_id = :d AND active",
    "open": ("SELECT count(*) FROM incidents WHERE city_id = :c AND department_id = :d"
             " AND status IN ('new', 'acknowledged', 'in_progress')"),
}  # fmt: skip
#: Each hold in words: English one and many, Romanian one and many.
_HOLDS_SAID = {
    "categories": ("active category", "active categories", "categorie activă", "categorii active"),
    "rules": ("active routing rule", "active routing rules", "regulă activă", "reguli active"),
    "people": ("active account", "active accounts", "cont activ", "conturi active"),
    "open": ("open incident", "open incidents", "sesizare deschisă", "sesizări deschise"),
}


def set_department_active(engine: Engine, user: StaffUser, code: str, active: bool) -> None:
    """Stop a department (a reorganisation, a service given to a company) or
    start it again.  It is never deleted: its incidents and history name it.

    A department stops only when nothing sends it work or waits on it: no
    active category routes to it, no active rule, no active account, no open
    incident.  Each must be moved first, by the forms that keep a record of
    the move; otherwise new reports would reach a department nobody reads.
    """
    _require_admin(user)
    with engine.begin() as conn:
        row = _locked(conn, user.city_id, "departments", code)
        if not active:
            held = {
                what: conn.execute(sa.text(sql), {"c": user.city_id, "d": row.department_id})
                .scalar_one()
                for what, sql in _DEPARTMENT_HOLDS.items()
            }
            held = {what: n for what, n in held.items() if n}
            if held:
                en = ", ".join(
                    f"{n} {_HOLDS_SAID[w][0] if n == 1 else _HOLDS_SAID[w][1]}"
                    for w, n in held.items()
                )
                ro = ", ".join(
                    ro_count(n, _HOLDS_SAID[w][3], _HOLDS_SAID[w][2]) for w, n in held.items()
                )
                raise ValidationError(
                    "department",
                    f"{code!r} cannot stop yet; it has {en}."
                    " Move them to another department first",
                    ro=f"{row.name_ro} nu se poate opri încă; are {ro}. Mutați-le întâi la alt"
                    " compartiment",
                )
        conn.execute(
            sa.text("UPDATE departments SET active = :a WHERE city_id = :c AND department_id = :d"),
            {"a": bool(active), "c": user.city_id, "d": row.department_id},
        )


def set_department_email(engine: Engine, user: StaffUser, code: str, email: str | None) -> None:
    """The mailbox that receives a message for each report registered for
    the department or re-routed to it (migration 0036); empty: none.  A
    shared mailbox (``drumuri@primarie.ro``) outlives its staff."""
    _require_admin(user)
    email = _email(email)
    with engine.begin() as conn:
        row = _locked(conn, user.city_id, "departments", code)
        conn.execute(
            sa.text("UPDATE departments SET email = :e WHERE city_id = :c AND department_id = :d"),
            {"e": email, "c": user.city_id, "d": row.department_id},
        )


def set_category_active(engine: Engine, user: StaffUser, code: str, active: bool) -> None:
    """Stop a category (citizens, dispatchers and feeds no longer choose it)
    or start it again.  Its incidents stay where they are, open ones too, and
    keep their history; analytics still count them.

    A category starts again only with a department that takes work: its own
    may have stopped meanwhile."""
    _require_admin(user)
    with engine.begin() as conn:
        row = _locked(conn, user.city_id, "categories", code)
        if active:
            department = conn.execute(
                sa.text("SELECT code, active FROM departments WHERE city_id = :c"
                        " AND department_id = :d FOR SHARE"),
                {"c": user.city_id, "d": row.default_department_id},
            ).one()  # fmt: skip
            if not department.active:
                raise ValidationError(
                    "department",
                    f"{code!r} goes to department {department.code!r}, which is stopped:"
                    " start that department again first",
                    ro=f"{row.name_ro} merge la compartimentul {department.code!r}, care este"
                    " oprit: porniți întâi compartimentul",
                )
        conn.execute(
            sa.text("UPDATE categories SET active = :a WHERE city_id = :c AND category_id = :i"),
            {"a": bool(active), "c": user.city_id, "i": row.category_id},
        )


def route_category(engine: Engine, user: StaffUser, category: str, department: str) -> None:
    """Send a category's new reports to another department.

    Reports already filed stay where they are (staff reroute them one by one):
    their history says who had them.  Area rules still come first.
    """
    _require_admin(user)
    with engine.begin() as conn:
        target = catalog.department_id(conn, user.city_id, department)
        done = conn.execute(
            sa.text(
                "UPDATE categories SET default_department_id = :d"
                " WHERE city_id = :c AND code = :code"
            ),
            {"d": target, "c": user.city_id, "code": category},
        ).rowcount
        if not done:
            raise ValidationError(
                "category",
                f"unknown category {category!r}",
                ro=f"nu există categoria {category!r}",
            )


def set_targets(engine: Engine, user: StaffUser, targets: dict[str, float]) -> None:
    """Set the target resolution hours of several categories at once."""
    _require_admin(user)
    for code, hours in targets.items():
        _require_target(code, hours)
    with engine.begin() as conn:
        for code, hours in targets.items():
            done = conn.execute(
                sa.text(
                    "UPDATE categories SET target_hours = :h WHERE city_id = :c AND code = :code"
                ),
                {"h": hours, "c": user.city_id, "code": code},
            ).rowcount
            if not done:
                raise ValidationError(
                    "category", f"unknown category {code!r}", ro=f"nu există categoria {code!r}"
                )


def rules(engine: Engine, user: StaffUser) -> pd.DataFrame:
    """The city's routing rules, in the order they were made, with the names
    staff read beside the codes: ``rule_id``, ``name``, ``category`` and
    ``category_ro``/``_en``, ``department`` and ``department_ro``/``_en``,
    ``assignee`` with ``assignee_name`` and ``assignee_active``, ``has_area``,
    ``area_km2`` and ``active``."""
    _require_admin(user)
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT r.rule_id, r.name, c.code AS category, c.name_ro AS category_ro,"
                " c.name_en AS category_en, d.code AS department, d.name_ro AS department_ro,"
                " d.name_en AS department_en, u.username AS assignee,"
                " u.full_name AS assignee_name, u.active AS assignee_active,"
                " r.area IS NOT NULL AS has_area,"
                " round((ST_Area(r.area::geography) / 1e6)::numeric, 3) AS area_km2, r.active"
                " FROM routing_rules r JOIN categories c USING (city_id, category_id)"
                " JOIN departments d ON d.city_id = r.city_id AND d.department_id = r.department_id"
                " LEFT JOIN users u ON u.city_id = r.city_id AND u.user_id = r.assignee_user_id"
                " WHERE r.city_id = :c ORDER BY r.rule_id"
            ),
            conn,
            params={"c": user.city_id},
        )


def read_area(raw: bytes) -> dict:
    """An uploaded area file as a GeoJSON object: a file that is not JSON at
    all (a Shapefile, a KML, a page saved by mistake) is named as such."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ValidationError(
            "area", "the file is not GeoJSON (it cannot be read as JSON): export the area"
            " as GeoJSON in longitude/latitude",
            ro="fișierul nu este GeoJSON (nu poate fi citit ca JSON): exportați zona ca"
            " GeoJSON în longitudine/latitudine",
        ) from None


def _geometry(area: dict | None) -> dict | None:
    """The (single) geometry of an uploaded GeoJSON object."""
    if area is None:
        return None
    if not isinstance(area, dict) or "type" not in area:
        raise ValidationError("area", "not a GeoJSON object", ro="nu este un obiect GeoJSON")
    if area["type"] == "FeatureCollection":
        features = area.get("features") or []
        if len(features) != 1:
            raise ValidationError(
                "area",
                "upload exactly one polygon feature",
                ro="încărcați un fișier cu un singur poligon",
            )
        area = features[0]
    if area["type"] == "Feature":
        area = area.get("geometry") or {}
    return area


def create_rule(
    engine: Engine,
    user: StaffUser,
    *,
    name: str,
    category: str,
    department: str,
    area: dict | None = None,
    assignee: str | None = None,
) -> int:
    _require_admin(user)
    if not (name or "").strip():
        raise ValidationError(
            "name", "give the rule a name", ro="dați un nume regulii de repartizare"
        )
    with engine.begin() as conn:
        return catalog.create_routing_rule(
            conn,
            user.city_id,
            name=name.strip(),
            category_code=category,
            department_code=department,
            area=_geometry(area),
            assignee_username=assignee,
        )


def set_rule_active(engine: Engine, user: StaffUser, rule_id: int, active: bool) -> None:
    """Stop a routing rule, or start it again.  A rule is never deleted: the
    incidents it routed keep pointing at it (``incident_events``' data)."""
    _require_admin(user)
    with engine.begin() as conn:
        found = conn.execute(
            sa.text("UPDATE routing_rules SET active = :a WHERE city_id = :c AND rule_id = :r"
                    " RETURNING rule_id"),
            {"a": bool(active), "c": user.city_id, "r": rule_id},
        ).scalar_one_or_none()  # fmt: skip
    if found is None:
        raise NotFoundError(
            f"no routing rule {rule_id} in this city",
            ro=f"nu există regula {rule_id} în acest oraș",
        )


def city_settings(engine: Engine, user: StaffUser) -> dict[str, Any]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT settings FROM cities WHERE city_id = :c"), {"c": user.city_id}
        ).scalar_one()


def update_settings(engine: Engine, user: StaffUser, changes: dict[str, Any]) -> None:
    _require_admin(user)
    for key, value in changes.items():
        if key not in SETTINGS:
            raise ValidationError(key, "unknown setting", ro="setare necunoscută")
        kind, low, high = SETTINGS[key]
        if kind is bool and not isinstance(value, bool):
            raise ValidationError(key, "must be true or false", ro="alegeți da sau nu")
        if kind is int and (
            isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
        ):
            raise ValidationError(
                key,
                f"must be a whole number from {low} to {high}",
                ro=f"scrieți un număr întreg de la {low} la {high}",
            )
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE cities SET settings = settings || CAST(:s AS jsonb) WHERE city_id = :c"
            ),
            {"s": json.dumps(changes), "c": user.city_id},
        )

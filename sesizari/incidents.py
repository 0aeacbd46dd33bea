"""The incident domain API: create, route, number, and move through the workflow.

Every entry point (dashboard forms, dispatcher desk, ETL, HTTP API) goes
through these functions, so the rules hold everywhere:

* input is validated before anything is written, and errors name the field;
* each call is one transaction: it happens whole, with its event row, or not at all;
* every action writes an ``incident_events`` row with actor, time and channel.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sesizari import commitments, registry, routing
from sesizari.catalog import City, department_id, get_city
from sesizari.errors import NotFoundError, TransitionError, ValidationError
from sesizari.transactions import run_in_transaction
from sesizari.vocab import (
    STATUS_RO,
    TRANSITIONS,
    Action,
    Channel,
    EventKind,
    Status,
    next_status,
)

MAX_DESCRIPTION = 5000
MAX_ADDRESS = 500
MAX_TEXT = 5000
#: Why an anonymous report is filed when the city does not work anonymous reports.
ANONYMOUS_FILED = "Sesizare anonimă: clasată fără răspuns (OG 27/2002, art. 7)."
#: The workflow actions as the Romanian refusals name them ("Nu se poate prelua ...").
_ACTION_RO: dict[Action, str] = {
    Action.ACKNOWLEDGE: "prelua",
    Action.START: "începe lucrul la",
    Action.RESOLVE: "rezolva",
    Action.CLOSE: "închide",
    Action.REJECT: "respinge",
    Action.MARK_DUPLICATE: "marca drept dublură",
    Action.REOPEN: "redeschide",
}


@dataclass(frozen=True)
class Actor:
    """Who does something: a staff user, a citizen, a feed.  Recorded on every event."""

    label: str
    user_id: int | None = None
    channel: str = "staff"


CITIZEN = Actor("citizen", None, Channel.WEB.value)

#: An address the city can write to: one ``@``, a dot in the domain, no
#: spaces or characters that would make it a list of addresses.
EMAIL_RE = re.compile(r"[^@\s<>,;:\"()\[\]]+@[^@\s<>,;:\"()\[\]]+\.[^@\s<>,;:\"()\[\]]+")
#: A number the city can call back: 6 to 15 digits (ITU E.164 has at most
#: 15), a ``+`` before another country's code, spaces, dots, dashes,
#: slashes and brackets as people group them ("0256 123 456", "+40 (740) 123-456").
PHONE_SEPARATORS = re.compile(r"[\s.()/\-]")
PHONE_RE = re.compile(r"\+?\d{6,15}")


@dataclass(frozen=True)
class Contact:
    """Reporter contact details: personal data, stored apart from the incident."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    consent: bool = False
    #: The language of the page or app the report came from ("ro"/"en"): the
    #: e-mails are written in it.  None: not known, they are written in both.
    lang: str | None = None


@dataclass(frozen=True)
class NewIncident:
    """A report as received, from any channel."""

    city: str
    category: str
    latitude: float
    longitude: float
    description: str
    channel: Channel | str = Channel.WEB
    address: str | None = None
    contact: Contact | None = None
    created_at: datetime | None = None
    source: str | None = None
    external_id: str | None = None
    #: Ask for a PIN without leaving contact details (to confirm the fix later).
    want_pin: bool = False


@dataclass(frozen=True)
class CreatedIncident:
    """The new incident and what the city committed to (see :mod:`sesizari.commitments`).

    ``pin`` is shown to the reporter once (only its hash is stored); it is None
    when the reporter left no contact and did not ask for one.
    """

    incident_id: int
    registry_number: str
    department_code: str
    assignee_username: str | None
    status: Status = Status.NEW
    legal_due_at: datetime | None = None
    owes_reply: bool = False
    pin: str | None = None
    expected_hours_p50: float | None = None
    expected_hours_p80: float | None = None
    expected_basis: str | None = None
    recurrence_of: str | None = None


@dataclass(frozen=True)
class IncidentRef:
    """A locked incident row, as the workflow functions need it."""

    city: City
    incident_id: int
    registry_number: str
    status: Status
    extra: dict[str, Any] = field(default_factory=dict)


# -- validation -------------------------------------------------------------


def _validate_new(new: NewIncident) -> Channel:
    for name, value, lo, hi in (
        ("latitude", new.latitude, -90.0, 90.0),
        ("longitude", new.longitude, -180.0, 180.0),
    ):
        if value is None or not isinstance(value, (int, float)) or math.isnan(value):
            raise ValidationError(name, "a number is required", ro="scrieți un număr")
        if not lo <= value <= hi:
            raise ValidationError(
                name,
                f"must be between {lo:g} and {hi:g}, got {value}",
                ro=f"trebuie să fie între {lo:g} și {hi:g}, nu {value}",
            )
    description = (new.description or "").strip()
    if not description:
        raise ValidationError(
            "description",
            "describe the problem (it is empty)",
            ro="descrieți problema (este goală)",
        )
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            "description",
            f"at most {MAX_DESCRIPTION} characters",
            ro=f"scrieți cel mult {MAX_DESCRIPTION} de caractere",
        )
    if new.address is not None and len(new.address) > MAX_ADDRESS:
        raise ValidationError(
            "address",
            f"at most {MAX_ADDRESS} characters",
            ro=f"scrieți cel mult {MAX_ADDRESS} de caractere",
        )
    if (new.source is None) != (new.external_id is None):
        raise ValidationError(
            "external_id",
            "source and external id go together",
            ro="sursa și id-ul extern se dau împreună",
        )
    try:
        channel = Channel(new.channel)
    except ValueError:
        raise ValidationError(
            "channel",
            f"unknown channel {new.channel!r}; use one of {[c.value for c in Channel]}",
            ro=f"canal necunoscut {new.channel!r}; folosiți unul dintre"
            f" {[c.value for c in Channel]}",
        ) from None
    if new.contact is not None:
        c = new.contact
        if c.email and (not EMAIL_RE.fullmatch(c.email) or len(c.email) > 254):
            raise ValidationError(
                "email", "not a valid e-mail address", ro="nu este o adresă de e-mail validă"
            )
        if c.phone and len(c.phone) > 40:
            raise ValidationError(
                "phone", "at most 40 characters", ro="scrieți cel mult 40 de caractere"
            )
        if c.phone and not PHONE_RE.fullmatch(PHONE_SEPARATORS.sub("", c.phone)):
            raise ValidationError(
                "phone",
                f"{c.phone!r} is not a phone number: write its digits (6 to 15, + before"
                " another country's code), e.g. 0740 123 456",
                ro=f"{c.phone!r} nu este un număr de telefon: scrieți cifrele lui (6 până la"
                " 15, cu + înaintea prefixului altei țări), de ex. 0740 123 456",
            )
        if c.name and len(c.name) > 200:
            raise ValidationError(
                "name", "at most 200 characters", ro="scrieți cel mult 200 de caractere"
            )
        if c.lang not in (None, "ro", "en"):
            raise ValidationError(
                "lang", f"unknown language {c.lang!r}; use 'ro' or 'en'",
                ro=f"limbă necunoscută {c.lang!r}; folosiți 'ro' sau 'en'",
            )
        if (c.name or c.phone or c.email) and not c.consent:
            raise ValidationError(
                "consent",
                "contact details need the consent box ticked",
                ro="bifați caseta de acord pentru a lăsa datele de contact",
            )
    return channel


def _city(conn: Connection, slug: str) -> City:
    try:
        return get_city(conn, slug)
    except NotFoundError as exc:
        raise ValidationError("city", str(exc), ro=exc.ro) from None


def _category_id(conn: Connection, city_id: int, code: str) -> int:
    found = conn.execute(
        sa.text(
            "SELECT category_id FROM categories WHERE city_id = :c AND code = :code AND active"
        ),
        {"c": city_id, "code": code},
    ).scalar_one_or_none()
    if found is None:
        raise ValidationError(
            "category",
            f"unknown category {code!r} in this city, or no longer in use",
            ro=f"nu există categoria {code!r} în acest oraș sau nu mai este folosită;"
            " alegeți alta",
        )
    return found


# -- creation ---------------------------------------------------------------


def create_incident(
    engine: Engine, new: NewIncident, actor: Actor | None = None
) -> CreatedIncident:
    """Validate, route, number and store a new report, in one transaction.

    Run again if PostgreSQL cancels it for a deadlock with another writer of
    the same rollup rows (:mod:`sesizari.transactions`): a citizen's report
    must not fail because an import was running.
    """
    return run_in_transaction(engine, lambda conn: create_incident_in(conn, new, actor))


def create_incident_in(
    conn: Connection, new: NewIncident, actor: Actor | None = None
) -> CreatedIncident:
    """:func:`create_incident` inside a transaction the caller owns (ETL batches)."""
    channel = _validate_new(new)
    actor = actor or Actor("citizen", None, channel.value)
    city = _city(conn, new.city)
    category_id = _category_id(conn, city.city_id, new.category)
    inside, district_id = conn.execute(
        sa.text(
            "SELECT ST_Covers(c.boundary, p.geom),"
            " (SELECT d.district_id FROM districts d WHERE d.city_id = c.city_id"
            "  AND ST_Covers(d.geom, p.geom) ORDER BY d.district_id LIMIT 1)"
            " FROM cities c, (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom) p"
            " WHERE c.city_id = :c"
        ),
        {"c": city.city_id, "lon": new.longitude, "lat": new.latitude},
    ).one()
    if not inside:
        raise ValidationError(
            "location",
            f"the point is outside {city.name_ro}; place it inside the city boundary",
            ro=f"punctul este în afara orașului {city.name_ro}; plasați-l în interiorul"
            " limitei orașului",
        )
    target = routing.route(conn, city.city_id, category_id, new.longitude, new.latitude)
    year = registry.local_year(conn, new.created_at, city.timezone)
    number = registry.next_number(conn, city.city_id, city.registry_prefix, year)
    # A report made now is registered when its number is taken: the numbers
    # and registration times of a city's registry rise together.
    registered_at = new.created_at or registry.registration_time(conn, year, city.timezone)
    incident_id = conn.execute(
        sa.text(
            "INSERT INTO incidents (city_id, registry_number, category_id, department_id,"
            " assignee_user_id, district_id, status, channel, geom, address, description,"
            " description_public, created_at, updated_at, source, external_id)"
            " VALUES (:c, :num, :cat, :dep, :who, :dist, 'new', :ch,"
            " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :addr, :descr,"
            # A description with a phone, e-mail, CNP or plate waits for staff
            # before it is published (migration 0027).
            " NOT looks_personal(:descr),"
            " COALESCE(:at, now()), COALESCE(:at, now()), :src, :ext)"
            " RETURNING incident_id"
        ),
        {
            "c": city.city_id,
            "num": number,
            "cat": category_id,
            "dep": target.department_id,
            "who": target.assignee_user_id,
            "dist": district_id,
            "ch": channel.value,
            "lon": new.longitude,
            "lat": new.latitude,
            "addr": new.address,
            "descr": new.description.strip(),
            "at": registered_at,
            "src": new.source,
            "ext": new.external_id,
        },
    ).scalar_one()
    has_contact = new.contact is not None and bool(
        new.contact.name or new.contact.phone or new.contact.email
    )
    if has_contact:
        conn.execute(
            sa.text(
                "INSERT INTO incident_contacts (city_id, incident_id, name, phone, email,"
                " consent_at, lang) VALUES (:c, :i, :n, :p, :e, now(), :lang)"
            ),
            {
                "c": city.city_id,
                "i": incident_id,
                "n": new.contact.name,
                "p": new.contact.phone.strip() if new.contact.phone else None,
                "e": new.contact.email,
                "lang": new.contact.lang,
            },
        )
    promised = commitments.register(
        conn,
        city.city_id,
        city.timezone,
        city.settings,
        incident_id,
        has_contact=has_contact,
        want_pin=new.want_pin,
    )
    data: dict[str, Any] = {"department": target.department_code, "rule_id": target.rule_id}
    if promised.recurrence_of:
        data["recurrence_of"] = promised.recurrence_of
    _event(
        conn,
        city.city_id,
        incident_id,
        EventKind.CREATED,
        actor,
        to_status=Status.NEW,
        public=True,
        data=data,
        at=registered_at,
    )
    status = Status.NEW
    if not has_contact and city.settings.get("work_anonymous", True) is False:
        # The city files anonymous reports without working them (OG 27/2002, art. 7).
        status = perform_in(
            conn,
            city.slug,
            number,
            Action.REJECT,
            Actor("registratura", None, "staff"),
            text=ANONYMOUS_FILED,
            at=registered_at,
        )
    return CreatedIncident(
        incident_id,
        number,
        target.department_code,
        target.assignee_username,
        status=status,
        legal_due_at=promised.legal_due_at,
        owes_reply=promised.owes_reply,
        pin=promised.pin,
        expected_hours_p50=promised.estimate.p50,
        expected_hours_p80=promised.estimate.p80,
        expected_basis=promised.estimate.basis,
        recurrence_of=promised.recurrence_of,
    )


# -- workflow ---------------------------------------------------------------


def _event(
    conn: Connection,
    city_id: int,
    incident_id: int,
    kind: EventKind,
    actor: Actor,
    *,
    from_status: Status | None = None,
    to_status: Status | None = None,
    public: bool = False,
    body: str | None = None,
    data: dict | None = None,
    at: datetime | None = None,
) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO incident_events (city_id, incident_id, kind, from_status, to_status,"
            " actor_user_id, actor_label, channel, is_public, body, data, created_at)"
            " VALUES (:c, :i, :k, :f, :t, :u, :l, :ch, :pub, :b, CAST(:d AS jsonb),"
            " COALESCE(:at, now()))"
        ),
        {
            "c": city_id,
            "i": incident_id,
            "k": kind.value,
            "f": from_status.value if from_status else None,
            "t": to_status.value if to_status else None,
            "u": actor.user_id,
            "l": actor.label,
            "ch": actor.channel,
            "pub": public,
            "b": body,
            "d": json.dumps(data or {}),
            "at": at,
        },
    )


def _lock(conn: Connection, city_slug: str, registry_number: str) -> IncidentRef:
    city = _city(conn, city_slug)
    row = conn.execute(
        sa.text(
            "SELECT incident_id, status FROM incidents"
            " WHERE city_id = :c AND registry_number = :n FOR UPDATE"
        ),
        {"c": city.city_id, "n": registry.normalize(registry_number)},
    ).one_or_none()
    if row is None:
        raise NotFoundError(
            f"No incident {registry_number!r} in {city.name_ro}",
            ro=f"Nu există sesizarea {registry_number!r} în {city.name_ro}",
        )
    return IncidentRef(city, row.incident_id, registry_number, Status(row.status))


def _text(value: str | None, field: str, required: bool) -> str | None:
    value = (value or "").strip() or None
    if required and value is None:
        raise ValidationError(field, "this text is required", ro="completați acest text")
    if value is not None and len(value) > MAX_TEXT:
        raise ValidationError(
            field, f"at most {MAX_TEXT} characters", ro=f"scrieți cel mult {MAX_TEXT} de caractere"
        )
    return value


def require_text(value: str | None, field: str) -> str:
    """A non-empty text of at most :data:`MAX_TEXT` characters, or :class:`ValidationError`."""
    return _text(value, field, required=True) or ""


#: Which actions need a text, and whether it is shown on the public timeline.
_ACTION_TEXT: dict[Action, tuple[bool, bool]] = {
    Action.ACKNOWLEDGE: (False, True),
    Action.START: (False, True),
    Action.RESOLVE: (True, True),
    Action.CLOSE: (False, True),
    Action.REJECT: (True, True),
    Action.MARK_DUPLICATE: (False, True),
    Action.REOPEN: (True, True),
}


def perform(
    engine: Engine,
    city: str,
    registry_number: str,
    action: Action | str,
    actor: Actor,
    *,
    text: str | None = None,
    duplicate_of: str | None = None,
    at: datetime | None = None,
) -> Status:
    """Apply a workflow action; return the new status.

    Refuses actions not allowed from the current status (:class:`TransitionError`),
    a resolution or rejection without text, and a duplicate link to an unknown
    or self-referencing incident (:class:`ValidationError`).
    """
    return run_in_transaction(
        engine,
        lambda conn: perform_in(
            conn, city, registry_number, action, actor, text=text, duplicate_of=duplicate_of, at=at
        ),
    )


def perform_in(
    conn: Connection,
    city: str,
    registry_number: str,
    action: Action | str,
    actor: Actor,
    *,
    text: str | None = None,
    duplicate_of: str | None = None,
    at: datetime | None = None,
) -> Status:
    """:func:`perform` inside a transaction the caller owns (a dispute reopens with its event).

    The first resolution, rejection or duplicate link is the formal reply of the
    petition law: ``answered_at`` keeps that first moment, even after a reopen.
    """
    action = Action(action)
    text_required, public = _ACTION_TEXT[action]
    body = _text(text, "resolution_text" if action is Action.RESOLVE else "text", text_required)
    ref = _lock(conn, city, registry_number)
    target = next_status(ref.status, action)
    if target is None:
        allowed = sorted(s.value for s in TRANSITIONS[action][0])
        allowed_ro = [STATUS_RO[s] for s in Status if s in TRANSITIONS[action][0]]
        raise TransitionError(
            f"Cannot {action.name.lower().replace('_', ' ')} {registry_number}: it is "
            f"{ref.status.value}; allowed from {', '.join(allowed)}",
            ro=f"Nu se poate {_ACTION_RO[action]} sesizarea {registry_number}: este"
            f" {STATUS_RO[ref.status]}; se poate doar când este {_or_ro(allowed_ro)}",
        )
    params: dict[str, Any] = {
        "c": ref.city.city_id,
        "i": ref.incident_id,
        "s": target.value,
        "at": at,
    }
    sets = ["status = :s", "updated_at = COALESCE(:at, now())"]
    if action in (Action.RESOLVE, Action.REJECT, Action.MARK_DUPLICATE):
        sets.append("answered_at = COALESCE(answered_at, :at, now())")
    data: dict[str, Any] = {}
    if action in (Action.ACKNOWLEDGE, Action.START):
        sets.append("acknowledged_at = COALESCE(acknowledged_at, :at, now())")
    elif action is Action.RESOLVE:
        sets += ["resolved_at = COALESCE(:at, now())", "resolution_text = :body"]
        sets.append("acknowledged_at = COALESCE(acknowledged_at, :at, now())")
        params["body"] = body
    elif action is Action.CLOSE:
        sets.append("closed_at = COALESCE(:at, now())")
    elif action is Action.MARK_DUPLICATE:
        original = _duplicate_target(conn, ref, duplicate_of)
        sets.append("duplicate_of = :dup")
        params["dup"] = original[0]
        data["duplicate_of"] = original[1]
    elif action is Action.REOPEN:
        sets += [
            "resolved_at = NULL",
            "closed_at = NULL",
            "resolution_text = NULL",
            "duplicate_of = NULL",
        ]
    conn.execute(
        sa.text(
            # ``sets`` holds only fixed fragments from this function; values are bound.
            f"UPDATE incidents SET {', '.join(sets)}"  # noqa: S608
            " WHERE city_id = :c AND incident_id = :i"
        ),
        params,
    )
    _event(
        conn,
        ref.city.city_id,
        ref.incident_id,
        EventKind(action.value),
        actor,
        from_status=ref.status,
        to_status=target,
        public=public,
        body=body,
        data=data,
        at=at,
    )
    return target


def _or_ro(words: list[str]) -> str:
    """``words`` as a Romanian alternative: "nouă", "nouă sau preluată", "a, b sau c"."""
    return " sau ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else words[0]


def _duplicate_target(conn: Connection, ref: IncidentRef, number: str | None) -> tuple[int, str]:
    if not number or not number.strip():
        raise ValidationError(
            "duplicate_of",
            "give the registry number of the original incident",
            ro="scrieți numărul de înregistrare al sesizării originale",
        )
    number = registry.normalize(number)
    if number == ref.registry_number:
        raise ValidationError(
            "duplicate_of",
            "an incident cannot duplicate itself",
            ro="o sesizare nu poate fi dublura ei însăși",
        )
    row = conn.execute(
        sa.text(
            "SELECT incident_id, status FROM incidents WHERE city_id = :c AND registry_number = :n"
        ),
        {"c": ref.city.city_id, "n": number},
    ).one_or_none()
    if row is None:
        raise ValidationError(
            "duplicate_of",
            f"no incident {number} in {ref.city.name_ro}",
            ro=f"nu există sesizarea {number} în {ref.city.name_ro}",
        )
    if row.status == Status.DUPLICATE:
        raise ValidationError(
            "duplicate_of",
            f"{number} is itself a duplicate; link its original",
            ro=f"sesizarea {number} este ea însăși o dublură; alegeți sesizarea ei originală",
        )
    return row.incident_id, number


def assign(engine: Engine, city: str, registry_number: str, username: str, actor: Actor) -> None:
    """Give the incident to a person of its department."""
    with engine.begin() as conn:
        ref = _lock(conn, city, registry_number)
        user = conn.execute(
            sa.text(
                "SELECT u.user_id, u.department_id = i.department_id AS same_dep"
                " FROM users u JOIN incidents i ON i.city_id = u.city_id AND i.incident_id = :i"
                " WHERE u.city_id = :c AND u.username = :u AND u.active"
            ),
            {"c": ref.city.city_id, "i": ref.incident_id, "u": username},
        ).one_or_none()
        if user is None:
            raise ValidationError(
                "assignee",
                f"no active user {username!r} in this city",
                ro=f"nu există un utilizator activ {username!r} în acest oraș",
            )
        if not user.same_dep:
            raise ValidationError(
                "assignee",
                f"{username} is not in the incident's department; re-route it first",
                ro=f"{username} nu face parte din compartimentul sesizării; redirecționați"
                " mai întâi sesizarea",
            )
        conn.execute(
            sa.text(
                "UPDATE incidents SET assignee_user_id = :u, updated_at = now()"
                " WHERE city_id = :c AND incident_id = :i"
            ),
            {"u": user.user_id, "c": ref.city.city_id, "i": ref.incident_id},
        )
        _event(
            conn,
            ref.city.city_id,
            ref.incident_id,
            EventKind.ASSIGNED,
            actor,
            data={"assignee": username},
        )


def reroute(
    engine: Engine,
    city: str,
    registry_number: str,
    actor: Actor,
    *,
    reason: str,
    category: str | None = None,
    department: str | None = None,
) -> str:
    """Move the incident to another category and/or department; returns the new department code.

    A new category without a department re-runs routing for the incident's point.
    The assignee is cleared: the receiving department decides who works on it.
    """
    reason_text = _text(reason, "reason", required=True)
    if category is None and department is None:
        raise ValidationError(
            "category",
            "choose a new category or department",
            ro="alegeți o categorie nouă sau un compartiment nou",
        )

    def work(conn: Connection) -> str:
        ref = _lock(conn, city, registry_number)
        if ref.status not in (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS):
            raise TransitionError(
                f"Cannot re-route {registry_number}: it is {ref.status.value}",
                ro=f"Nu se poate redirecționa sesizarea {registry_number}: este"
                f" {STATUS_RO[ref.status]}",
            )
        cur = conn.execute(
            sa.text(
                "SELECT i.category_id, c.code AS category, i.department_id, d.code AS department,"
                " ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat FROM incidents i"
                " JOIN categories c USING (city_id, category_id)"
                " JOIN departments d ON d.city_id = i.city_id AND d.department_id = i.department_id"
                " WHERE i.city_id = :c AND i.incident_id = :i"
            ),
            {"c": ref.city.city_id, "i": ref.incident_id},
        ).one()
        category_id = (
            _category_id(conn, ref.city.city_id, category) if category else cur.category_id
        )
        if department is not None:
            dep_id, dep_code = department_id(conn, ref.city.city_id, department), department
        else:
            target = routing.route(conn, ref.city.city_id, category_id, cur.lon, cur.lat)
            dep_id, dep_code = target.department_id, target.department_code
        conn.execute(
            sa.text(
                "UPDATE incidents SET category_id = :cat, department_id = :dep,"
                " assignee_user_id = NULL, updated_at = now()"
                " WHERE city_id = :c AND incident_id = :i"
            ),
            {"cat": category_id, "dep": dep_id, "c": ref.city.city_id, "i": ref.incident_id},
        )
        _event(
            conn,
            ref.city.city_id,
            ref.incident_id,
            EventKind.REROUTED,
            actor,
            body=reason_text,
            data={
                "from": {"category": cur.category, "department": cur.department},
                "to": {"category": category or cur.category, "department": dep_code},
            },
        )
        return dep_code

    # Changes the incident's group: run again after a deadlock (see create_incident).
    return run_in_transaction(engine, work)


def add_note(
    engine: Engine, city: str, registry_number: str, actor: Actor, text: str, public: bool = False
) -> None:
    """An internal note (``public=False``) or a public update shown on the Track page."""
    body = _text(text, "text", required=True)
    with engine.begin() as conn:
        ref = _lock(conn, city, registry_number)
        _event(
            conn,
            ref.city.city_id,
            ref.incident_id,
            EventKind.PUBLIC_UPDATE if public else EventKind.NOTE,
            actor,
            public=public,
            body=body,
        )


def get_incident(conn: Connection, city: str, registry_number: str) -> dict[str, Any]:
    """The incident's fields (no personal data) as a dict, or :class:`NotFoundError`."""
    city_row = _city(conn, city)
    row = conn.execute(
        sa.text(
            "SELECT i.incident_id, i.registry_number, i.status, i.channel, c.code AS category,"  # noqa: S608  (a constant fragment)
            " d.code AS department, u.username AS assignee, i.description, i.address,"
            # The names staff read; the codes above are what the workflow uses.
            " c.name_ro AS category_ro, c.name_en AS category_en,"
            " d.name_ro AS department_ro, d.name_en AS department_en,"
            " u.full_name AS assignee_name, u.active AS assignee_active,"
            " i.resolution_text, i.description_public,"
            " looks_personal(i.description) AS description_looks_personal,"
            " i.created_at, i.acknowledged_at,"
            " i.resolved_at, i.closed_at, ci.timezone,"
            # What the city owes the petitioner, as the tracking page tells them.
            " " + commitments.LEGAL_DUE_SQL + " AS legal_due_at,"
            " i.legal_extended_at, i.owes_reply, " + commitments.ANSWERED_SQL + " AS answered_at,"
            " i.forwarded_to, i.forwarded_at, rec.registry_number AS recurrence_of,"
            " ST_Y(i.geom) AS latitude, ST_X(i.geom) AS longitude, dup.registry_number AS"
            " duplicate_of FROM incidents i"
            " JOIN categories c USING (city_id, category_id)"
            " JOIN cities ci ON ci.city_id = i.city_id"
            " JOIN departments d ON d.city_id = i.city_id AND d.department_id = i.department_id"
            " LEFT JOIN users u ON u.city_id = i.city_id AND u.user_id = i.assignee_user_id"
            " LEFT JOIN incidents dup ON dup.city_id = i.city_id"
            "  AND dup.incident_id = i.duplicate_of"
            " LEFT JOIN incidents rec ON rec.city_id = i.city_id"
            "  AND rec.incident_id = i.recurrence_of"
            " WHERE i.city_id = :c AND i.registry_number = :n"
        ),
        {"c": city_row.city_id, "n": registry.normalize(registry_number)},
    ).one_or_none()
    if row is None:
        raise NotFoundError(
            f"No incident {registry_number!r} in {city_row.name_ro}",
            ro=f"Nu există sesizarea {registry_number!r} în {city_row.name_ro}",
        )
    return dict(row._mapping)


def get_events(
    conn: Connection,
    city: str,
    registry_number: str,
    public_only: bool = False,
    *,
    incident_id: int | None = None,
) -> list[dict[str, Any]]:
    """The incident's history, oldest first (``public_only`` for the citizen's timeline).

    ``actor_name`` is the full name of the staff member who acted (None for a
    citizen, a feed or the system: ``actor_label`` says which), and
    ``assignee_name`` that of the colleague an ``assigned`` event gave the
    incident to; ``mail_status`` / ``mail_sent_at`` whether and when the
    reporter was told of it by e-mail (:mod:`sesizari.notifications`; None
    when no message was due): all left out of the citizen's timeline.  A caller that has
    just read the incident passes its ``incident_id``, which spares reading it
    again.
    """
    if incident_id is None:
        incident_id = get_incident(conn, city, registry_number)["incident_id"]
    rows = conn.execute(
        sa.text(
            "SELECT e.kind, e.from_status, e.to_status, e.actor_label, e.channel, e.is_public,"
            " e.body, e.data, e.created_at, CASE WHEN NOT :pub THEN u.full_name END AS actor_name,"
            " CASE WHEN NOT :pub THEN a.full_name END AS assignee_name,"
            " CASE WHEN NOT :pub THEN n.status END AS mail_status,"
            " CASE WHEN NOT :pub THEN n.sent_at END AS mail_sent_at"
            " FROM incident_events e JOIN cities c USING (city_id)"
            " LEFT JOIN notifications n ON n.city_id = e.city_id AND n.event_id = e.event_id"
            "  AND n.recipient = 'reporter'"
            " LEFT JOIN users u ON u.city_id = e.city_id AND u.user_id = e.actor_user_id"
            " LEFT JOIN users a ON e.kind = 'assigned' AND a.city_id = e.city_id"
            "  AND a.username = e.data->>'assignee'"
            " WHERE c.slug = :city AND e.incident_id = :i AND (NOT :pub OR e.is_public)"
            " ORDER BY e.created_at, e.event_id"
        ),
        {"city": city, "i": incident_id, "pub": public_only},
    )
    return [dict(r._mapping) for r in rows]


def set_description_public(
    engine: Engine, city: str, registry_number: str, public: bool, actor: Actor
) -> None:
    """Show or hide the description in public outputs (it may name a person, a plate...)."""
    with engine.begin() as conn:
        ref = _lock(conn, city, registry_number)
        conn.execute(
            sa.text(
                "UPDATE incidents SET description_public = :p, updated_at = now()"
                " WHERE city_id = :c AND incident_id = :i"
            ),
            {"p": public, "c": ref.city.city_id, "i": ref.incident_id},
        )
        _event(
            conn,
            ref.city.city_id,
            ref.incident_id,
            EventKind.UPDATED,
            actor,
            data={"description_public": public},
        )

"""Write the demo into PostGIS: reference rows through the catalog API, the
bulk (incidents, contacts, events) with COPY in one transaction per city.

A city that already exists is skipped, so ``make run`` can call this on every
start without duplicating anything.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sesizari import catalog, commitments
from sesizari.auth import hash_password
from sesizari.demo.generate import DemoCity, generate, heritage_zone
from sesizari.demo.reference import CATEGORIES, DEPARTMENTS
from sesizari.errors import ValidationError

Progress = Callable[[str, int, int], None]
#: Events the reporter causes, and the actor label they carry (as live:
#: ``citizen`` at intake, ``reporter`` for a verdict through the tracking page).
_BY_REPORTER = {"created": "citizen", "confirmed": "reporter", "disputed": "reporter"}
CHUNK = 100_000


def _quiet(_label: str, _done: int, _total: int) -> None:
    pass


def _copy(conn: Connection, table: str, frame: pd.DataFrame, progress: Progress) -> None:
    """COPY ``frame`` (columns named as the table's) into ``table``, in chunks."""
    raw = conn.connection.driver_connection
    cols = ", ".join(frame.columns)
    total = len(frame)
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)") as cp:
        for start in range(0, total, CHUNK):
            buf = io.StringIO()
            frame.iloc[start : start + CHUNK].to_csv(
                buf, header=False, index=False, date_format="%Y-%m-%d %H:%M:%S.%f+00"
            )
            cp.write(buf.getvalue())
            progress(table, min(start + CHUNK, total), total)


#: Password of every demo account (demo cities only; see README).
DEMO_PASSWORD = "sesizari-demo"


def _reference(conn: Connection, city: DemoCity) -> tuple[int, dict, dict, dict]:
    spec = city.spec
    pw = hash_password(DEMO_PASSWORD)
    city_id = catalog.create_city(
        conn,
        slug=spec.slug,
        name_ro=spec.name_ro,
        name_en=spec.name_en,
        registry_prefix=spec.prefix,
        boundary=city.boundary,
        settings={"resolution_photo_required": False, "demo": True},
    )
    district_ids = {
        name: catalog.create_district(conn, city_id, name, geom)
        for name, geom in city.districts.items()
        if not geom.is_empty
    }
    dep_ids = {
        d.code: catalog.create_department(conn, city_id, d.code, d.name_ro, d.name_en)
        for d in DEPARTMENTS
    }
    cat_ids = {
        c.code: catalog.create_category(
            conn, city_id, c.code, c.name_ro, c.name_en, c.department, c.target_hours, c.sensitive
        )
        for c in CATEGORIES
    }
    for username, full_name, role in (
        ("admin", "Administrator", "admin"),
        ("manager", "Manager oraș", "manager"),
        ("dispecer", "Dispecerat", "dispatcher"),
    ):
        catalog.create_user(
            conn, city_id, username=username, full_name=full_name, role=role, password_hash=pw
        )
    for d in DEPARTMENTS:
        catalog.create_user(
            conn,
            city_id,
            username=f"sef.{d.code}",
            full_name=f"Șef {d.name_ro}",
            role="dept_head",
            department_code=d.code,
            password_hash=pw,
        )
        for k in (1, 2):
            catalog.create_user(
                conn,
                city_id,
                username=f"agent{k}.{d.code}",
                full_name=f"Agent {k} {d.name_ro}",
                role="staff",
                department_code=d.code,
                password_hash=pw,
            )
    # Area rule: street lights in the centre go straight to one technician.
    catalog.create_routing_rule(
        conn,
        city_id,
        name="Iluminat centru",
        category_code="street_light",
        department_code="lighting",
        area=heritage_zone(spec),
        assignee_username="agent1.lighting",
    )
    return city_id, district_ids, dep_ids, cat_ids


def load_city(conn: Connection, city: DemoCity, progress: Progress = _quiet) -> int:
    """Insert one generated city; returns its ``city_id``."""
    city_id, district_ids, dep_ids, cat_ids = _reference(conn, city)
    inc = city.incidents
    base = conn.execute(sa.text("SELECT COALESCE(max(incident_id), 0) FROM incidents")).scalar_one()
    ids = inc["local_id"] + base + 1

    # Area routing applies to the demo rows exactly as to live submissions.
    zone = heritage_zone(city.spec)
    in_zone = (inc["category"] == "street_light") & shapely.contains_xy(
        zone, inc["lon"].to_numpy(), inc["lat"].to_numpy()
    )
    lighting_tech = catalog.get_user_id(conn, city_id, "agent1.lighting")

    rows = pd.DataFrame(
        {
            "city_id": city_id,
            "incident_id": ids,
            "registry_number": inc["registry_number"],
            "category_id": inc["category"].map(cat_ids),
            "department_id": inc["department"].map(dep_ids),
            "assignee_user_id": pd.array(
                [lighting_tech if z else None for z in in_zone], dtype="Int64"
            ),
            "district_id": pd.array(inc["district"].map(district_ids), dtype="Int64"),
            "status": inc["status"],
            "channel": inc["channel"],
            "geom": "SRID=4326;POINT("
            + inc["lon"].astype(str)
            + " "
            + inc["lat"].astype(str)
            + ")",
            "address": inc["address"],
            "description": inc["description"],
            "created_at": inc["created_at"],
            "acknowledged_at": inc["acknowledged_at"],
            "resolved_at": inc["resolved_at"],
            "closed_at": inc["closed_at"],
            "updated_at": inc["updated_at"],
            "resolution_text": inc["resolution_text"],
            "duplicate_of": inc["duplicate_of_local"] + base + 1,
            "owes_reply": inc["owes_reply"],
            "forwarded_to": inc["forwarded_to"],
            "forwarded_at": inc["forwarded_at"],
            "expected_hours_p50": inc["expected_hours_p50"],
            "expected_hours_p80": inc["expected_hours_p80"],
            "expected_basis": inc["expected_basis"],
        }
    )
    _copy(conn, "incidents", rows, progress)
    # Problems that come back, linked by the rule a new report is linked by; the
    # planner must know the rows just copied, or it scans them for each one.
    conn.execute(sa.text("ANALYZE incidents"))
    commitments.mark_recurrences(conn, city_id, catalog.get_city(conn, city.spec.slug).settings)
    conn.execute(
        sa.text(
            "SELECT setval(pg_get_serial_sequence('incidents', 'incident_id'),"
            " (SELECT max(incident_id) FROM incidents))"
        )
    )
    counters = inc.groupby("year")["seq"].max()
    for year, last in counters.items():
        conn.execute(
            sa.text(
                "INSERT INTO registry_counters (city_id, year, last_value) VALUES (:c, :y, :v)"
            ),
            {"c": city_id, "y": int(year), "v": int(last)},
        )
    contacts = city.contacts.assign(
        city_id=city_id, incident_id=city.contacts["local_id"] + base + 1
    )
    _copy(
        conn,
        "incident_contacts",
        contacts[["city_id", "incident_id", "name", "phone", "email", "consent_at"]],
        progress,
    )
    ev = city.events
    # Staff events are signed by one of the department's two agents, as live
    # ones are by the user who acted, so the history names a colleague.
    users = dict(
        conn.execute(
            sa.text("SELECT username, user_id FROM users WHERE city_id = :c"), {"c": city_id}
        ).all()
    )
    department = ev["local_id"].map(inc.set_index("local_id")["department"])
    agent = "agent" + (ev["local_id"] % 2 + 1).astype(str) + "." + department
    by_staff = ~ev["kind"].isin(list(_BY_REPORTER))
    events = pd.DataFrame(
        {
            "city_id": city_id,
            "incident_id": ev["local_id"] + base + 1,
            "kind": ev["kind"],
            "from_status": ev["from_status"],
            "to_status": ev["to_status"],
            "actor_user_id": pd.array(agent.map(users).where(by_staff), dtype="Int64"),
            "actor_label": ev["kind"].map(_BY_REPORTER).where(~by_staff, agent),
            "channel": ev["kind"].map({k: "web" for k in _BY_REPORTER}).fillna("staff"),
            "is_public": True,
            "body": ev["body"],
            "data": ev["data"],
            "created_at": ev["created_at"],
        }
    )
    _copy(conn, "incident_events", events, progress)
    return city_id


#: The e-mails waiting at each demo city's dispatcher desk: hours before the
#: newest report, sender, subject, text (its {street}), with a picture.
DEMO_MAILS = (
    (2, "Elena Marin", "Groapă periculoasă",
     "Bună ziua,\n\nPe {street}, în dreptul nr. 12, s-a format o groapă adâncă în care au"
     " căzut deja doi bicicliști. Vă rog să interveniți.\n\nCu stimă,\nElena Marin", True),
    (5, "Andrei Pavel", "Container plin de o săptămână",
     "Containerul de gunoi de pe {street} nu a mai fost golit de o săptămână; gunoiul e pe"
     " trotuar.", False),
    (26, "Oferte Rapide", "Câștigați un premiu!", "Ați fost selectat pentru un premiu.", False),
)


def _demo_picture() -> bytes:
    """A made-up photo (a grey street under a pale sky), cleaned like an upload."""
    from PIL import Image, ImageDraw

    from sesizari.photos import process_photo

    image = Image.new("RGB", (640, 480), (176, 196, 222))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 260, 640, 480), fill=(96, 96, 96))
    draw.ellipse((250, 330, 400, 390), fill=(40, 40, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return process_photo(out.getvalue()).data


def load_inbox(conn: Connection, city_id: int, city: DemoCity) -> None:
    """The demo's e-mails waiting at the dispatcher's desk (:mod:`sesizari.inbox`)."""
    from sesizari.inbox import ParsedMessage, store

    latest = pd.Timestamp(city.incidents["created_at"].max()).to_pydatetime()
    picture = _demo_picture()
    street = city.spec.streets[0]
    centre = city.spec.center  # (lon, lat)
    for n, (hours, name, subject, body, with_picture) in enumerate(DEMO_MAILS, 1):
        key = hashlib.sha256(f"demo:{city.spec.slug}:{n}".encode()).hexdigest()
        address = name.lower().replace(" ", ".") + "@example.ro"
        store(conn, city_id, ParsedMessage(
            source_key=key, received_at=latest - timedelta(hours=hours), sender_name=name,
            sender_email=address, subject=subject, body=body.format(street=street),
            photos=[picture] if with_picture else [],
            # As a phone's picture says where it was taken: near the centre.
            place=(centre[1] + 0.0012, centre[0] - 0.0016) if with_picture else None,
        ))  # fmt: skip


def load_demo(
    engine: Engine,
    total: int = 20_000,
    seed: int = 42,
    as_of: datetime | None = None,
    progress: Progress = _quiet,
    cities: Iterable[DemoCity] | None = None,
) -> dict[str, int]:
    """Load the demo cities that are not in the database yet; returns slug -> incidents loaded.

    Refused in a database that serves a real city: the demo brings accounts
    with a published password and made-up reports, which have no place there.
    """
    loaded: dict[str, int] = {}
    with engine.connect() as conn:
        existing = set(catalog.list_city_slugs(conn))
        real = list(
            conn.execute(
                sa.text(
                    "SELECT slug FROM cities"
                    " WHERE NOT COALESCE((settings->>'demo')::boolean, false) ORDER BY slug"
                )
            ).scalars()
        )
    if real:
        raise ValidationError(
            "database",
            f"it serves real cities ({', '.join(real)}): the demo, with its published"
            " passwords, goes only into a database of its own (unset DATABASE_URL to use"
            " the embedded one, or point it at an empty database)",
        )
    for city in cities if cities is not None else generate(total, seed, as_of):
        if city.spec.slug in existing:
            loaded[city.spec.slug] = 0
            continue
        with engine.begin() as conn:
            # History, not news: its events e-mail nobody (migration 0035).
            conn.execute(sa.text("SET LOCAL sesizari.notify = 'off'"))
            city_id = load_city(conn, city, progress)
            load_inbox(conn, city_id, city)
        loaded[city.spec.slug] = len(city.incidents)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    return loaded

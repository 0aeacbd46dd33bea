"""No personal data in any public output: canary values searched in the raw bytes."""

from __future__ import annotations

import io
import re

import geopandas as gpd
import sqlalchemy as sa

from sesizari import catalog, opendata
from sesizari.incidents import (
    Actor,
    Contact,
    NewIncident,
    add_note,
    assign,
    create_incident,
    get_incident,
    perform,
    set_description_public,
)
from tests.api_support import client, form, new_key
from tests.conftest import TEST_LAT, TEST_LON

CANARY = re.compile(rb"canary|0799123", re.IGNORECASE)
STAFF = Actor("ana", None, "staff")


#: RELIABILITY R9's figure: 1,000 reports carrying canaries.
N = 1_000


def _seed(engine, city, n: int = N) -> list[str]:
    """``n`` reports full of canaries where only staff may see them: the
    reporter's name, phone and e-mail, internal notes, a hidden description,
    a description holding a phone number (held back on its own, migration
    0027), the assignee's name."""
    with engine.begin() as conn:
        catalog.create_user(
            conn,
            city["city_id"],
            username="canary.staff",
            full_name="CANARY-STAFF-NAME",
            role="staff",
            department_code="roads",
            email="canary.staff@example.ro",
        )
    api = client(engine)
    key = new_key(engine)
    numbers = []
    for i in range(n):
        dlon, dlat = (i % 30) * 0.0015, (i // 30 % 30) * 0.0015
        if i % 2:
            r = api.post(
                "/requests.json",
                data=form(
                    api_key=key,
                    service_code=("pothole", "noise", "street_light")[i % 3],
                    lat=TEST_LAT + dlat,
                    long=TEST_LON + dlon,
                    description=(f"Sunați-mă la 0799123{i:03d}" if i % 10 == 3
                                 else f"Problemă {i}"),
                    # Some write their phone where the address goes.
                    address_string=(f"Str. Lungă 3, tel. 0799123{i:03d}" if i % 10 == 7
                                    else None),
                    first_name=f"CANARY-NAME-{i:03d}",
                    last_name="CANARY-SURNAME",
                    email=f"canary{i:03d}@example.ro",
                    phone=f"0799123{i:03d}",
                ),
            )
            assert r.status_code == 200, r.text
            number = r.json()[0]["service_request_id"]
        else:
            number = create_incident(
                engine,
                NewIncident(
                    city="testville",
                    category=("pothole", "noise")[i % 4 // 2],
                    latitude=TEST_LAT + dlat,
                    longitude=TEST_LON + dlon,
                    description=f"Problemă {i}",
                    contact=Contact(
                        f"CANARY-NAME-{i:03d}",
                        f"0799123{i:03d}",
                        f"canary{i:03d}@example.ro",
                        consent=True,
                    ),
                ),
            ).registry_number
        add_note(engine, "testville", number, STAFF, f"CANARY-NOTE-{i} internal only")
        if i % 5 == 0:
            set_description_public(engine, "testville", number, False, STAFF)
            with engine.begin() as conn:
                conn.execute(
                    sa.text("UPDATE incidents SET description = :d WHERE registry_number = :n"),
                    {"d": f"CANARY-HIDDEN-DESCRIPTION {i}", "n": number},
                )
        if i % 3 == 0:
            with engine.connect() as conn:
                department = get_incident(conn, "testville", number)["department"]
            if department == "roads":
                assign(engine, "testville", number, "canary.staff", STAFF)
        if i % 4 == 1:
            perform(engine, "testville", number, "resolved", STAFF, text=f"Rezolvat {i}")
        numbers.append(number)
    return numbers


def test_no_public_output_contains_personal_data(engine, city):
    numbers = _seed(engine, city)
    api = client(engine)
    urls = [
        "/services.json",
        "/services.xml",
        "/services/pothole.json",
        "/services/noise.xml",
        "/requests.json",
        "/requests.xml",
        "/requests.json?status=open",
        "/requests.json?status=closed",
        "/requests.xml?status=closed",
        "/requests.json?service_code=noise,pothole",
        "/requests.json?start_date=2000-01-01T00:00:00Z",
        # A query string holds at most 10,000 characters: 500 numbers at a time.
        *(f"/requests.{fmt}?service_request_id={','.join(numbers[k:k + 500])}"
          for fmt in ("json", "xml") for k in range(0, len(numbers), 500)),
        "/opendata/incidents.geojson",
        "/opendata/incidents.csv",
        "/opendata/incidents.parquet",
        "/opendata/incidents.csv?status=resolved",
    ]
    urls += [f"/requests/{n}.json" for n in numbers] + [f"/requests/{n}.xml" for n in numbers]
    for url in urls:
        r = api.get(url)
        assert r.status_code == 200, (url, r.text)
        assert not CANARY.search(r.content), (url, CANARY.search(r.content))
    assert len(api.get("/requests.json").json()) == N

    # Parquet pages may be compressed: search the decoded values too.
    pq = gpd.read_parquet(io.BytesIO(api.get("/opendata/incidents.parquet").content))
    assert len(pq) == N
    assert not CANARY.search(pq.to_csv().encode())

    gdf = opendata.public_incidents(engine, "testville")
    assert tuple(gdf.columns) == opendata.PUBLIC_COLUMNS
    assert len(gdf) == N
    assert not CANARY.search(gdf.to_wkt().to_csv().encode())
    for writer in (opendata.to_geojson, opendata.to_csv):
        assert not CANARY.search(writer(gdf))

    # The public map's payload: every layer's rows as the page gets them.
    from sesizari import queries

    whole = queries.Filters("testville")
    for layer in (queries.points(engine, whole, 5000), queries.hexagons(engine, whole, 250),
                  queries.clusters(engine, whole, 60, 3)):
        assert not CANARY.search(layer.to_csv().encode())
    # Every report but those of the sensitive category (noise), which the
    # public map never draws as points.
    assert len(queries.points(engine, whole, 5000)) == N - len(
        gdf[gdf["category"] == "noise"])
    _public_pages_hold_no_canary(engine, numbers)

    # The canaries are really stored (the test would prove nothing otherwise).
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT count(*) FROM incident_contacts WHERE email LIKE 'canary%'")
        ).scalar_one()
    assert stored == N


def _walk(node):
    """Every element of an AppTest tree."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _public_pages_hold_no_canary(engine, numbers: list[str]) -> None:
    """The public pages in AppTest: everything they send to the browser
    (texts, tables, the map's JSON), searched for canaries."""
    import os

    import streamlit as st

    from tests.apptest_support import run_app

    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        # (page, a text it must hold: the walk sees the page's data)
        pages = [(run_app(city="testville", layer="points"), "TST-"),
                 (run_app(city="testville", layer="clusters"), "ScatterplotLayer"),
                 (run_app("open_data", city="testville"), "TST-")]
        pages += [(run_app("track", id=n), n) for n in numbers[:30]]
        for at, shown in pages:
            sent = "\n".join(str(getattr(e, "proto", "")) for e in _walk(at._tree))
            assert shown in sent
            assert not CANARY.search(sent.encode()), CANARY.search(sent.encode())
    finally:
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        st.cache_data.clear()
        st.cache_resource.clear()


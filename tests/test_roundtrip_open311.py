"""Round trip: the project's ETL pulls from the project's own Open311 server into a
second city, and the public fields survive."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl.load import load_source
from etl.mapping import load_mapping
from etl.open311 import open311_source
from sesizari import catalog
from sesizari.incidents import Actor, NewIncident, create_incident, perform
from tests.api_support import live_server
from tests.conftest import TEST_BOUNDARY, TEST_LAT, TEST_LON

CLERK = Actor("ana", None, "staff")


@pytest.fixture
def server(engine, city):
    with live_server(engine) as url:
        yield url


def test_etl_pulls_our_own_open311_feed_into_a_second_city(engine, city, server):
    with engine.begin() as conn:
        cid = catalog.create_city(
            conn,
            slug="mirror",
            name_ro="Oglinda",
            name_en="Mirror",
            registry_prefix="MIR",
            boundary=TEST_BOUNDARY,
        )
        catalog.create_department(conn, cid, "roads", "Drumuri", "Roads")
        for code in ("pothole", "street_light", "other"):
            catalog.create_category(conn, cid, code, code, code, "roads", 48)
    sources = {}
    for i, (category, text) in enumerate(
        [
            ("pothole", "Groapă adâncă"),
            ("street_light", "Bec ars pe stâlp"),
            ("pothole", "Gropi după ploaie"),
        ]
    ):
        created = create_incident(
            engine, NewIncident("testville", category, TEST_LAT + i * 0.001, TEST_LON, text)
        )
        sources[created.registry_number] = (category, text, TEST_LAT + i * 0.001)
    resolved = next(iter(sources))
    perform(engine, "testville", resolved, "resolved", CLERK, text="Plombat cu asfalt")
    perform(engine, "testville", resolved, "closed", CLERK)

    mapping = load_mapping("open311")
    result = load_source(
        engine, open311_source(server, jurisdiction="testville"), server, "mirror", mapping
    )
    assert (result.read, result.inserted, result.rejected) == (3, 3, 0)

    with engine.connect() as conn:
        rows = {
            r.external_id: r
            for r in conn.execute(
                sa.text(
                    "SELECT i.external_id, c.code, i.status, i.description, i.resolution_text,"
                    " ST_Y(i.geom) AS lat, i.registry_number FROM incidents i"
                    " JOIN categories c USING (city_id, category_id) JOIN cities ci USING (city_id)"
                    " WHERE ci.slug = 'mirror'"
                )
            )
        }
    assert set(rows) == set(sources)
    for number, (category, text, lat) in sources.items():
        got = rows[number]
        assert got.code == category
        assert text in got.description
        assert got.lat == pytest.approx(lat, abs=1e-6)
        assert got.registry_number.startswith("MIR-")
    assert rows[resolved].status == "closed"
    assert rows[resolved].resolution_text == "Plombat cu asfalt"
    again = load_source(
        engine, open311_source(server, jurisdiction="testville"), server, "mirror", mapping
    )
    assert (again.inserted, again.unchanged) == (0, 3)

"""The Streamlit app in AppTest (widgets, numbers, languages) against the demo database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.i18n import MESSAGES
from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")


@pytest.fixture
def demo_url(pg_cluster, demo_database, monkeypatch) -> str:
    url = pg_cluster.url(demo_database)
    monkeypatch.setenv("DATABASE_URL", url)
    st.cache_data.clear()  # Streamlit caches are process-wide: start each test afresh
    st.cache_resource.clear()
    return url


def _count(demo_engine, slug: str) -> int:
    with demo_engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM incidents JOIN cities USING (city_id) WHERE slug = :s"),
            {"s": slug},
        ).scalar_one()


def test_both_languages_have_the_same_texts():
    assert MESSAGES["ro"].keys() == MESSAGES["en"].keys()


def test_live_map_shows_the_chosen_city(demo_url, demo_engine):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="city").value == "alba-iulia"  # first by Romanian name
    total = at.metric[0].value.replace(".", "")
    assert int(total) == _count(demo_engine, "alba-iulia")
    assert "Sesizări pe hartă" in at.subheader[0].value  # Romanian by default
    at.selectbox(key="city").set_value("lugoj").run()
    assert int(at.metric[0].value.replace(".", "")) == _count(demo_engine, "lugoj")
    assert at.query_params["city"] == "lugoj"


def test_english_from_the_query_string(demo_url):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception
    assert "Incidents on the map" in at.subheader[0].value

"""Every table of every page is headed in the page's language, never with a column's code.

A header such as ``name`` or ``total`` is the query's own column name shown
as it came: the translation was forgotten on the way to the page.
"""

from __future__ import annotations

import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.apptest_support import APP, load_user

#: Each page, the query parameters that show its tables, and how many tables
#: the demo city gives it at least (so that a page drawing none cannot pass).
PAGES = [
    ("live_map", {"layer": "clusters"}, 1),
    ("resolution", {}, 3),
    ("departments", {}, 2),
    ("accountability", {}, 3),
    ("open_data", {}, 1),
    ("queue", {}, 1),
    ("dispatch", {}, 0),
    ("feeds", {}, 0),
    ("account", {}, 0),
    ("admin", {}, 3),
]

#: A column's code: lower case letters, digits and underscores only.
CODE = re.compile(r"[a-z][a-z0-9_]*")


@pytest.fixture
def demo_url(pg_cluster, demo_database, monkeypatch) -> str:
    url = pg_cluster.url(demo_database)
    monkeypatch.setenv("DATABASE_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    return url


def _open(engine, page: str, lang: str, **params: str) -> AppTest:
    """The page after one run, straight on it, as the demo city's administrator.

    One run only: on a second run AppTest reads the first run's widget labels
    outside the app, where every page is in the default language.
    """
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in {"city": "lugoj", "lang": lang, **params}.items():
        at.query_params[key] = value
    at.session_state["user"] = load_user(engine, "admin")
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _codes(at: AppTest) -> set[str]:
    return {
        str(column)
        for table in at.dataframe
        for column in table.value.columns
        if CODE.fullmatch(str(column))
    }


@pytest.mark.parametrize("lang", ["ro", "en"])
@pytest.mark.parametrize(("page", "params", "tables"), PAGES)
def test_no_table_is_headed_with_a_column_code(demo_url, demo_engine, page, params, tables, lang):
    at = _open(demo_engine, page, lang, **params)
    assert len(at.dataframe) >= tables
    assert not _codes(at), f"{page} in {lang}: headed with codes {sorted(_codes(at))}"


@pytest.mark.parametrize("by", ["department", "district"])
def test_each_grouping_of_resolution_times_is_headed_in_words(demo_url, demo_engine, by):
    at = _open(demo_engine, "resolution", "ro")
    at.radio(key="res_by").set_value(by).run()
    assert not at.exception, at.exception
    assert len(at.dataframe) >= 3
    assert not _codes(at), f"resolution by {by}: headed with codes {sorted(_codes(at))}"

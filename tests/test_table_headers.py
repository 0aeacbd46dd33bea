"""Every table of every page is headed in the page's language, never with a column's code,
and a table of names lists them in dictionary order.

A header such as ``name`` or ``total`` is the query's own column name shown
as it came: the translation was forgotten on the way to the page.  The
queries order rows by code (``abandoned_car``, ``fallen_tree``, ``garbage``),
which on a Romanian page reads as no order at all.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.i18n import collation_key
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


def _decimal_formats(at: AppTest) -> dict[str, str | None]:
    """Each decimal column of the page's tables, and the format it is drawn with."""
    found = {}
    for table in at.dataframe:
        config = json.loads(table.proto.columns or "{}")
        for column in table.value.columns:
            if pd.api.types.is_float_dtype(table.value[column]):
                found[column] = config.get(column, {}).get("type_config", {}).get("format")
    return found


@pytest.mark.parametrize("page", ["departments", "resolution", "accountability", "queue"])
def test_decimals_are_written_as_the_reader_writes_them_on_a_romanian_page(
    demo_url, demo_engine, page
):
    """The grid wrote "85.3" on a Romanian page; with "localized" a Romanian
    browser writes "85,3" and "4.315,4" (drawn in the browser: the format is
    what the page can be held to)."""
    romanian = _decimal_formats(_open(demo_engine, page, "ro"))
    assert romanian and set(romanian.values()) == {"localized"}, romanian
    english = _decimal_formats(_open(demo_engine, page, "en"))
    assert english and set(english.values()) == {None}, english


def test_charts_write_numbers_in_the_page_s_language(demo_url, demo_engine):
    """Vega wrote 1,500.5 on a Romanian page (a Romanian reads the comma as
    the decimal mark); its locale makes the axes and tooltips read 1.500,5."""
    def number_locales(lang: str) -> list:
        charts = _open(demo_engine, "resolution", lang).get("vega_lite_chart")
        assert len(charts) >= 4, charts
        return [json.loads(c.proto.spec).get("config", {}).get("locale") for c in charts]

    ro = {"number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " lei"]}}
    assert set(map(json.dumps, number_locales("ro"))) == {json.dumps(ro)}
    assert set(map(json.dumps, number_locales("en"))) == {"null"}


@pytest.mark.parametrize("by", ["department", "district"])
def test_each_grouping_of_resolution_times_is_headed_in_words(demo_url, demo_engine, by):
    at = _open(demo_engine, "resolution", "ro")
    at.radio(key="res_by").set_value(by).run()
    assert not at.exception, at.exception
    assert len(at.dataframe) >= 3
    assert not _codes(at), f"resolution by {by}: headed with codes {sorted(_codes(at))}"


def test_names_sort_as_the_romanian_alphabet_orders_them():
    names = ["Țevi", "Zebra", "Tuburi", "Spații verzi", "Șanț", "Salubritate", "apă",
             "Apă-Canal", "Circulație", "Îngrijire", "Iluminat", "Apa", "Âb"]  # fmt: skip
    assert sorted(names, key=collation_key) == [
        "Apa", "apă", "Apă-Canal", "Âb", "Circulație", "Iluminat", "Îngrijire",
        "Salubritate", "Spații verzi", "Șanț", "Tuburi", "Țevi", "Zebra",
    ]  # fmt: skip


def _in_order(names: list[str]) -> bool:
    return names == sorted(names, key=collation_key)


@pytest.mark.parametrize("lang", ["ro", "en"])
def test_tables_of_names_are_in_dictionary_order(demo_url, demo_engine, lang):
    headers = {"ro": ("Nume", "Compartiment", "Categorie"),
               "en": ("Name", "Department", "Category")}  # fmt: skip
    name, department, category = headers[lang]
    resolution = _open(demo_engine, "resolution", lang)
    by_category, within = resolution.dataframe[0].value, resolution.dataframe[1].value
    assert len(by_category) >= 8 and _in_order(list(by_category[name])), list(by_category[name])
    assert _in_order(list(within[name])), list(within[name])
    accountability = _open(demo_engine, "accountability", lang)
    legal, verification = accountability.dataframe[0].value, accountability.dataframe[1].value
    assert len(legal) >= 8 and _in_order(list(legal[department])), list(legal[department])
    pairs = list(zip(verification[department], verification[category], strict=True))
    assert pairs == sorted(pairs, key=lambda p: (collation_key(p[0]), collation_key(p[1])))
    departments = _open(demo_engine, "departments", lang)
    categories = departments.dataframe[1].value
    assert _in_order(list(categories[name])), list(categories[name])

"""The Streamlit app in AppTest: every page with each role, key numbers against the database."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
import streamlit as st

from dashboard.i18n import MESSAGES
from tests.apptest_support import load_user, run_app, shown

ANALYTICS = ["live_map", "resolution", "departments"]


@pytest.fixture
def demo_url(pg_cluster, demo_database, monkeypatch) -> str:
    url = pg_cluster.url(demo_database)
    monkeypatch.setenv("DATABASE_URL", url)
    st.cache_data.clear()  # Streamlit caches are process-wide: start each test afresh
    st.cache_resource.clear()
    return url


def _scalar(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def test_both_languages_have_the_same_texts():
    assert MESSAGES["ro"].keys() == MESSAGES["en"].keys()
    assert all(MESSAGES["en"][k] for k in MESSAGES["en"])


def test_live_map_kpis_match_the_database(demo_url, demo_engine):
    at = run_app(city="lugoj")
    assert at.selectbox(key="city").value == "lugoj"
    open_now = _scalar(
        demo_engine,
        "SELECT count(*) FROM incidents JOIN cities USING (city_id) WHERE slug ="
        " 'lugoj' AND status IN ('new', 'acknowledged', 'in_progress')",
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Deschise acum"] == f"{open_now:,}".replace(",", ".")
    assert "Harta sesizărilor" in at.subheader[0].value


@pytest.mark.parametrize("layer", ["hexagons", "clusters", "hotspots", "points"])
def test_every_layer_renders(demo_url, layer):
    at = run_app(city="lugoj", layer=layer)
    assert at.query_params["layer"] == layer
    if layer == "points":  # 1,260 incidents over 180 days: below the 5,000 limit, points shown
        assert not at.warning
    if layer == "clusters":  # the clusters' table, its headers in the page's language
        table = at.dataframe[0].value
        assert list(table.columns) == [
            "Aglomerare", "Sesizări", "Deschise", "Categoria dominantă", "Cartierul dominant"
        ]  # fmt: skip
        assert len(table)


def test_clusters_say_when_the_grid_answered(demo_url, monkeypatch):
    import dashboard.data

    exact = run_app(city="lugoj", layer="clusters")
    assert not any("grilă" in c.value for c in exact.caption)
    st.cache_data.clear()
    monkeypatch.setattr(dashboard.data, "EXACT_CLUSTER_LIMIT", 10)
    grid = run_app(city="lugoj", layer="clusters")
    assert any("aproximarea DBSCAN pe grilă" in c.value for c in grid.caption)


def test_points_refused_above_the_limit(demo_url, monkeypatch):
    monkeypatch.setenv("SESIZARI_POINTS_LIMIT", "10")
    at = run_app(city="lugoj", layer="points")
    assert "prea multe" in at.warning[0].value


def test_filters_round_trip_through_the_url(demo_url):
    at = run_app(city="lugoj", cat="pothole,garbage,nonsense", status="new")
    assert at.multiselect(key="f_cat").value == ["pothole", "garbage"]
    assert at.multiselect(key="f_status").value == ["new"]
    at.multiselect(key="f_dep").set_value(["roads"]).run()
    assert at.query_params["dep"] == "roads"


@pytest.mark.parametrize("role", [None, "manager", "sef.roads", "agent1.roads"])
@pytest.mark.parametrize("page", ANALYTICS)
def test_analytics_pages_for_each_role(demo_url, demo_engine, role, page):
    user = load_user(demo_engine, role) if role else None
    at = run_app(user=user, page=page, city="lugoj")
    if page == "departments":
        table = at.dataframe[0].value
        if user is not None and not user.city_wide:
            assert at.selectbox(key="dep_pick").options == ["Drumuri și poduri"]
        else:
            assert len(table) == 8  # every department ranked



def test_the_scorecard_title_names_the_sidebar_period(demo_url):
    """The scorecard's period ends before its exclusive end date: the title
    names the last day it includes, the one the date range ends on, written
    as the date range writes it."""
    at = run_app(page="departments", city="lugoj", **{"from": "2026-06-01", "to": "2026-08-31"})
    assert at.date_input(key="f_period").value == (date(2026, 6, 1), date(2026, 8, 31))
    assert "(01.06.2026 – 31.08.2026)" in shown(at.subheader[0].value)

def test_the_scorecard_shows_what_it_ranks_by_beside_the_rank(demo_url):
    at = run_app(page="departments", city="lugoj")
    table = at.dataframe[0].value
    assert list(table.columns[:3]) == ["Loc", "Compartiment", "În termen (%)"]
    assert list(table["Loc"]) == list(range(1, len(table) + 1))
    ranked = table["În termen (%)"].dropna()
    assert ranked.is_monotonic_decreasing and len(ranked) > 1
    assert any(c.value.startswith("Locul: după procentul rezolvat în termen") for c in at.caption)


def test_the_resolution_page_names_the_weeks_its_dates_cut(demo_url):
    at = run_app(page="resolution", city="lugoj", **{"from": "2026-06-03", "to": "2026-08-31"})
    said = [shown(c.value) for c in at.caption]
    said = [c for c in said if c.startswith("Săptămâni prinse doar în parte")]
    assert said == [
        "Săptămâni prinse doar în parte în perioada aleasă (numără mai puține zile):"
        " 01.06.2026, 31.08.2026."
    ]
    whole = run_app(page="resolution", city="lugoj", **{"from": "2026-06-01", "to": "2026-08-30"})
    assert not [c for c in whole.caption if c.value.startswith("Săptămâni prinse")]


@pytest.mark.parametrize("role", [None, "sef.water", "agent1.water", "manager"])
def test_the_live_map_is_the_root_page_for_every_role(demo_url, demo_engine, role):
    """A link shared by anyone opens the same page: had a head's root been their
    scorecard, their live map's link (/live_map) would show others "Page not found"."""
    user = load_user(demo_engine, role) if role else None
    at = run_app(user=user, city="lugoj")
    assert at.radio(key="layer").value == "hexagons"
    assert at.session_state["pages"]["live_map"].url_path == ""


def test_department_head_lands_on_own_department(demo_url, demo_engine):
    at = run_app("login")
    at.selectbox(key="city").set_value("lugoj").run()
    at.text_input(key="login_user").set_value("sef.water")
    at.text_input(key="login_password").set_value("sesizari-demo")
    next(b for b in at.button if b.label == "Intră").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="dep_pick").value == "water"
    assert at.selectbox(key="city").value == "lugoj"  # the head's own city, not the first
    signed_in = [shown(c.value) for c in at.sidebar.caption]
    assert "Conectat ca Șef Apă-Canal (Șef de compartiment)" in signed_in  # the role in words
    received = at.dataframe[0].value
    assert list(received.iloc[:, 1]) == ["Apă-Canal"]  # scoped: one department only


def test_sessions_share_the_cache_never_each_others_rows(demo_url, demo_engine):
    """RELIABILITY R12: ``st.cache_data`` is shared by every session of the
    process.  A manager, two department heads and the manager again open the
    same pages with the same sidebar, one after the other, each finding the
    cache warm from the one before: each sees what their role allows, to
    the incident."""
    open_sql = ("SELECT count(*) FROM incidents i JOIN cities c USING (city_id)"
                " JOIN departments d ON d.city_id = i.city_id"
                " AND d.department_id = i.department_id WHERE c.slug = 'lugoj'"
                " AND i.status IN ('new', 'acknowledged', 'in_progress')"
                " AND (CAST(:dep AS text) IS NULL OR d.code = :dep)")
    for who, dep in [("manager", None), ("sef.water", "water"), ("sef.roads", "roads"),
                     ("manager", None), ("sef.water", "water")]:
        user = load_user(demo_engine, who)
        live = run_app(user=user, page="live_map", city="lugoj")
        opened = _scalar(demo_engine, open_sql, dep=dep)
        assert {m.label: m.value for m in live.metric}["Deschise acum"] == \
            f"{opened:,}".replace(",", "."), who
        table = run_app(user=user, page="departments", city="lugoj").dataframe[0].value
        if dep is None:
            assert len(table) == 8, who  # every department ranked
        else:
            name = _scalar(demo_engine, "SELECT d.name_ro FROM departments d JOIN cities c"
                           " USING (city_id) WHERE c.slug = 'lugoj' AND d.code = :d", d=dep)
            assert list(table.iloc[:, 1]) == [name], who


def test_english_from_the_query_string(demo_url):
    at = run_app(lang="en", city="lugoj")
    assert "Incident map" in at.subheader[0].value
    assert at.metric[0].label == "Open now"



def _direction(metric) -> str:
    field = metric.proto.DESCRIPTOR.fields_by_name["direction"]
    return field.enum_type.values_by_number[metric.proto.direction].name


def test_kpi_changes_show_their_direction_and_no_arrow_when_unchanged(demo_url):
    """A tile that did not move shows a plain 0 (no arrow, no colour); one
    that grew shows its signed change with an arrow up."""
    at = run_app(city="lugoj")
    changes = {m.label: (m.delta, _direction(m)) for m in at.metric}
    assert ("0", "NONE") in changes.values(), changes  # the demo's "new today" is 0 -> 0
    for delta, direction in changes.values():
        if delta == "0":
            assert direction == "NONE"
        elif delta is not None:
            assert direction == ("DOWN" if delta.startswith("-") else "UP"), changes


@pytest.mark.parametrize(("lang", "written"), [
    ("ro", "1.234.567 / +1.234 / -5 / 6,6 zile / 18 ore / 24 de ore / 1 oră / sub o oră"),
    ("en", "1,234,567 / +1,234 / -5 / 6.6 days / 18 hours / 24 hours / 1 hour / under an hour"),
])
def test_numbers_are_written_as_the_language_writes_them(lang, written):
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        import streamlit as st

        from dashboard import widgets

        st.text(" / ".join([widgets.number(1234567), widgets.number(1234, signed=True),
                            widgets.number(-5, signed=True), widgets.duration(158.4),
                            widgets.duration(17.6), widgets.duration(23.8),
                            widgets.duration(1.2), widgets.duration(0.3)]))  # fmt: skip

    at = AppTest.from_function(page)
    at.query_params["lang"] = lang
    at.run()
    assert at.text[0].value == written


@pytest.mark.parametrize(("lang", "written"), [
    ("ro", "1 sesizare / 17 sesizări / 20 de sesizări / 105 sesizări / 3.067 de sesizări"),
    ("en", "1 incident / 17 incidents / 20 incidents / 105 incidents / 3,067 incidents"),
])
def test_counts_are_written_with_their_noun_as_the_language_wants(lang, written):
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        import streamlit as st

        from dashboard import widgets

        st.text(" / ".join(widgets.count(n) for n in (1, 17, 20, 105, 3067)))

    at = AppTest.from_function(page)
    at.query_params["lang"] = lang
    at.run()
    assert at.text[0].value == written


def test_the_open_data_count_is_written_in_romanian(demo_url, demo_engine):
    n = _scalar(
        demo_engine,
        "SELECT count(*) FROM incidents JOIN cities USING (city_id) WHERE slug = 'lugoj'",
    )
    assert n >= 1000
    at = run_app(page="open_data", city="lugoj", **{"from": "2000-01-01"})
    written = f"{n:,}".replace(",", ".")
    said = [shown(c.value) for c in at.caption]
    assert any(c.startswith(written + " de sesizări") for c in said), said


def test_last_update_is_on_the_citys_clock(demo_url):
    """The Live map's "updated at" time is Bucharest time, whatever the server's zone."""
    import re
    from datetime import datetime
    from zoneinfo import ZoneInfo

    at = run_app(city="lugoj")
    said = [shown(c.value) for c in at.caption]
    clock = next(m for c in said if (m := re.search(r"\b(\d\d):(\d\d):(\d\d)\b", c)))
    now = datetime.now(ZoneInfo("Europe/Bucharest"))
    seconds = int(clock[1]) * 3600 + int(clock[2]) * 60 + int(clock[3])
    gap = abs(now.hour * 3600 + now.minute * 60 + now.second - seconds)
    assert min(gap, 86400 - gap) < 120, (clock[0], now)

def test_open_data_page_lists_public_fields_only(demo_url, demo_engine):
    at = run_app(page="open_data", city="lugoj", cat="pothole")
    assert "Date deschise" in at.subheader[0].value
    dictionary = at.dataframe[0].value
    assert "registry_number" in set(dictionary.iloc[:, 0])
    licence = shown(at.markdown[-1].value)
    assert "CC BY 4.0" in licence and "Primăria Lugoj" in licence and "reuse" not in licence
    assert {b.label for b in at.get("download_button")} == {"GeoJSON", "CSV", "GeoParquet"}


def test_open_data_page_aggregates_large_selections(demo_url, monkeypatch):
    monkeypatch.setenv("SESIZARI_POINTS_LIMIT", "10")
    at = run_app(page="open_data", city="lugoj")
    assert "hexagoane" in at.info[0].value


def test_prefetch_runs_a_pages_queries_together_and_leaves_errors_to_the_page():
    """The two calls can only pass the barrier if they run at the same time;
    their results must then come from the cache (no second run), and an
    error is raised by the page's own call, not by the prefetch."""
    import threading

    from dashboard import data

    both = threading.Barrier(2, timeout=30)
    runs: list[object] = []

    @st.cache_data
    def figure(x: int) -> int:
        runs.append(x)
        both.wait()
        return x * 10

    @st.cache_data
    def broken(x: int) -> int:
        raise ValueError(f"no figure {x}")

    data.prefetch((figure, (1,)), (figure, (2,)), (broken, (3,)))
    assert (figure(1), figure(2)) == (10, 20)
    assert sorted(runs) == [1, 2]
    with pytest.raises(ValueError, match="no figure 3"):
        broken(3)


def _sampled_notes() -> None:
    import pandas as pd

    from dashboard import widgets

    widgets.sampled_note(pd.DataFrame({"sampled": [False, True]}))
    widgets.sampled_note(pd.DataFrame({"sampled": [False, False]}))
    widgets.sampled_note(pd.DataFrame({"n": [1]}))


def test_estimated_medians_are_marked_once_and_only_when_sampled():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_sampled_notes).run()
    assert not at.exception
    assert len(at.caption) == 1
    assert "eșantion fix de o sesizare din 8" in at.caption[0].value


def test_the_drill_down_follows_the_link_then_the_pick(demo_url, demo_engine):
    at = run_app(page="departments", city="lugoj", department="lighting")
    assert at.selectbox(key="dep_pick").value == "lighting"
    at.selectbox(key="dep_pick").set_value("roads").run()
    assert not at.exception
    assert at.query_params["department"] == "roads"
    assert at.selectbox(key="dep_pick").value == "roads"
    # An unknown department in the link falls back to the first one, by code.
    first = run_app(page="departments", city="lugoj", department="nonsense")
    lowest = _scalar(
        demo_engine,
        "SELECT min(d.code) FROM departments d JOIN cities c USING (city_id) WHERE c.slug = :s",
        s="lugoj",
    )
    assert first.selectbox(key="dep_pick").value == lowest

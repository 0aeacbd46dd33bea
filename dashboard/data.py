"""The dashboard's only door to the data: cached calls into the query layer.

Every cached function takes every value that scopes access (city, and the
user's department where it matters, inside :class:`Filters`) as an argument,
because ``st.cache_data`` is shared by all sessions.  Writes are never cached:
pages call the domain API (``sesizari.incidents``, ``sesizari.workspace``)
through :func:`engine`; the reads here go through :func:`reader`, whose
login can write nothing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from sesizari import db, queries
from sesizari.queries import Filters
from sesizari.settings import load_settings

TTL = 60
#: Above this many incidents the cluster layer is the grid approximation.
EXACT_CLUSTER_LIMIT = queries.EXACT_CLUSTER_LIMIT
#: The cluster distance the Live map opens with: the one whose cells have a rollup.
CLUSTER_EPS_M = int(queries.DASHBOARD_CLUSTER_EPS_M)


#: How many of a page's queries run at once in :func:`prefetch`: one per core
#: of a small server; more would only queue on the database.
PREFETCH_WORKERS = 2


def prefetch(*calls: tuple[Callable[..., Any], tuple[Any, ...]]) -> None:
    """Run a page's cached queries side by side, so the page can then read them.

    A page calls its queries one after the other, and each one keeps a single
    core of the database busy; a page of six whole-city queries waited for the
    sum of them.  Called first with ``(cached_function, args)`` pairs, this
    fills ``st.cache_data`` from a few threads (each one its own pooled
    connection), and the page's ordinary calls below return from the cache.
    Errors are not raised here: the page's own call raises them where the page
    handles them.
    """
    ctx = get_script_run_ctx()

    def run(call: tuple[Callable[..., Any], tuple[Any, ...]]) -> None:
        add_script_run_ctx(ctx=ctx)  # the cache and session of the page's run
        fn, args = call
        with contextlib.suppress(Exception):  # raised again by the page's own call
            fn(*args)

    with ThreadPoolExecutor(max_workers=PREFETCH_WORKERS) as pool:
        list(pool.map(run, calls))


@st.cache_resource
def engine():
    """One engine per process (the pool is shared by sessions), for the pages' writes."""
    return db.get_engine()


@st.cache_resource
def reader():
    """The engine of every read below: a login that can only read (``db.get_read_engine``)."""
    return db.get_read_engine()


@st.cache_resource
def settings():
    return load_settings()


@st.cache_data(ttl=TTL, show_spinner=False)
def cities() -> pd.DataFrame:
    return queries.cities(reader())


@st.cache_data(ttl=TTL, show_spinner=False)
def hexagons(filters: Filters, size_m: int) -> pd.DataFrame:
    return pd.DataFrame(queries.hexagons(reader(), filters, size_m).drop(columns="geometry"))


@st.cache_data(ttl=TTL, show_spinner=False)
def view(city: str) -> dict[str, float]:
    return queries.city_view(reader(), city)


@st.cache_data(ttl=3600, show_spinner=False)
def outline(city: str) -> dict:
    """City boundary and districts as one FeatureCollection with ``properties.kind``."""
    boundary = json.loads(queries.city_boundary(reader(), city).to_json(drop_id=True))
    districts = queries.districts_geojson(reader(), city)
    features = [
        {**f, "properties": {"kind": "boundary", "name": city}} for f in boundary["features"]
    ] + [
        {**f, "properties": {**f["properties"], "kind": "district"}} for f in districts["features"]
    ]
    return {"type": "FeatureCollection", "features": features}


@st.cache_data(ttl=TTL, show_spinner=False)
def choices(city: str) -> dict[str, pd.DataFrame]:
    """Active categories and departments for form selectors."""
    cats = queries.categories(reader(), city)
    deps = queries.departments(reader(), city)
    return {"categories": cats[cats["active"]], "departments": deps[deps["active"]]}


@st.cache_data(ttl=TTL, show_spinner=False)
def department_codes(city: str) -> list[str]:
    """Every department's code (active or not), in code order, as the scorecard lists them.

    (Byte order, as the embedded cluster's C.UTF-8 collation sorts codes; on a
    server sorting otherwise, the page's first guess may miss and cost one query.)
    """
    return sorted(queries.departments(reader(), city)["code"])


@st.cache_data(ttl=3600, show_spinner=False)
def district_names(city: str) -> list[str]:
    return queries.district_names(reader(), city)


# Analytics: each takes the frozen Filters (which carries the access scope) as its key.


@st.cache_data(ttl=TTL, show_spinner=False)
def kpis(filters: Filters) -> pd.DataFrame:
    return queries.kpis(reader(), filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def clusters(filters: Filters, eps_m: int, min_points: int) -> pd.DataFrame:
    return _plain(
        queries.clusters(reader(), filters, eps_m, min_points, exact_limit=EXACT_CLUSTER_LIMIT)
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def hotspots(filters: Filters, size_m: int) -> pd.DataFrame:
    return _plain(queries.hotspots_gi(reader(), filters, size_m))


@st.cache_data(ttl=TTL, show_spinner=False)
def points(filters: Filters, limit: int, include_sensitive: bool) -> pd.DataFrame | None:
    return queries.points(reader(), filters, limit, include_sensitive=include_sensitive)


@st.cache_data(ttl=TTL, show_spinner=False)
def count(filters: Filters) -> int:
    return queries.count_incidents(reader(), filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def resolution_stats(filters: Filters, by: str) -> pd.DataFrame:
    return queries.resolution_stats(reader(), filters, by)


@st.cache_data(ttl=TTL, show_spinner=False)
def weekly_trend(filters: Filters) -> pd.DataFrame:
    return queries.weekly_trend(reader(), filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def resolution_distribution(filters: Filters) -> pd.DataFrame:
    return queries.resolution_distribution(reader(), filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def share_within_target(filters: Filters, by: str) -> pd.DataFrame:
    return queries.share_within_target(reader(), filters, by)


@st.cache_data(ttl=TTL, show_spinner=False)
def backlog_ageing(filters: Filters) -> pd.DataFrame:
    return queries.backlog_ageing(reader(), filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def district_medians(filters: Filters) -> pd.DataFrame:
    return _plain(queries.district_medians(reader(), filters))


@st.cache_data(ttl=TTL, show_spinner=False)
def department_performance(filters: Filters) -> pd.DataFrame:
    return queries.department_performance(reader(), filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def department_overdue(filters: Filters, department: str) -> pd.DataFrame:
    return queries.department_overdue(reader(), filters, department)


def _plain(gdf) -> pd.DataFrame:
    """A GeoDataFrame as plain columns (GeoJSON-like dicts) that caches and pickles cheaply."""
    frame = pd.DataFrame(gdf.drop(columns="geometry"))
    frame["geojson"] = [g.__geo_interface__ if g is not None else None for g in gdf.geometry]
    return frame


def zone(city: str):
    """The city's time zone, in which every time on its pages is shown."""
    from zoneinfo import ZoneInfo

    frame = cities()
    return ZoneInfo(dict(zip(frame["slug"], frame["timezone"], strict=True))[city])


def _bounds(filters: Filters):
    """Local calendar dates of ``filters`` as aware datetimes (the city's zone)."""
    from datetime import datetime, time

    tz = zone(filters.city)

    def at(day):
        return None if day is None else datetime.combine(day, time(0), tzinfo=tz)

    return at(filters.start), at(filters.end)


@st.cache_data(ttl=TTL, show_spinner=False)
def public_precision(city: str) -> float:
    """The city's grid for sensitive points in public outputs, in metres."""
    from sesizari import opendata
    from sesizari.catalog import get_city

    with reader().connect() as conn:
        return opendata.public_precision(get_city(conn, city))


def public_incidents(filters: Filters, limit: int | None = None):
    """The published rows of the selection (allow-listed columns, generalised points)."""
    from sesizari import opendata

    start, end = _bounds(filters)
    return opendata.public_incidents(
        reader(),
        filters.city,
        start,
        end,
        list(filters.categories) or None,
        list(filters.statuses) or None,
        list(filters.districts) or None,
        limit,
    )


@st.cache_data(ttl=TTL, show_spinner=False)
def legal_deadlines(filters: Filters) -> pd.DataFrame:
    return queries.legal_deadlines(reader(), filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def verification_breakdown(filters: Filters) -> pd.DataFrame:
    return queries.verification_breakdown(reader(), filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def recurrence_rates(filters: Filters) -> pd.DataFrame:
    return queries.recurrence_rates(reader(), filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def recurrence_places(filters: Filters) -> pd.DataFrame:
    return pd.DataFrame(queries.recurrence_places(reader(), filters).drop(columns="geometry"))


@st.cache_data(ttl=TTL, show_spinner=False)
def estimate_calibration(filters: Filters) -> pd.DataFrame:
    return queries.estimate_calibration(reader(), filters)

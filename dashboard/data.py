"""The dashboard's only door to the data: cached calls into the query layer.

Every cached function takes every value that scopes access (city, and the
user's department where it matters, inside :class:`Filters`) as an argument,
because ``st.cache_data`` is shared by all sessions.  Writes are never cached:
pages call the domain API (``sesizari.incidents``, ``sesizari.workspace``).
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from sesizari import db, queries
from sesizari.queries import Filters
from sesizari.settings import load_settings

TTL = 60


@st.cache_resource
def engine():
    """One engine per process (the pool is shared by sessions)."""
    return db.get_engine()


@st.cache_resource
def settings():
    return load_settings()


@st.cache_data(ttl=TTL, show_spinner=False)
def cities() -> pd.DataFrame:
    return queries.cities(engine())


@st.cache_data(ttl=TTL, show_spinner=False)
def hexagons(filters: Filters, size_m: int) -> pd.DataFrame:
    return pd.DataFrame(queries.hexagons(engine(), filters, size_m).drop(columns="geometry"))


@st.cache_data(ttl=TTL, show_spinner=False)
def view(city: str) -> dict[str, float]:
    return queries.city_view(engine(), city)


@st.cache_data(ttl=3600, show_spinner=False)
def outline(city: str) -> dict:
    """City boundary and districts as one FeatureCollection with ``properties.kind``."""
    boundary = json.loads(queries.city_boundary(engine(), city).to_json(drop_id=True))
    districts = queries.districts_geojson(engine(), city)
    features = [
        {**f, "properties": {"kind": "boundary", "name": city}} for f in boundary["features"]
    ] + [
        {**f, "properties": {**f["properties"], "kind": "district"}} for f in districts["features"]
    ]
    return {"type": "FeatureCollection", "features": features}


@st.cache_data(ttl=TTL, show_spinner=False)
def choices(city: str) -> dict[str, pd.DataFrame]:
    """Active categories and departments for form selectors."""
    cats = queries.categories(engine(), city)
    deps = queries.departments(engine(), city)
    return {"categories": cats[cats["active"]], "departments": deps[deps["active"]]}

"""The dashboard's only door to the data: cached calls into the query layer.

Every cached function takes every value that scopes access (city, and later
role and department) as an argument, because ``st.cache_data`` is shared by
all sessions.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sesizari import db, mapdata

TTL = 60


@st.cache_resource
def engine():
    """One engine per process (the pool is shared by sessions)."""
    return db.get_engine()


@st.cache_data(ttl=TTL, show_spinner=False)
def cities() -> pd.DataFrame:
    return mapdata.city_options(engine())


@st.cache_data(ttl=TTL, show_spinner=False)
def hexagons(city: str, size_m: int) -> pd.DataFrame:
    return mapdata.incident_hexagons(engine(), city, size_m)


@st.cache_data(ttl=TTL, show_spinner=False)
def view(city: str) -> dict[str, float]:
    return mapdata.city_view(engine(), city)

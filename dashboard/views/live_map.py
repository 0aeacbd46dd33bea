"""Live map page: a city's incidents as server-side hexagons."""

from __future__ import annotations

import streamlit as st

from dashboard import data, maps
from dashboard.i18n import t

cities = data.cities()
if cities.empty:
    st.info(t("city.none"))
    st.stop()

lang = st.session_state.get("lang", "ro")
names = dict(zip(cities["slug"], cities[f"name_{lang}"], strict=True))
slugs = list(names)
wanted = st.query_params.get("city", slugs[0])
city = st.sidebar.selectbox(
    t("city.label"), slugs, index=slugs.index(wanted) if wanted in slugs else 0,
    format_func=names.get, key="city",
)  # fmt: skip
st.query_params["city"] = city
size = st.sidebar.select_slider(t("map.hex_size"), options=[100, 150, 250, 400, 600], value=250)

st.subheader(t("map.title", city=names[city]))
hexes = data.hexagons(city, size)
c1, c2 = st.columns(2)
c1.metric(t("map.total"), f"{int(hexes['incidents'].sum()):,}".replace(",", "."))
c2.metric(t("map.cells"), len(hexes))
st.pydeck_chart(
    maps.hexagon_deck(hexes, data.view(city), t("map.tooltip", incidents="{incidents}"))
)
st.caption(t("map.caption", size=size) + " " + t("map.offline"))

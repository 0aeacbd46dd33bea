"""Live map page: a city's incidents as server-side hexagons."""

from __future__ import annotations

import streamlit as st

from dashboard import data, maps, widgets
from dashboard.i18n import t
from sesizari.queries import Filters

city = widgets.city_selector()
if city is None:
    st.stop()
names = dict(zip(data.cities()["slug"], data.cities()[widgets.name_column()], strict=True))
size = st.sidebar.select_slider(t("map.hex_size"), options=[100, 150, 250, 400, 600], value=250)

st.subheader(t("map.title", city=names[city]))
hexes = data.hexagons(Filters(city), size)
c1, c2 = st.columns(2)
c1.metric(t("map.total"), f"{int(hexes['n'].sum()):,}".replace(",", "."))
c2.metric(t("map.cells"), len(hexes))
tooltip = t("map.tooltip", incidents="{n}")
st.pydeck_chart(maps.hexagon_deck(hexes, data.view(city), tooltip))
st.caption(t("map.caption", size=size) + " " + t("map.offline"))

"""Public page: the open-data map and downloads (no personal data, ever)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from dashboard import data, filters, maps, widgets
from dashboard.i18n import current_language, t, t_md
from sesizari import opendata

city = widgets.city_selector()
if city is None:
    st.stop()
chosen = replace(filters.sidebar_filters(city), departments=(), department=None)
lang = current_language()
st.subheader(t_md("open.title", city=widgets.city_name(city)))
n = data.count(chosen)
limit = data.settings().points_limit
st.caption(t_md("open.count", count=widgets.count(n)))

layers = [maps.district_layer(data.outline(city))]
if n <= limit:
    rows = data.public_incidents(chosen)
    points = pd.DataFrame({"lon": rows.geometry.x, "lat": rows.geometry.y})
    tips = [
        f"{r.registry_number} · {getattr(r, f'category_name_{lang}')} · "
        f"{widgets.label('status', r.status)}"
        for r in rows.itertuples()
    ]
    layers.append(maps.point_layer(points, tips, [False] * len(points)))
else:
    st.info(t_md("open.aggregated", limit=limit))
    layers.append(maps.hexagon_layer(data.hexagons(chosen, 250), t("tooltip.hex")))
st.pydeck_chart(maps.deck(layers, data.view(city), {"text": "{tip}"}), height=520)
st.caption(t_md("open.sensitive", m=f"{data.public_precision(city):g}"))

st.markdown(f"**{t('open.download')}**")
c1, c2, c3 = st.columns(3)
stem = f"sesizari-{city}-{chosen.start}-{chosen.end}"
c1.download_button(
    "GeoJSON",
    lambda: opendata.to_geojson(data.public_incidents(chosen)),
    f"{stem}.geojson",
    "application/geo+json",
    key="dl_geojson",
)
c2.download_button(
    "CSV",
    lambda: opendata.to_csv(data.public_incidents(chosen)),
    f"{stem}.csv",
    "text/csv",
    key="dl_csv",
)
c3.download_button(
    "GeoParquet",
    lambda: opendata.to_geoparquet(data.public_incidents(chosen)),
    f"{stem}.parquet",
    "application/vnd.apache.parquet",
    key="dl_parquet",
)

st.markdown(f"**{t('open.dictionary')}**")
widgets.grid(
    pd.DataFrame(
        {
            t("col.column"): list(opendata.DATA_DICTIONARY),
            t("col.meaning"): [d[lang] for d in opendata.DATA_DICTIONARY.values()],
        }
    )
)
st.markdown(f"**{t('open.licence')}**")
# The files carry opendata.LICENCE (English, for any reader); the page says it
# in its own language and names the city to cite.
st.markdown(t_md("open.licence_text", city=widgets.city_name(city)))

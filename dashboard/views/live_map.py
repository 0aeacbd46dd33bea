"""Live map: KPIs and the incident map with switchable layers, refreshed in place."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard import data, filters, maps, widgets
from dashboard.i18n import current_language, t, t_md

city = widgets.city_selector()
if city is None:
    st.stop()
chosen = filters.sidebar_filters(city)
user = st.session_state.get("user")
lang = current_language()
cat_names = widgets.category_names(city)

st.subheader(t_md("live.title", city=widgets.city_name(city)))
layers = ["hexagons", "clusters", "hotspots", "points"]
c1, c2, c3 = st.columns([2, 1, 1])
layer = c1.radio(
    t("layer.label"),
    layers,
    horizontal=True,
    key="layer",
    index=layers.index(st.query_params.get("layer", "hexagons"))
    if st.query_params.get("layer") in layers
    else 0,
    format_func=lambda x: t(f"layer.{x}"),
)
st.query_params["layer"] = layer
show_districts = c2.toggle(t("layer.districts"), value=True, key="show_districts")
paused = c3.toggle(t("refresh.pause"), value=False, key="refresh_paused")
every = st.sidebar.number_input(
    t("refresh.every"),
    min_value=10,
    max_value=3600,
    value=data.settings().refresh_seconds,
    step=10,
    key="refresh_every",
)
size = 250
eps, min_points = data.CLUSTER_EPS_M, 5
if layer == "clusters":
    k1, k2 = st.columns(2)
    eps = k1.slider(t("layer.eps"), 20, 300, data.CLUSTER_EPS_M, step=10, key="eps")
    min_points = k2.slider(t("layer.min_points"), 3, 50, 5, key="min_points")


@st.fragment(run_every=None if paused else int(every))
def live() -> None:
    """KPIs and map, re-run on a timer without reloading the page (pan/zoom survive)."""
    now = datetime.now(UTC)
    previous = st.session_state.get("last_refresh")
    # The tiles, the chosen layer and the count at once, then read from the cache.
    layer_call = {
        "hexagons": (data.hexagons, (chosen, size)),
        "clusters": (data.clusters, (chosen, eps, min_points)),
        "hotspots": (data.hotspots, (chosen, size)),
    }.get(layer, (data.points, (chosen, data.settings().points_limit, user is not None)))
    data.prefetch(layer_call, (data.kpis, (chosen,)), (data.count, (chosen,)))
    kpis = data.kpis(chosen)
    cols = st.columns(len(kpis))
    for col, (metric, row) in zip(cols, kpis.iterrows(), strict=True):
        value, delta = row["value"], row["change"]
        shown = "—" if value is None or value != value else widgets.number(value)
        if delta is None or delta != delta:
            change = {"delta": None}
        elif round(delta) == 0:  # unchanged: neither an arrow nor a colour
            change = {"delta": "0", "delta_color": "off", "delta_arrow": "off"}
        else:  # every tile counts something that is better lower
            change = {"delta": widgets.number(delta, signed=True), "delta_color": "inverse"}
        col.metric(
            t(f"kpi.{metric}"),
            shown,
            help=t_md("kpi.help", previous=row["previous_is"]),
            **change,
        )

    map_layers = []
    tooltip = {"text": "{tip}"}
    if layer == "hexagons":
        hexes = data.hexagons(chosen, size)
        map_layers.append(maps.hexagon_layer(hexes, t("tooltip.hex")))
    elif layer == "clusters":
        found = data.clusters(chosen, eps, min_points)
        map_layers += [
            maps.cluster_layer(found, cat_names, t("tooltip.cluster")),
            maps.cluster_label_layer(found),
        ]
    elif layer == "hotspots":
        cells = data.hotspots(chosen, size)
        labels = {
            c: c.replace("hot", t("gi.hot")).replace("cold", t("gi.cold")) for c in maps.GI_COLORS
        }
        map_layers.append(maps.gi_layer(cells, labels, t("tooltip.gi")))
        st.caption(t("layer.legend_gi"))
    else:
        limit = data.settings().points_limit
        staff = user is not None
        pts = data.points(chosen, limit, staff)
        if pts is None:
            st.warning(t_md("layer.too_many", count=widgets.count(data.count(chosen)),
                            limit=widgets.number(limit)))  # fmt: skip
        else:
            since = previous or now
            fresh = [
                bool(a * 86400 < (now - since).total_seconds() + 1) and previous is not None
                for a in pts["age_days"]
            ]
            tips = [
                t(
                    "tooltip.point",
                    registry_number=r.registry_number,
                    category=getattr(r, f"category_{lang}"),
                    status_label=widgets.label("status", r.status),
                    age=widgets.duration(r.age_days * 24),
                )
                for r in pts.itertuples()
            ]
            map_layers.append(maps.point_layer(pts, tips, fresh))
    if show_districts:
        map_layers.insert(0, maps.district_layer(data.outline(city)))
    st.pydeck_chart(maps.deck(map_layers, data.view(city), tooltip), height=560)
    new = 0
    if previous is not None:
        new = int(data.count(chosen) - st.session_state.get("last_count", 0))
    st.session_state["last_count"] = data.count(chosen)
    st.session_state["last_refresh"] = now
    local = now.astimezone(data.zone(city)).strftime("%H:%M:%S")  # the city's clock
    st.caption(t_md("refresh.last", time=local, new=max(new, 0)))
    if layer == "clusters" and data.count(chosen) > data.EXACT_CLUSTER_LIMIT:
        limit = widgets.number(data.EXACT_CLUSTER_LIMIT)
        st.caption(t_md("layer.clusters_grid", side=f"{eps / 2**0.5:.0f}", limit=limit))
    if layer == "clusters" and len(found):
        table = found[["cluster", "n", "n_open", "dominant_category", "dominant_district"]].copy()
        table["dominant_category"] = table["dominant_category"].map(cat_names)
        table = widgets.headers(table)
        st.markdown(f"**{t('layer.clusters_table')}**")
        widgets.table(table, "clusters")


live()

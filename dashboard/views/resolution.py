"""Resolution times: by category, department and district, trends, targets, backlog."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, filters, maps, widgets
from dashboard.i18n import current_language, t, t_md
from sesizari import queries

city = widgets.city_selector()
if city is None:
    st.stop()
chosen = filters.sidebar_filters(city)
lang = current_language()
st.subheader(t("res.title"))


def table(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    """The ``columns`` of ``frame`` with translated headers, and their CSV download."""
    widgets.table(widgets.headers(frame[columns]), name)


by = st.radio(
    t("res.by"),
    ["category", "department", "district"],
    horizontal=True,
    key="res_by",
    format_func=lambda b: t(f"res.by.{b}"),
)
# All of the page's figures at once (longest first), then read from the cache.
data.prefetch(
    (data.resolution_stats, (chosen, by)),
    (data.weekly_trend, (chosen,)),
    (data.district_medians, (chosen,)),
    (data.share_within_target, (chosen, by)),
    (data.resolution_distribution, (chosen,)),
    (data.backlog_ageing, (chosen,)),
)
stats = data.resolution_stats(chosen, by)
stats["name"] = stats[f"name_{lang}"].fillna(stats["key"])
stats = widgets.in_name_order(stats, "name")
st.markdown(f"**{t_md('res.table', by=t(f'res.by.{by}'))}**")
table(
    stats.round(1),
    [
        "name",
        "n",
        "ack_median_h",
        "ack_p90_h",
        "ack_mean_h",
        "n_resolved",
        "resolve_median_h",
        "resolve_p90_h",
        "resolve_mean_h",
    ],
    f"resolution_{by}",
)

widgets.sampled_note(stats)

within = data.share_within_target(chosen, by)
within["name"] = within[f"name_{lang}"].fillna(within["key"])
within = widgets.in_name_order(within, "name")
within["share_within"] = (within["share_within"] * 100).round(1)
st.markdown(f"**{t_md('res.within', by=t(f'res.by.{by}'))}**")
shares = charts.horizontal_bars(
    within, "name", ["share_within"], t("col.name"), t("col.share_within")
)
widgets.chart(shares)
table(within, ["name", "n_resolved", "share_within"], f"within_target_{by}")

left, right = st.columns(2)
trend = data.weekly_trend(chosen)
with left:
    st.markdown(f"**{t('res.trend')}**")
    widgets.chart(charts.lines(trend, "week", ["resolve_median_h"], t("col.week"),
                               t("col.hours")))  # fmt: skip
with right:
    st.markdown(f"**{t('res.trend_counts')}**")
    counts = trend.rename(columns={"received": t("col.received"), "resolved": t("col.resolved")})
    widgets.chart(charts.lines(counts, "week", [t("col.received"), t("col.resolved")],
                               t("col.week"), t("col.incidents")))  # fmt: skip
partial = queries.partial_weeks(trend, chosen)
if partial:
    st.caption(t_md("res.partial_weeks", weeks=", ".join(widgets.day(w) for w in partial)))

dist = data.resolution_distribution(chosen)
st.markdown(f"**{t('res.distribution')}**")
widgets.chart(charts.columns(dist, "label", "n", t("col.bin"), t("col.incidents")))

backlog = data.backlog_ageing(chosen)
backlog["department"] = backlog[f"department_{lang}"]
st.markdown(f"**{t('res.backlog')}**")
buckets = ["lt_1d", "d1_3", "d3_7", "d7_30", "gt_30d"]
shown = widgets.headers(backlog[["department", *buckets, "total"]])
ageing = charts.horizontal_bars(
    shown, t("col.department"), [t(f"col.{b}") for b in buckets],
    t("col.department"), t("col.incidents"),
)  # fmt: skip
widgets.chart(ageing)
widgets.table(shown, "backlog")

st.markdown(f"**{t('res.choropleth')}**")
medians = data.district_medians(chosen)
st.pydeck_chart(
    maps.deck([maps.choropleth_layer(medians)], data.view(city), {"text": "{tip}"}), height=420
)
widgets.sampled_note(medians)

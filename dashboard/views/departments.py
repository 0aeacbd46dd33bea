"""Department performance: one comparable table, then one department in depth."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import streamlit as st

from dashboard import data, filters, maps, widgets
from dashboard.i18n import current_language, t, t_md

city = widgets.city_selector()
if city is None:
    st.stop()
chosen = filters.sidebar_filters(city)
lang = current_language()
user = st.session_state.get("user")


def drilled(codes: list[str]) -> str:
    """The department to drill into: the one picked, linked, the user's own, or the first."""
    own = user.department if user is not None and user.department in codes else None
    for wanted in (st.session_state.get("dep_pick"), st.query_params.get("department"), own):
        if wanted in codes:
            return wanted
    return codes[0]


# The scorecard lists every department the filters allow, in code order, so
# the drilled department is known before it runs: all four queries of the
# page at once, then read from the cache.
allowed = [
    c
    for c in data.department_codes(city)
    if (not chosen.departments or c in chosen.departments)
    and (chosen.department is None or c == chosen.department)
]
if allowed:
    ahead = drilled(allowed)
    data.prefetch(
        (data.department_performance, (chosen,)),
        (data.resolution_stats, (replace(chosen, departments=(ahead,)), "category")),
        (data.hexagons, (replace(chosen, departments=(ahead,)), 250)),
        (data.department_overdue, (chosen, ahead)),
    )
perf = data.department_performance(chosen)
start = widgets.day(perf["period_start"].iloc[0]) if len(perf) else ""
# The period ends before ``period_end`` (exclusive): the title names the
# last day it includes, the day the sidebar's range ends on.
end = widgets.day(perf["period_end"].iloc[0] - timedelta(days=1)) if len(perf) else ""
st.subheader(t_md("dep.title", start=start, end=end))
perf["department"] = perf[f"department_{lang}"]
perf["resolution_rate"] = (perf["resolution_rate"] * 100).round(1)
# The rank's own figure beside it: it would otherwise sit past the table's
# right edge, and "1" would read as "most resolved".
columns = [
    "rank",
    "department",
    "within_target_pct",
    "received",
    "resolved",
    "open",
    "resolution_rate",
    "ack_median_h",
    "ack_p90_h",
    "resolve_median_h",
    "resolve_p90_h",
    "received_change",
    "resolve_median_change_h",
    "within_target_change_pct",
]
widgets.table(widgets.headers(perf.sort_values("rank")[columns].round(1)), "departments")
st.caption(t("dep.rank"))
widgets.sampled_note(perf)

st.markdown(f"**{t('dep.drill')}**")
codes = list(perf["department_code"])
if not codes:
    st.stop()
if chosen.department:  # a department head or staff member sees only their department
    codes = [chosen.department]
names = dict(zip(perf["department_code"], perf["department"], strict=True))
department = st.selectbox(
    t("col.department"),
    codes,
    format_func=names.get,
    key="dep_pick",
    index=codes.index(drilled(codes)),
)
st.query_params["department"] = department
scoped = replace(chosen, departments=(department,))

left, right = st.columns(2)
with left:
    st.markdown(f"**{t('dep.categories')}**")
    cats = data.resolution_stats(scoped, "category")
    cats["name"] = cats[f"name_{lang}"]
    cats = widgets.in_name_order(cats, "name")
    view = cats[["name", "n", "n_resolved", "resolve_median_h", "resolve_p90_h"]].round(1)
    widgets.table(widgets.headers(view), "department_categories")
    widgets.sampled_note(cats)
with right:
    st.markdown(f"**{t('dep.map')}**")
    hexes = data.hexagons(scoped, 250)
    st.pydeck_chart(
        maps.deck(
            [maps.hexagon_layer(hexes, t("tooltip.hex"))], data.view(city), {"text": "{tip}"}
        ),
        height=360,
    )

st.markdown(f"**{t('dep.overdue')}**")
overdue = data.department_overdue(chosen, department)
overdue["category"] = overdue[f"category_{lang}"]
overdue["status"] = overdue["status"].map(lambda s: widgets.label("status", s))
# Ages in days, as on the work queue ("170 days", not "4,077 h"); the target
# in hours, as categories set it.
overdue["age_days"] = overdue["age_h"] / 24
overdue["overdue_days"] = overdue["overdue_h"] / 24
cols = [
    "registry_number",
    "category",
    "status",
    "district",
    "created_at",
    "age_days",
    "target_hours",
    "overdue_days",
]
table = overdue[cols].round({"age_days": 1, "target_hours": 1, "overdue_days": 1})
widgets.table(widgets.headers(table), "overdue", data.zone(chosen.city))

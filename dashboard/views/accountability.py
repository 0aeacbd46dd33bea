"""Accountability: legal terms, verified resolution, recurring problems, estimate calibration.

"Closed" is not "fixed": this page keeps apart what staff closed, what the
reporters confirmed or disputed and what nobody verified, so a resolution rate
cannot be inflated by ticking boxes.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, filters, maps, widgets
from dashboard.i18n import t, t_md
from sesizari import accountability
from sesizari.errors import SesizariError
from sesizari.vocab import Role

city = widgets.city_selector()
if city is None:
    st.stop()
chosen = filters.sidebar_filters(city)
st.subheader(t("acc.title"))
dep_names = widgets.department_names(city)
cat_names = widgets.category_names(city)


def show(frame: pd.DataFrame, name: str) -> None:
    """A table with its CSV download: codes replaced by names and headers
    translated into the chosen language, shares as percentages."""
    shown = frame.copy()
    if "department" in shown:
        shown["department"] = shown["department"].map(lambda c: dep_names.get(c, c))
    if "category" in shown:
        shown["category"] = shown["category"].map(lambda c: cat_names.get(c, c))
    shown = shown.drop(columns=[c for c in shown if c.endswith(("_ro", "_en"))])
    shown = widgets.in_name_order(shown, *[c for c in ("department", "category") if c in shown])
    for column in shown:
        if "share" in column or column.endswith("_rate"):
            shown[column] = (100 * shown[column]).round(1)
    shown = widgets.headers(shown)
    widgets.table(shown, name)


st.markdown(f"**{t('acc.legal')}**")
show(data.legal_deadlines(chosen), "legal_terms")
st.markdown(f"**{t('acc.verification')}**")
show(data.verification_breakdown(chosen), "verification")
st.markdown(f"**{t('acc.recurrence')}**")
show(data.recurrence_rates(chosen), "recurrence")
st.markdown(f"**{t('acc.recurrence_map')}**")
places = data.recurrence_places(chosen)
layers = [maps.district_layer(data.outline(city))]
if len(places):
    tips = [f"{r.recurrences}" for r in places.itertuples()]
    layers.append(
        maps.point_layer(places[["lon", "lat"]], tips, [r >= 2 for r in places["recurrences"]])
    )
st.pydeck_chart(maps.deck(layers, data.view(city), {"text": "{tip}"}), height=420)
st.markdown(f"**{t('acc.calibration')}**")
show(data.estimate_calibration(chosen), "calibration")

user = st.session_state.get("user")
if user is not None and user.role in (Role.MANAGER, Role.ADMIN) and user.city == city:
    st.markdown(f"**{t('acc.sample')}**")
    with st.form("sample_form"):
        share = st.slider(t("acc.share"), 1, 20, 5, format="%d%%", key="sample_share")
        if st.form_submit_button(t("acc.draw")):
            try:
                sample = accountability.draw_sample(data.engine(), user, share / 100)
                st.session_state["drawn_sample"] = sample
            except SesizariError as exc:
                widgets.show_error(exc)
    sample = st.session_state.get("drawn_sample")
    if sample is not None:
        st.caption(
            t_md(
                "acc.drawn",
                id=sample.sample_id,
                n=len(sample.numbers),
                count=widgets.count(sample.population),
            )
        )
        with st.form("check"):
            number = st.selectbox(t("col.registry_number"), sample.numbers, key="check_number")
            outcome = st.radio(
                t("acc.outcome"),
                ["fixed", "not_fixed"],
                horizontal=True,
                format_func=lambda o: t(f"acc.{o}"),
                key="check_outcome",
            )
            notes = st.text_input(t("incident.note"), key="check_notes")
            if st.form_submit_button(t("acc.record")):
                try:
                    accountability.record_check(
                        data.engine(), user, sample.sample_id, number, outcome, notes or None
                    )
                    st.success(t("admin.saved"))
                except SesizariError as exc:
                    widgets.show_error(exc)

"""Staff page: the dispatcher desk, for reports received by phone, e-mail or at the counter."""

from __future__ import annotations

import streamlit as st

from dashboard import data, widgets
from dashboard.i18n import t, t_md
from sesizari import workspace
from sesizari.errors import SesizariError
from sesizari.incidents import Contact, NewIncident, create_incident

user = st.session_state["user"]
city = user.city
st.subheader(t("dispatch.title"))
if st.session_state.get("dispatch_done"):
    number, department = st.session_state["dispatch_done"]
    department = widgets.department_names(city).get(department, department)
    st.success(t_md("report.done", number=number, department=department))
# The caller's place, not the dispatcher's: no "use my location" here.
point = widgets.pick_point(city, key="dispatch", locate=False)
cats = data.choices(city)["categories"]
names = dict(zip(cats["code"], cats[widgets.name_column()], strict=True))
with st.form("dispatch_form"):
    channel = st.radio(
        t("dispatch.channel"),
        ["phone", "email", "counter"],
        horizontal=True,
        format_func=lambda c: t(f"channel.{c}"),
        key="dispatch_channel",
    )
    category = st.selectbox(
        t("report.category"), list(names), index=None, format_func=names.get,
        placeholder=t("report.choose_category"), key="dispatch_category",
    )  # fmt: skip
    description = st.text_area(t("report.description"), max_chars=5000, key="dispatch_text")
    address = st.text_input(t("report.address"), max_chars=500, key="dispatch_address")
    c1, c2, c3 = st.columns(3)
    name = c1.text_input(t("report.name"), max_chars=200, key="dispatch_name")
    phone = c2.text_input(t("report.phone"), max_chars=40, key="dispatch_phone")
    email = c3.text_input(t("report.email"), max_chars=254, key="dispatch_email")
    consent = st.checkbox(t("dispatch.consent"), key="dispatch_consent")
    submitted = st.form_submit_button(t("report.submit"), type="primary")
if submitted:
    if point is None:
        st.error(t("report.no_point"))
        st.stop()
    if category is None:
        st.error(t("report.no_category"))
        st.stop()
    try:
        created = create_incident(
            data.engine(),
            NewIncident(
                city=city,
                category=category,
                latitude=point[0],
                longitude=point[1],
                description=description,
                address=address or None,
                channel=channel,
                contact=Contact(name or None, phone or None, email or None, consent),
            ),
            workspace.actor(user),
        )
    except SesizariError as exc:
        widgets.show_error(exc)
        st.stop()
    st.session_state["dispatch_done"] = (created.registry_number, created.department_code)
    st.session_state.pop("dispatch_point", None)
    st.rerun()

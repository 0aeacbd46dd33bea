"""Public page: report a problem (no login)."""

from __future__ import annotations

import streamlit as st

from dashboard import data, widgets
from dashboard.i18n import current_language, t, t_md
from sesizari import intake
from sesizari.errors import SesizariError
from sesizari.incidents import Contact, NewIncident, create_incident

st.subheader(t("report.title"))
city = widgets.city_selector(sidebar=False)
if city is None:
    st.stop()

done = st.session_state.get("report_done")
if done:
    st.success(t_md("report.done", number=done["number"], department=done["department"]))
    link = widgets.md_link(done["number"], "track", id=done["number"])
    st.markdown(t("report.track_link", link=link))
    if done.get("p50"):
        st.info(
            t_md(
                "report.expected",
                p50=widgets.duration(done["p50"]),
                p80=widgets.duration(done["p80"]),
            )
        )
    if done.get("pin"):
        st.warning(t_md("report.pin", pin=done["pin"]))
    for key, values in done.get("warnings", []):
        st.warning(t_md(key, **values))

st.markdown(f"**{t('report.where')}**")
if st.session_state.pop("report_photo_place", False):
    st.info(t("report.photo_place"))
point = widgets.pick_point(city, key="report")

st.markdown(f"**{t('report.what')}**")
category = widgets.category_picker(city, key="category")

if point is not None and category is not None:
    nearby = intake.nearby_open(data.engine(), city, category, point[1], point[0])
    if done:  # the report just filed here is not a report to support
        nearby = nearby[nearby["registry_number"] != done["number"]]
    widgets.nearby_reports(
        nearby, "report.nearby", "report.support", "report.supported",
        lambda number: intake.add_support(data.engine(), city, number),
    )  # fmt: skip

st.markdown(f"**{t('report.details')}**")
with st.form("report_form", clear_on_submit=False):
    description = st.text_area(t("report.description"), max_chars=2000, key="description")
    address = st.text_input(t("report.address"), max_chars=300, key="address")
    photos = widgets.uploader(
        "report.photos", ["jpg", "jpeg", "png", "webp"], multiple=True, key="photos"
    )
    st.markdown(f"*{t('report.contact')}*")
    c1, c2, c3 = st.columns(3)
    name = c1.text_input(t("report.name"), max_chars=200, key="name")
    phone = c2.text_input(t("report.phone"), max_chars=40, key="phone")
    email = c3.text_input(
        t("report.email"), max_chars=254, key="email", help=t("report.email_help")
    )
    consent = st.checkbox(t("report.consent"), key="consent")
    want_pin = st.checkbox(t("report.want_pin"), value=True, key="want_pin")
    with st.container(key="hp"):  # hidden by CSS: only robots fill it in
        honeypot = st.text_input(t("report.honeypot"), key="website")
    submitted = st.form_submit_button(t("report.submit"), type="primary")
st.html("<style>.st-key-hp {display: none;}</style>")

if submitted:
    if point is None:
        # The picture may say where: put it on the map for the citizen to check.
        place = intake.photo_place(data.engine(), city, [p.getvalue() for p in photos or []])
        if place is not None:
            widgets.propose_point("report", place)
            st.session_state["report_photo_place"] = True
            st.rerun()
        st.error(t("report.no_point"))
        st.stop()
    if category is None:
        st.error(t("report.no_category"))
        st.stop()
    if honeypot:
        st.session_state["report_done"] = {"number": "—", "department": "—"}
        st.stop()  # robots get no number and store nothing
    client = widgets.client_key()
    try:
        intake.check_rate(data.engine(), city, client)
        created = create_incident(
            data.engine(),
            NewIncident(
                city=city,
                category=category,
                latitude=point[0],
                longitude=point[1],
                description=description,
                address=address or None,
                channel="web",
                contact=Contact(name or None, phone or None, email or None, consent,
                                lang=current_language()),
                want_pin=want_pin,
            ),
        )
    except SesizariError as exc:
        widgets.show_error(exc)
        st.stop()
    warnings = widgets.attach_photos(
        photos,
        lambda image: intake.attach_report_photo(
            data.engine(), city, created.registry_number, image
        ),
    )
    dep_names = widgets.department_names(city)
    st.session_state["report_done"] = {
        "number": created.registry_number,
        "department": dep_names.get(created.department_code, created.department_code),
        "warnings": warnings,
        "p50": created.expected_hours_p50,
        "p80": created.expected_hours_p80,
        "pin": created.pin,
    }
    # A blank form for the next report (a shared screen at the city hall's
    # counter would otherwise offer this citizen's name and phone to the
    # next).  The place stays: a second problem is often at the same corner,
    # and the list of reports nearby leaves out the one just filed.
    for key in ("category", "description", "address", "photos", "name", "phone", "email",
                "consent"):  # fmt: skip
        st.session_state.pop(key, None)
    st.rerun()

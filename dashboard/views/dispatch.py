"""Staff page: the dispatcher desk, for reports received by phone, e-mail or at the counter."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from dashboard.i18n import t, t_md
from sesizari import inbox, intake, workspace
from sesizari.errors import SesizariError
from sesizari.incidents import Contact, NewIncident, create_incident

user = st.session_state["user"]
city = user.city
st.subheader(t("dispatch.title"))
# Said once: the next caller's first click takes it away, so an old number
# is not read out with the next call's.
if done := st.session_state.pop("dispatch_done", None):
    department = widgets.department_names(city).get(done["department"], done["department"])
    st.success(t_md("report.done", number=done["number"], department=department))
    for key, values in done["warnings"]:
        st.warning(t_md(key, **values))
# E-mails from the city's mailbox wait here (sesizari.inbox); taking one
# fills the form below, and filing it makes the report.
taken = st.session_state.get("dispatch_message")


def _take(row: dict) -> None:
    # Where the e-mailed picture was taken (inside the city): proposed, to check.
    placed = pd.notna(row.get("photo_lat")) and pd.notna(row.get("photo_lon"))
    if placed:
        widgets.propose_point("dispatch", (float(row["photo_lat"]), float(row["photo_lon"])))
    st.session_state.update({
        "dispatch_message": {"id": row["message_id"], "subject": row["subject"],
                             "photos": row["photos"], "placed": placed},
        "dispatch_channel": "email", "dispatch_text": row["body"],
        "dispatch_name": row["sender_name"] or "", "dispatch_email": row["sender_email"] or "",
        # They wrote to the city hall, to be answered: the box is ticked, to untick.
        "dispatch_consent": bool(row["sender_email"]),
    })  # fmt: skip


def _release() -> None:
    st.session_state.pop("dispatch_message", None)
    for key in ("dispatch_text", "dispatch_name", "dispatch_email", "dispatch_consent"):
        st.session_state.pop(key, None)


def _discard(message_id: int) -> None:
    try:
        inbox.discard(data.engine(), city, message_id, workspace.actor(user))
    except SesizariError as exc:
        st.session_state["inbox_error"] = exc
        return
    if (st.session_state.get("dispatch_message") or {}).get("id") == message_id:
        _release()
    widgets.flash("inbox.discarded")


waiting = inbox.pending(data.engine(), city)
with st.expander(t_md("inbox.title", n=len(waiting)), expanded=not waiting.empty and not taken):
    widgets.show_flash()
    if error := st.session_state.pop("inbox_error", None):
        widgets.show_error(error)
    shown = waiting[["received_at", "sender_name", "subject", "photos", "refused"]]
    if widgets.grid(widgets.headers(shown), data.zone(city)):
        rows = {int(r["message_id"]): r for r in waiting.to_dict("records")}
        pick = st.selectbox(
            t("inbox.pick"), list(rows), key="inbox_pick",
            format_func=lambda m: f"{widgets.local_time(rows[m]['received_at'], data.zone(city))}"
            f" · {rows[m]['subject'] or '—'}",
        )  # fmt: skip
        row = rows[pick]
        st.text(row["body"])  # plain text: the sender's words are never markup here
        if row["photos"]:  # already checked and re-encoded at import: no EXIF, no GPS
            st.image(inbox.photos_of(data.engine(), city, pick), width=160)
        if row["refused"]:
            st.caption(t_md("inbox.refused", n=row["refused"]))
        if pd.notna(row.get("photo_lat")):
            st.caption(t("inbox.has_place"))
        c1, c2 = st.columns(2)
        c1.button(t("inbox.take"), on_click=_take, args=(row,), type="primary")
        c2.button(t("inbox.discard"), on_click=_discard, args=(pick,))
    else:
        st.caption(t("inbox.empty"))
if taken:
    st.info(t_md("inbox.taken", subject=taken["subject"] or "—", photos=taken["photos"]))
    if taken.get("placed"):
        st.caption(t("inbox.placed"))
    st.button(t("inbox.release"), on_click=_release)
channel = st.radio(
    t("dispatch.channel"),
    ["phone", "email", "counter"],
    horizontal=True,
    format_func=lambda c: t(f"channel.{c}"),
    key="dispatch_channel",
)
# The caller's place, not the dispatcher's: no "use my location" here.
point = widgets.pick_point(city, key="dispatch", locate=False)
# Outside the form: the reports already open nearby follow the category.
category = widgets.category_picker(city, key="dispatch_category")
if point is not None and category is not None:
    # A second call about the same pothole is one more voice on its report,
    # not a second report for the department to close.
    widgets.nearby_reports(
        intake.nearby_open(data.engine(), city, category, point[1], point[0]),
        "dispatch.nearby", "dispatch.add_to", "dispatch.added",
        lambda number: intake.add_support(data.engine(), city, number, channel),
    )  # fmt: skip
with st.form("dispatch_form"):
    description = st.text_area(t("report.description"), max_chars=5000, key="dispatch_text")
    address = st.text_input(t("report.address"), max_chars=500, key="dispatch_address")
    # An e-mail's attachments, a picture the caller shows at the counter.
    photos = widgets.uploader(
        "report.photos", ["jpg", "jpeg", "png", "webp"], multiple=True, key="dispatch_photos"
    )
    c1, c2, c3 = st.columns(3)
    name = c1.text_input(t("report.name"), max_chars=200, key="dispatch_name")
    phone = c2.text_input(t("report.phone"), max_chars=40, key="dispatch_phone")
    email = c3.text_input(
        t("report.email"), max_chars=254, key="dispatch_email", help=t("dispatch.email_help")
    )
    # An e-mail in English gets its replies in English; a call, in the caller's words.
    mail_lang = st.radio(
        t("dispatch.mail_lang"), ["both", "ro", "en"], horizontal=True,
        format_func=lambda x: t(f"mail_lang.{x}"), help=t("dispatch.mail_lang_help"),
        key="dispatch_mail_lang",
    )  # fmt: skip
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
        new = NewIncident(
            city=city,
            category=category,
            latitude=point[0],
            longitude=point[1],
            description=description,
            address=address or None,
            channel=channel,
            contact=Contact(name or None, phone or None, email or None, consent,
                            lang=None if mail_lang == "both" else mail_lang),
        )
        if taken:
            created = inbox.file_message(data.engine(), taken["id"], new, workspace.actor(user))
        else:
            created = create_incident(data.engine(), new, workspace.actor(user))
    except SesizariError as exc:
        widgets.show_error(exc)
        st.stop()
    number = created.registry_number
    st.session_state["dispatch_done"] = {
        "number": number,
        "department": created.department_code,
        "warnings": widgets.attach_photos(
            [*(widgets.Picture(f"e-mail {k}", image) for k, image in enumerate(
                inbox.photos_of(data.engine(), city, taken["id"]) if taken else [], 1)),
             *(photos or [])],
            lambda image: workspace.attach_report_photo(data.engine(), user, number, image),
        ),
    }
    if taken:
        inbox.forget_photos(data.engine(), city, taken["id"])
    # The next caller starts on a blank form: their report must not carry
    # this caller's name, phone or words (the channel stays, as calls come).
    widgets.forget_point("dispatch")
    for key in ("dispatch_category", "dispatch_text", "dispatch_address",
                "dispatch_name", "dispatch_phone", "dispatch_email", "dispatch_consent",
                "dispatch_photos", "dispatch_mail_lang", "dispatch_message"):  # fmt: skip
        st.session_state.pop(key, None)
    st.rerun()

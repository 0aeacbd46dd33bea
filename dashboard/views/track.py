"""Public page: track a report by its registration number (no login)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from dashboard.i18n import current_language, t, t_md
from sesizari import accountability, privacy, tracking
from sesizari import photos as photo_store
from sesizari.errors import SesizariError

st.subheader(t("track.title"))
number = st.text_input(t("track.number"), value=st.query_params.get("id", ""), key="track_id")
if not number:
    st.stop()
st.query_params["id"] = number.strip().upper()
try:
    view = tracking.track(data.engine(), number)
except SesizariError as exc:
    widgets.show_error(exc)
    st.stop()

widgets.show_flash()
# The verdict form belongs to one report: another one opens with no PIN or
# words typed for this one.
if st.session_state.get("verify_of") != view["registry_number"]:
    for key in ("verify_pin", "verify_text", "stop_pin"):
        st.session_state.pop(key, None)
    st.session_state["verify_of"] = view["registry_number"]
lang = current_language()
shown_status = widgets.status_of(view["status"], view["forwarded_to"])
widgets.facts([
    (t("track.status"), shown_status),
    (t("track.category"), view[f"category_{lang}"]),
    (t("track.department"), view[f"department_{lang}"]),
])  # fmt: skip
if view["supporters"]:
    st.caption(t_md("track.supporters", count=widgets.number(view["supporters"])))
zone = ZoneInfo(view["timezone"])


def local(at) -> str:
    """A time as the citizen reads it: in the city's zone, day first."""
    return widgets.local_time(at, zone)


st.caption(t_md("track.created_at", when=local(view["created_at"])))
if view["owes_reply"]:
    st.caption(t_md("track.legal_due_at", when=widgets.last_day(view["legal_due_at"], zone)))
else:
    st.caption(t("track.no_reply"))
if view["forwarded_to"]:
    st.info(
        t_md("track.forwarded", institution=view["forwarded_to"], when=local(view["forwarded_at"]))
    )
if view["expected_hours_p50"]:
    st.caption(
        t_md(
            "track.expected",
            p50=widgets.duration(view["expected_hours_p50"]),
            p80=widgets.duration(view["expected_hours_p80"]),
        )
    )
if view["duplicate_of"]:
    st.info(t_md("track.duplicate", number=view["duplicate_of"]))

st.markdown(f"**{t('track.timeline')}**")
timeline = pd.DataFrame(
    {
        t("col.when"): [local(e["created_at"]) for e in view["timeline"]],
        t("col.what"): [widgets.label("event", e["kind"]) for e in view["timeline"]],
        t("col.text"): [e["text"] or "" for e in view["timeline"]],
    }
)
widgets.grid(timeline)

if view["resolution_text"]:
    st.markdown(f"**{t('track.resolution')}**")
    st.text(view["resolution_text"])  # citizen-visible text is rendered as plain text
fix_photos = [p for p in view["photos"] if p["stage"] == "resolution"]
if fix_photos:
    st.markdown(f"**{t('track.photos')}**")
    cols = st.columns(min(len(fix_photos), 3))
    for i, p in enumerate(fix_photos):
        cols[i % len(cols)].image(str(photo_store.photo_path(p["storage_key"])))

if view["verdict"] is not None:
    st.markdown(f"**{t('track.verify')}**")
    st.caption(t(f"track.verdict_{view['verdict']}"))
elif view["verdict_until"] is not None and not view["verdict_open"]:
    st.markdown(f"**{t('track.verify')}**")
    st.caption(t_md("track.verdict_ended", when=local(view["verdict_until"])))
elif view["verdict_open"]:
    st.markdown(f"**{t('track.verify')}**")
    st.caption(t_md("track.verdict_until", when=local(view["verdict_until"])))
    with st.form("verify"):
        pin = st.text_input(t("track.pin"), max_chars=6, type="password", key="verify_pin")
        text = st.text_area(t("track.dispute_text"), max_chars=2000, key="verify_text")
        c1, c2 = st.columns(2)
        confirm = c1.form_submit_button(t("track.confirm"))
        dispute = c2.form_submit_button(t("track.dispute"))
    try:
        if confirm:
            accountability.confirm_fix(data.engine(), view["registry_number"], pin)
            widgets.flash("track.confirmed")
            st.rerun()  # the timeline and the form follow the verdict
        elif dispute:
            accountability.dispute_fix(data.engine(), view["registry_number"], pin, text)
            widgets.flash("track.disputed")
            st.rerun()
    except SesizariError as exc:
        widgets.show_error(exc)

if view["owes_reply"]:  # a report with contact details: it has a PIN
    with st.expander(t("track.stop_emails")):
        st.caption(t("track.stop_emails_note"))
        with st.form("stop_emails"):
            stop_pin = st.text_input(t("track.pin"), max_chars=6, type="password", key="stop_pin")
            stop = st.form_submit_button(t("track.stop_emails_button"))
        if stop:
            try:
                removed = privacy.stop_emails(data.engine(), view["registry_number"], stop_pin)
            except SesizariError as exc:
                widgets.show_error(exc)
            else:
                widgets.flash("track.stop_emails_done" if removed else "track.stop_emails_none")
                st.rerun()

"""Staff page: one incident with map, contact, history, photos, and every action."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboard import data, maps, widgets
from dashboard.i18n import current_language, escape_markdown, t, t_md
from sesizari import accountability, workspace
from sesizari import photos as photo_store
from sesizari.errors import SesizariError
from sesizari.vocab import TRANSITIONS, Action

user = st.session_state["user"]
number = st.text_input(
    t("incident.choose"),
    value=st.session_state.get("incident_id") or st.query_params.get("id", ""),
    key="incident_number",
)
if not number:
    st.caption(t("incident.hint"))
    st.page_link(st.session_state["pages"]["queue"], label=t_md("nav.queue"))
    st.stop()
try:
    inc = workspace.incident_detail(data.engine(), user, number)
except SesizariError as exc:
    widgets.show_error(exc)
    st.stop()
number = inc["registry_number"]
st.session_state["incident_id"] = number
# The address names the incident shown: a reload, a bookmark or a link sent
# to a colleague opens it again (the queue opens this page at its bare address).
st.query_params["id"] = number

#: The keys of the widgets below that hold a choice about this incident.
#: Another incident must not open with this one's person, category or unsent
#: words chosen; and the description's switch, which writes as soon as it
#: differs from the incident, would publish the next incident's hidden
#: description just by being still ticked from this one.
FORM_KEYS = (
    "description_public", "action", "action_text", "action_dup", "action_photos", "assignee",
    "reroute_category", "reroute_reason", "note_text", "note_public", "extend_reason",
    "forward_to",
)  # fmt: skip


def blank_forms() -> None:
    """Forget what the forms hold: each starts again from the incident."""
    for key in FORM_KEYS:
        st.session_state.pop(key, None)


def done(key: str, **values: object) -> None:
    """After an action: say what it did on the next run, which draws the
    incident and its forms afresh (a sent note is not offered again)."""
    widgets.flash(key, **values)
    blank_forms()
    st.rerun()


if st.session_state.get("forms_of") != number:
    blank_forms()
    st.session_state["forms_of"] = number
st.subheader(t_md("incident.title", number=number))
widgets.show_flash()

lang = current_language()
zone = ZoneInfo(inc["timezone"])
shown_status = widgets.status_of(inc["status"], inc["forwarded_to"])
widgets.facts([
    (t("col.status"), shown_status),
    (t("col.category"), inc[f"category_{lang}"]),
    (t("col.assignee"), widgets.person(inc["assignee_name"], inc["assignee_active"]) or "—"),
    (t("track.department"), inc[f"department_{lang}"]),
])  # fmt: skip
st.caption(
    t_md(
        "incident.registered",
        when=widgets.local_time(inc["created_at"], zone),
        channel=widgets.label("channel", inc["channel"]),
    )
)
if inc["supports"]:
    by = ", ".join(
        f"{widgets.label('channel', channel)}: {n}" for channel, n in inc["supports"].items()
    )
    st.caption(t_md("incident.supports", count=sum(inc["supports"].values()), by=by))
if inc["duplicates"]:
    st.caption(t_md("incident.duplicates", numbers=", ".join(inc["duplicates"])))
if inc["forwarded_to"]:
    st.info(
        t_md(
            "track.forwarded",
            institution=inc["forwarded_to"],
            when=widgets.local_time(inc["forwarded_at"], zone),
        )
    )
elif not inc["owes_reply"]:
    st.caption(t("track.no_reply"))
elif inc["answered_at"] is not None:
    st.caption(t_md("incident.answered", when=widgets.local_time(inc["answered_at"], zone)))
else:
    due = widgets.last_day(inc["legal_due_at"], zone)
    extended = t("incident.extended") if inc["legal_extended_at"] is not None else ""
    if inc["legal_due_at"] <= datetime.now(UTC):
        st.warning(t_md("incident.reply_overdue", when=due) + extended)
    else:
        st.caption(t_md("incident.reply_due", when=due) + extended)
if inc["duplicate_of"]:
    st.info(t_md("track.duplicate", number=inc["duplicate_of"]))
if inc["recurrence_of"]:
    st.warning(t_md("incident.recurrence", number=inc["recurrence_of"]))
st.text(inc["description"])
shown = st.checkbox(
    t("incident.hide_description"), value=inc["description_public"], key="description_public"
)
if shown != inc["description_public"]:
    workspace.set_description_public(data.engine(), user, number, shown)
    st.rerun()
if inc["description_looks_personal"] and not inc["description_public"]:
    st.caption(t("incident.personal_hidden"))
if inc["address"]:
    st.caption(escape_markdown(inc["address"]))

left, right = st.columns(2)
with left:
    # No street map offline: the city's boundary and districts say where the
    # point is (a lone dot on a blank background said nothing).
    st.pydeck_chart(
        maps.deck(
            [maps.district_layer(data.outline(user.city)),
             maps.place_layer(inc["latitude"], inc["longitude"])],
            {"latitude": inc["latitude"], "longitude": inc["longitude"], "zoom": 12},
            None,
        ),
        height=260,
    )  # fmt: skip
with right:
    st.markdown(f"**{t('incident.contact')}**")
    contact = inc["contact"]
    if contact:
        st.text("\n".join(v for v in contact.values() if v))
    else:
        st.caption(t("incident.no_contact"))

st.markdown(f"**{t('incident.history')}**")
history = pd.DataFrame(inc["events"])
# An assignment has no text of its own: it says to whom.
texts = [
    t("incident.given_to", name=name) if kind == "assigned" and name else body
    for kind, name, body in zip(
        history["kind"], history["assignee_name"].fillna(""), history["body"].fillna(""),
        strict=True,
    )
]
widgets.grid(
    pd.DataFrame(
        {
            t("col.when"): history["created_at"],
            t("col.what"): history["kind"].map(lambda k: widgets.label("event", k)),
            t("col.who"): [
                widgets.actor(label, name)
                for label, name in zip(history["actor_label"], history["actor_name"], strict=True)
            ],
            t("col.text"): texts,
            t("col.mail"): [widgets.mail_state(s, at, zone) for s, at in zip(
                history["mail_status"], history["mail_sent_at"], strict=True)],
        }
    ),
    zone,
)

attached = inc["photos"]
if attached:
    st.markdown(f"**{t('incident.photos')}**")
    cols = st.columns(min(len(attached), 4))
    for i, photo in enumerate(attached):
        cols[i % len(cols)].image(
            str(photo_store.photo_path(photo["thumb_key"])), caption=t(f"photo.{photo['stage']}")
        )

st.markdown(f"**{t('incident.actions')}**")
allowed = [a for a in Action if inc["status"] in TRANSITIONS[a][0]]
tab_action, tab_assign, tab_reroute, tab_note, tab_legal = st.tabs(
    [
        t("incident.action"),
        t("incident.assign"),
        t("incident.reroute"),
        t("incident.note"),
        t("incident.legal"),
    ]
)
with tab_action, st.form("action_form"):
    action = st.selectbox(
        t("incident.action"),
        [a.value for a in allowed],
        format_func=lambda a: t(f"action.{a}"),
        key="action",
    )
    text = st.text_area(t("incident.text"), max_chars=5000, key="action_text")
    dup = st.text_input(t("incident.duplicate_of"), key="action_dup")
    fix_photos = widgets.uploader(
        "incident.resolution_photos", ["jpg", "jpeg", "png", "webp"], multiple=True,
        key="action_photos",
    )  # fmt: skip
    if st.form_submit_button(t("incident.apply"), type="primary"):
        try:
            if action == Action.RESOLVE:
                status = workspace.resolve(
                    data.engine(),
                    user,
                    number,
                    text,
                    [p.getvalue() for p in fix_photos or []],
                )
            else:
                status = workspace.act(
                    data.engine(), user, number, action, text=text or None, duplicate_of=dup or None
                )
            done("incident.done", status=widgets.label("status", status))
        except SesizariError as exc:
            widgets.show_error(exc)
with tab_assign, st.form("assign_form"):
    people = workspace.department_users(data.engine(), user, inc["department"])
    usernames = list(people)
    who = st.selectbox(
        t("incident.assignee"), usernames,
        index=usernames.index(inc["assignee"]) if inc["assignee"] in people else None,
        format_func=lambda u: f"{people[u]} ({u})", placeholder=t("incident.choose_person"),
        key="assignee",
    )  # fmt: skip
    if st.form_submit_button(t("incident.save")):
        try:
            if who is None:
                st.error(t("incident.choose_person"))
            else:
                workspace.assign(data.engine(), user, number, who)
                done("incident.assigned", name=people[who])
        except SesizariError as exc:
            widgets.show_error(exc)
with tab_reroute, st.form("reroute_form"):
    names = widgets.category_names(user.city)
    codes = list(names)
    new_cat = st.selectbox(
        t("incident.new_category"), codes, format_func=names.get, key="reroute_category",
        # a stopped category is no longer among the choices: then nothing is chosen
        index=codes.index(inc["category"]) if inc["category"] in names else None,
        placeholder=t("report.choose_category"),
    )  # fmt: skip
    reason = st.text_input(t("incident.reason"), key="reroute_reason")
    if st.form_submit_button(t("incident.save")):
        try:
            department = workspace.reroute(
                data.engine(), user, number, reason=reason, category=new_cat
            )
            done(
                "incident.rerouted", category=names[new_cat],
                department=widgets.department_names(user.city).get(department, department),
            )  # fmt: skip
        except SesizariError as exc:
            widgets.show_error(exc)
with tab_note, st.form("note_form"):
    note = st.text_area(t("incident.note"), max_chars=5000, key="note_text")
    public = st.checkbox(t("incident.note_public"), key="note_public")
    if st.form_submit_button(t("incident.save")):
        try:
            workspace.note(data.engine(), user, number, note, public)
            done("incident.noted")
        except SesizariError as exc:
            widgets.show_error(exc)
with tab_legal:
    with st.form("extend_form"):
        reason = st.text_input(t("incident.reason"), key="extend_reason")
        if st.form_submit_button(t("incident.extend")):
            try:
                due = accountability.extend_deadline(data.engine(), user, number, reason)
                done("incident.extended_now", when=widgets.last_day(due, zone))
            except SesizariError as exc:
                widgets.show_error(exc)
    with st.form("forward_form"):
        institution = st.text_input(t("incident.institution"), key="forward_to")
        if st.form_submit_button(t("incident.forward")):
            try:
                accountability.forward(data.engine(), user, number, institution)
                done("incident.forwarded_now", institution=institution.strip())
            except SesizariError as exc:
                widgets.show_error(exc)

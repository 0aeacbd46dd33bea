"""Staff page: one's own account (who the app thinks you are) and a new password."""

from __future__ import annotations

import streamlit as st

from dashboard import data, staff_session, widgets
from dashboard.i18n import t
from sesizari import auth
from sesizari.errors import SesizariError

user = st.session_state["user"]
st.subheader(t("account.title"))
widgets.facts(
    [
        (t("login.username"), user.username),
        (t("admin.full_name"), user.full_name),
        (t("admin.role"), t(f"role.{user.role.value}")),
        (
            t("admin.department"),
            widgets.department_names(user.city).get(user.department, "—")
            if user.department
            else "—",
        ),
    ]
)
with st.form("own_password", clear_on_submit=True):
    st.markdown(f"**{t('account.password')}**")
    current = st.text_input(t("account.current"), type="password", key="own_current")
    new = st.text_input(t("account.new"), type="password", key="own_new")
    repeated = st.text_input(t("account.repeat"), type="password", key="own_repeat")
    st.caption(t("account.note"))
    submitted = st.form_submit_button(t("account.change"))
if submitted:
    try:
        with data.engine().begin() as conn:
            auth.change_own_password(conn, user, current, new, repeated)
    except SesizariError as exc:
        widgets.show_error(exc)
    else:
        staff_session.sign_in(user)  # the change ended every session, this tab's too
        st.success(t("account.changed"))

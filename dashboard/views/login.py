"""Staff sign-in (city, username, password)."""

from __future__ import annotations

import streamlit as st

from dashboard import data, staff_session, widgets
from dashboard.i18n import t
from sesizari import auth
from sesizari.errors import RateLimitError, SesizariError
from sesizari.vocab import Role

st.subheader(t("login.title"))
city = widgets.city_selector(sidebar=False)
if city is None:
    st.stop()
with st.form("login"):
    username = st.text_input(t("login.username"), key="login_user")
    password = st.text_input(t("login.password"), type="password", key="login_password")
    submitted = st.form_submit_button(t("login.submit"), type="primary")
if submitted:
    try:
        with data.engine().begin() as conn:  # a wrong password is counted (auth.MAX_FAILURES)
            user = auth.authenticate(conn, city, username, password)
    except RateLimitError as exc:
        widgets.show_error(exc)
        st.stop()
    except SesizariError:  # e.g. a user name no account can have (a NUL character)
        user = None
    if user is None:
        st.error(t("login.failed"))
    else:
        staff_session.sign_in(user)
        # Signing in from a link to a staff page: the rerun opens that page at
        # the same address.  From the sign-in page itself, a head lands on
        # their own department's scorecard.
        if st.session_state.get("page_path") == "login" and user.role is Role.DEPT_HEAD:
            st.switch_page(st.session_state["pages"]["departments"])
        st.rerun()

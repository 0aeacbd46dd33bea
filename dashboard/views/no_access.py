"""Staff page at the address of a page the signed-in role does not open (a shared link)."""

from __future__ import annotations

import streamlit as st

from dashboard.i18n import t

user = st.session_state["user"]
st.warning(t("access.denied", role=t(f"role.{user.role.value}")))
st.page_link(st.session_state["pages"]["queue"], label=t("nav.queue"))

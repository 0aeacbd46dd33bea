"""Sesizari dashboard: only a router.  Pages live in ``dashboard/views``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.i18n import LANGUAGES, current_language, t  # noqa: E402

st.set_page_config(page_title="Sesizari", page_icon="📍", layout="wide")

lang = current_language()
chosen = st.sidebar.selectbox(
    t("lang.label"), list(LANGUAGES), index=list(LANGUAGES).index(lang), format_func=LANGUAGES.get
)
if chosen != lang:
    st.query_params["lang"] = chosen
    lang = chosen
st.session_state["lang"] = lang

VIEWS = Path(__file__).resolve().parent / "views"
pages = [st.Page(VIEWS / "live_map.py", title=t("nav.live_map"), icon="🗺️", url_path="map")]
st.navigation(pages).run()

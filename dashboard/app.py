"""Sesizari dashboard: only a router.  Pages live in ``dashboard/views``.

The page list is built per session from the signed-in user's role: a page
that is not in the list cannot be opened, even by URL.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import staff_session, widgets  # noqa: E402
from dashboard.i18n import DEFAULT, LANGUAGES, current_language, t, t_md  # noqa: E402
from sesizari.vocab import Role  # noqa: E402

st.set_page_config(
    page_title="Sesizari",
    page_icon=str(Path(__file__).resolve().parent / "static" / "icon.png"),
    layout="wide",
)

lang = current_language()
chosen = st.sidebar.selectbox(
    t("lang.label"), list(LANGUAGES), index=list(LANGUAGES).index(lang), format_func=LANGUAGES.get
)
lang = chosen
# Kept in the address (a shared or reloaded link opens in the same language)
# and in the session: Streamlit opens a page chosen in the list at its bare
# address, and the next run puts the language back.
if lang != DEFAULT or "lang" in st.query_params:
    st.query_params["lang"] = lang
st.session_state["lang"] = lang

VIEWS = Path(__file__).resolve().parent / "views"


def page(name: str, icon: str, default: bool = False) -> st.Page:
    return st.Page(
        VIEWS / f"{name}.py", title=t(f"nav.{name}"), icon=icon, url_path=name, default=default
    )


#: The pages behind the sign-in, by address.
STAFF_PAGES = ("queue", "incident", "dispatch", "feeds", "admin", "account")


try:
    user = staff_session.current_user()
except widgets.DATABASE_DOWN as exc:
    widgets.database_unavailable(exc)
# The live map is the app's root for everyone, so a shared link opens the same
# page whoever follows it; a department head is taken to their own scorecard
# when signing in (views/login.py).
pages = {
    "live_map": page("live_map", ":material/map:", default=True),
    "resolution": page("resolution", ":material/timer:"),
    "departments": page("departments", ":material/apartment:"),
    "open_data": page("open_data", ":material/public:"),
    "accountability": page("accountability", ":material/verified:"),
    "report": page("report", ":material/edit_note:"),
    "track": page("track", ":material/search:"),
}
sections = {
    t("nav.analytics"): [
        pages["live_map"],
        pages["resolution"],
        pages["departments"],
        pages["accountability"],
    ],
    t("nav.public"): [pages["report"], pages["track"], pages["open_data"]],
}

if user is None:
    pages["login"] = page("login", ":material/login:")
    # A colleague's link to a staff page (incident?id=LUG-2026-000123) opens
    # the sign-in form at that address; signed in, the same address is the
    # page itself, with its query (views/login.py reruns in place).
    behind = [
        st.Page(VIEWS / "login.py", title=t("nav.login"), url_path=name, visibility="hidden")
        for name in STAFF_PAGES
    ]
    sections[t("nav.staff")] = [pages["login"], *behind]
else:
    pages["queue"] = page("queue", ":material/checklist:")
    pages["incident"] = page("incident", ":material/description:")
    staff = [pages["queue"], pages["incident"]]
    if user.role in (Role.DISPATCHER, Role.MANAGER, Role.ADMIN):
        pages["dispatch"] = page("dispatch", ":material/call:")
        staff.append(pages["dispatch"])
    if user.role in (Role.MANAGER, Role.ADMIN):
        pages["feeds"] = page("feeds", ":material/upload_file:")
        staff.append(pages["feeds"])
    if user.role is Role.ADMIN:
        pages["admin"] = page("admin", ":material/settings:")
        staff.append(pages["admin"])
    pages["account"] = page("account", ":material/person:")
    staff.append(pages["account"])
    # A link to a staff page this role does not open says so, in the page's
    # language, instead of Streamlit's "Page not found" and the live map.
    staff += [
        st.Page(VIEWS / "no_access.py", title=t(f"nav.{name}"), url_path=name, visibility="hidden")
        for name in STAFF_PAGES
        if name not in pages
    ]
    sections[t("nav.staff")] = staff
    st.sidebar.caption(
        t_md("signed_in_as", name=user.full_name, role=t(f"role.{user.role.value}"))
    )
    if st.sidebar.button(t("nav.logout"), key="logout"):
        staff_session.sign_out()
        st.rerun()
staff_session.hand_over()
st.session_state["pages"] = pages

# Every page in view: an administrator has thirteen, and Streamlit otherwise
# hides the last ones behind "View 3 more" (in English).
current = st.navigation(sections, expanded=True)
st.session_state["page_path"] = current.url_path
# The hint under a field being typed in, in the page's language (Streamlit's is English).
st.html(widgets.input_hints_style())
try:
    current.run()
except widgets.DATABASE_DOWN as exc:
    widgets.database_unavailable(exc)

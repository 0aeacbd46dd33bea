"""The dashboard's server: Streamlit's app and the staff session cookie's routes.

Run it as Streamlit runs any app, ``streamlit run dashboard/server.py``
(``make run``): Streamlit finds the ``app`` below and serves the pages of
``dashboard/app.py`` with the two routes of ``dashboard/session_routes.py``
beside them.  Those routes exist because a page cannot set an HTTP cookie,
and a sign-in that outlives a page reload needs one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.session_routes import routes  # noqa: E402

app = st.App(Path(__file__).resolve().with_name("app.py"), routes=routes())

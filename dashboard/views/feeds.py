"""Staff page: the city's feed runs (``python -m etl``) and why rows were refused.

Managers and administrators see every run of their city with its counts
(read = inserted + updated + unchanged + rejected) and, for one run, its
rejects by reason and by row: row number, reason and message, never the
raw row (it may hold personal data).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from dashboard.i18n import current_language, t, t_md
from sesizari import feeds

user = st.session_state["user"]
st.subheader(t_md("feeds.title", city=widgets.city_name(user.city)))
engine = data.engine()
runs = feeds.runs(engine, user)
if runs.empty:
    st.info(t("feeds.empty"))
    st.stop()

st.caption(t("feeds.caption"))
widgets.table(
    widgets.headers(
        runs.drop(columns=["error", "error_row", "error_ro"]).assign(
            status=[widgets.label("feed_status", s) for s in runs["status"]]
        )
    ),
    "feed_runs",
)

by_id = runs.set_index("run_id")
run_id = st.selectbox(
    t("feeds.pick"),
    list(by_id.index),
    format_func=lambda r: t(
        "feeds.run", run=r, source=by_id.at[r, "source"], started=by_id.at[r, "started"],
        status=widgets.label("feed_status", by_id.at[r, "status"]),
    ),
    key="feeds_run",
)
run = by_id.loc[run_id]
widgets.facts(
    [
        (t("col.file_name"), run["file_name"] or "—"),
        (t("col.status"), widgets.label("feed_status", run["status"])),
        (t("col.rows_read"), widgets.number(run["rows_read"])),
        (t("col.rows_rejected"), widgets.number(run["rows_rejected"])),
    ]
)
# Plain text (st.text): no Markdown or HTML from a message.
if run["status"] == "aborted":
    st.caption(t("feeds.error"))
    st.text(t("feeds.aborted"))
elif isinstance(run["error"], str) and run["error"]:
    st.caption(t("feeds.error"))
    cause = run["error"]
    if current_language() == "ro" and isinstance(run["error_ro"], str):
        cause = run["error_ro"]
    if pd.isna(run["error_row"]):  # recorded before migration 0032: the whole line
        st.text(cause)
    else:
        st.text(t("feeds.failed_at", row=widgets.number(int(run["error_row"])), detail=cause))
if run["rows_rejected"] == 0:
    st.info(t("feeds.no_rejects"))
    st.stop()
reasons, rows = feeds.rejects(engine, user, int(run_id), current_language())
reasons["reason"] = [widgets.label("reject", r) for r in reasons["reason"]]
rows["reason"] = [widgets.label("reject", r) for r in rows["reason"]]
st.markdown(f"**{t('feeds.reasons')}**")
widgets.table(widgets.headers(reasons), f"feed_run_{run_id}_reasons")
complete = len(rows) == run["rows_rejected"]
heading = t_md("feeds.rows_all" if complete else "feeds.rows", shown=widgets.number(len(rows)))
st.markdown(f"**{heading}**")
widgets.table(widgets.headers(rows), f"feed_run_{run_id}_rejects")
if not complete:
    st.caption(t_md("feeds.more", run=run_id, city=user.city))

"""Staff page: the work queue of the user's department (city-wide roles: the city)."""

from __future__ import annotations

import streamlit as st

from dashboard import data, widgets
from dashboard.i18n import current_language, escape_markdown, t, t_md
from sesizari import workspace
from sesizari.vocab import Role, Status

user = st.session_state["user"]
if user.city_wide:
    scope = t("queue.city_wide")
else:
    scope = widgets.department_names(user.city).get(user.department, user.department)
st.subheader(t_md("queue.title", scope=scope))

c1, c2, c3 = st.columns([3, 1, 1])
statuses = c1.multiselect(
    t("queue.statuses"),
    [s.value for s in Status],
    default=["new", "acknowledged", "in_progress"],
    format_func=lambda s: widgets.label("status", s),
    key="queue_statuses",
)
overdue_only = c2.checkbox(t("queue.overdue_only"), key="queue_overdue")
# Work is given to staff and heads of a department (workspace.department_users).
mine = user.role in (Role.STAFF, Role.DEPT_HEAD) and c2.checkbox(t("queue.mine"), key="queue_mine")
sort = c3.radio(
    t("queue.sort"),
    list(workspace.QUEUE_SORTS),
    key="queue_sort",
    format_func=lambda s: t(f"queue.sort_{s}"),
)
search = st.text_input(t("queue.search"), max_chars=200, key="queue_search")
queue = workspace.work_queue(
    data.engine(), user, tuple(statuses), overdue_only, data.settings().queue_rows, sort, mine,
    search,
)  # fmt: skip
if queue.empty:
    st.info(t("queue.not_found" if search.strip() else "queue.empty"))
    st.stop()
total = int(queue["total"].iloc[0])
if total > len(queue):
    st.caption(t_md(f"queue.first_{sort}", n=widgets.number(len(queue)),
                    count=widgets.count(total)))  # fmt: skip
else:
    st.caption(escape_markdown(widgets.count(total)))
lang = current_language()
table = queue.assign(
    category=queue[f"category_{lang}"],
    # the name colleagues know, not the account's; marked when it was disabled
    assignee=[widgets.person(n, a) for n, a in zip(queue["assignee_name"],
                                                    queue["assignee_active"], strict=True)],
    status=queue["status"].map(lambda s: widgets.label("status", s)),
    age_days=(queue["age_hours"] / 24).round(1),
)[
    [
        "registry_number",
        "category",
        "status",
        "age_days",
        "overdue",
        "supporters",
        "assignee",
        "district",
        "address",
        "description",
    ]
]
table = widgets.headers(table)
st.caption(t("queue.open_hint"))
picked = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    key="queue_table",
    placeholder=widgets.MISSING,
    column_config=widgets.decimal_columns(table),
    on_select="rerun",
    selection_mode="single-row",
)
widgets.download_csv(table, "queue", "queue.download")
rows = picked.selection.rows if picked else []
if rows:
    st.session_state["incident_id"] = queue["registry_number"].iloc[rows[0]]
    st.switch_page(st.session_state["pages"]["incident"])

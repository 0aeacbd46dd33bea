"""The analytics filters: sidebar widgets mirrored in the URL query string.

A view is shared by copying its link: ``?city=lugoj&from=2026-01-01&to=2026-03-01
&cat=pothole,garbage&dep=roads&status=new&district=Centru``.  Values read from
the URL are only ever used as options of a widget or bound SQL parameters.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from dashboard import data, widgets
from dashboard.i18n import t, t_md
from sesizari.queries import Filters
from sesizari.vocab import Status

DEFAULT_DAYS = 180


def _list(name: str, allowed: list[str]) -> list[str]:
    raw = st.query_params.get(name, "")
    return [v for v in raw.split(",") if v in allowed]


def _date(name: str, default: date) -> date:
    try:
        return date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return default


def _keep(name: str, values: list[str]) -> None:
    if values:
        st.query_params[name] = ",".join(values)
    elif name in st.query_params:
        del st.query_params[name]


def sidebar_filters(city: str, today: date | None = None) -> Filters:
    """Draw the filter widgets and return the :class:`Filters` they describe.

    A signed-in department head or staff member is scoped to their department
    whatever the widgets say (``Filters.department``).
    """
    today = today or widgets.city_today(data.zone(city))
    cats = widgets.category_names(city)
    deps = widgets.department_names(city)
    districts = data.district_names(city)
    side = st.sidebar
    start = _date("from", today - timedelta(days=DEFAULT_DAYS))
    end = _date("to", today)
    period = side.date_input(
        t("filter.period"), value=(start, end), key="f_period", format="DD.MM.YYYY"
    )
    if isinstance(period, tuple) and len(period) == 2:
        start, end = period
    sel_cats = side.multiselect(
        t("filter.categories"),
        list(cats),
        default=_list("cat", list(cats)),
        format_func=cats.get,
        key="f_cat",
        placeholder=t("filter.any"),
    )
    sel_deps = side.multiselect(
        t("filter.departments"),
        list(deps),
        default=_list("dep", list(deps)),
        format_func=deps.get,
        key="f_dep",
        placeholder=t("filter.any"),
    )
    statuses = [s.value for s in Status]
    sel_status = side.multiselect(
        t("filter.statuses"),
        statuses,
        default=_list("status", statuses),
        format_func=lambda s: widgets.label("status", s),
        key="f_status",
        placeholder=t("filter.any"),
    )
    sel_districts = side.multiselect(
        t("filter.districts"),
        districts,
        default=_list("district", districts),
        key="f_district",
        placeholder=t("filter.any"),
    )
    st.query_params["from"] = start.isoformat()
    st.query_params["to"] = end.isoformat()
    _keep("cat", sel_cats)
    _keep("dep", sel_deps)
    _keep("status", sel_status)
    _keep("district", sel_districts)
    user = st.session_state.get("user")
    scope = user.department if user is not None and not user.city_wide else None
    if scope:
        side.caption(t_md("filter.scope", department=deps.get(scope, scope)))
    return Filters(
        city=city,
        start=start,
        end=end + timedelta(days=1),
        categories=tuple(sel_cats),
        departments=tuple(sel_deps),
        statuses=tuple(sel_status),
        districts=tuple(sel_districts),
        department=scope,
    )

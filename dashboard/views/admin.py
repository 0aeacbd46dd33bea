"""Admin page: users, departments, categories and targets, routing rules, city settings,
and the e-mails the platform sends (to reporters, departments and staff)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard import data, widgets
from dashboard.i18n import current_language, t, t_md
from sesizari import admin
from sesizari.errors import SesizariError
from sesizari.mailer import mail_settings_missing
from sesizari.vocab import Role

user = st.session_state["user"]
city = user.city
st.subheader(t_md("admin.title", city=widgets.city_name(city)))
widgets.show_flash()
engine = data.engine()
choices = data.choices(city)
dep_names = widgets.department_names(city)  # the departments that take work
dep_codes = list(dep_names)
departments = admin.departments(engine, user)  # stopped ones too
users = admin.users(engine, user)


def attempt(
    action: Callable[[], object], done: str, refresh: bool = False, clear: tuple[str, ...] = ()
) -> None:
    """Run a form's action: its error (nothing is written, what was typed
    stays to be corrected), or the page drawn again with the change in its
    tables and its success in words.

    ``refresh`` drops the cached departments and categories the other forms
    and pages offer, after an action that changed them.  ``clear`` names the
    fields that start blank after a success: a form that made something is
    ready for the next one, and a password typed for one account is not
    left in the form for another.
    """
    try:
        action()
    except SesizariError as exc:
        widgets.show_error(exc)
        return
    if refresh:
        data.choices.clear()
    for key in clear:
        st.session_state.pop(key, None)
    widgets.flash(done)
    st.rerun()


def dep_name(code: str | None) -> str | None:
    """A department's name, marked when it is stopped; None for none (a
    city-wide account's is None, or NaN in a table)."""
    if not isinstance(code, str):
        return None
    if code in dep_names:
        return dep_names[code]
    row = departments.set_index("code").loc[code]
    return t("admin.stopped_name", name=row[widgets.name_column()])


def switch_form(kind: str, rows: pd.DataFrame) -> None:
    """Stop or start again one department or category (``kind``): the choice
    shown is the chosen row's own state, and "Salvează" saves only a change."""
    with st.container(border=True):
        st.markdown(f"**{t(f'admin.switch_{kind}')}**")
        names = dict(zip(rows["code"], rows[widgets.name_column()], strict=True))
        state = dict(zip(rows["code"], rows["active"], strict=True))
        c1, c2 = st.columns([3, 1])
        code = c1.selectbox(
            t(f"admin.{kind}"), list(names), key=f"sw_{kind}",
            format_func=lambda c: names[c] if state[c] else t("admin.stopped_name", name=names[c]),
        )  # fmt: skip
        on = c2.radio(
            t("col.active"), [True, False], horizontal=True, key=f"sw_{kind}_on_{code}",
            index=0 if state[code] else 1,
            format_func=lambda a: t("account.yes" if a else "account.no"),
        )  # fmt: skip
        st.caption(t(f"admin.switch_{kind}_note"))
        if st.button(t("incident.save"), key=f"sw_{kind}_save", disabled=on == state[code]):
            setter = {"department": admin.set_department_active,
                      "category": admin.set_category_active}[kind]  # fmt: skip
            attempt(lambda: setter(engine, user, code, on), "admin.saved", refresh=True)


def account_change(kind: str, changes: dict) -> str:
    """One line of an account's history in words: "Rol: Angajat → Șef de compartiment"."""

    def said(field: str, value: object) -> str:
        if field == "role":
            return widgets.label("role", value)
        if field == "department":
            return dep_name(value) or t("admin.no_department")
        if field == "active":
            return t("account.yes" if value else "account.no")
        return str(value)

    fields = {"full_name": "admin.full_name", "role": "admin.role",
              "department": "admin.department", "active": "admin.active"}  # fmt: skip
    if kind == "created":
        parts = [t("account.created")] + [
            f"{t(label)}: {said(field, changes.get(field))}"
            for field, label in fields.items()
            if field != "full_name"
        ]
    else:
        parts = [
            f"{t(label)}: {said(field, changes[field][0])} → {said(field, changes[field][1])}"
            for field, label in fields.items()
            if field in changes
        ]
        if changes.get("password"):
            parts.append(t("account.password_set"))
        if changes.get("email"):
            parts.append(t("account.email_set"))
    return "; ".join(parts)


tab_users, tab_deps, tab_cats, tab_rules, tab_settings, tab_mail, tab_privacy = st.tabs(
    [
        t("admin.users"),
        t("admin.departments"),
        t("admin.categories"),
        t("admin.rules"),
        t("admin.settings"),
        t("admin.mail"),
        t("admin.privacy"),
    ]
)

def rename_form(kind: str, rows: pd.DataFrame) -> None:
    """New names for one department or category (``kind``): the names shown
    are the chosen row's own, keyed by its code, until changed."""
    with st.container(border=True):
        st.markdown(f"**{t(f'admin.rename_{kind}')}**")
        names = dict(zip(rows["code"], rows[f"name_{current_language()}"], strict=True))
        code = st.selectbox(t(f"admin.{kind}"), list(names), format_func=names.get,
                            key=f"rn_{kind}")  # fmt: skip
        row = rows.set_index("code").loc[code]
        c1, c2 = st.columns(2)
        name_ro = c1.text_input(t("admin.name_ro"), value=row["name_ro"], max_chars=200,
                                key=f"rn_{kind}_ro_{code}")  # fmt: skip
        name_en = c2.text_input(t("admin.name_en"), value=row["name_en"], max_chars=200,
                                key=f"rn_{kind}_en_{code}")  # fmt: skip
        unchanged = (name_ro, name_en) == (row["name_ro"], row["name_en"])
        if st.button(t("incident.save"), key=f"rn_{kind}_save", disabled=unchanged):
            attempt(lambda: admin.rename(engine, user, kind, code, name_ro=name_ro,
                                         name_en=name_en), "admin.saved", refresh=True)  # fmt: skip


def department_mail_form(rows: pd.DataFrame) -> None:
    """The mailbox told of each report routed to a department: the one shown
    is the chosen department's own, and "Salvează" saves only a change."""
    with st.container(border=True):
        st.markdown(f"**{t('admin.department_mail')}**")
        names = dict(zip(rows["code"], rows[widgets.name_column()], strict=True))
        current = {c: e if isinstance(e, str) else "" for c, e in zip(
            rows["code"], rows["email"], strict=True)}  # fmt: skip
        c1, c2 = st.columns(2)
        code = c1.selectbox(t("admin.department"), list(names), key="dm_department",
                            format_func=names.get)  # fmt: skip
        email = c2.text_input(t("report.email"), value=current[code], max_chars=254,
                              key=f"dm_email_{code}")  # fmt: skip
        st.caption(t("admin.department_mail_note"))
        if st.button(t("incident.save"), key="dm_save", disabled=email.strip() == current[code]):
            attempt(lambda: admin.set_department_email(engine, user, code, email), "admin.saved",
                    refresh=True)  # fmt: skip


with tab_deps:
    widgets.grid(widgets.headers(departments))
    rename_form("department", departments)
    switch_form("department", departments)
    department_mail_form(departments)
    with st.form("new_department"):
        c1, c2, c3 = st.columns(3)
        code = c1.text_input(t("admin.code"), key="nd_code")
        name_ro = c2.text_input(t("admin.name_ro"), key="nd_name_ro")
        name_en = c3.text_input(t("admin.name_en"), key="nd_name_en")
        if st.form_submit_button(t("admin.create_department")):
            attempt(
                lambda: admin.create_department(
                    engine, user, code=code, name_ro=name_ro, name_en=name_en
                ),
                "admin.created",
                refresh=True,
                clear=("nd_code", "nd_name_ro", "nd_name_en"),
            )

with tab_users:
    widgets.grid(widgets.headers(users.assign(
        role=[widgets.label("role", r) for r in users["role"]],
        department=users["department"].map(dep_name),
    )))  # fmt: skip
    with st.form("new_user"):
        st.markdown(f"**{t('admin.new_user')}**")
        c1, c2 = st.columns(2)
        username = c1.text_input(t("login.username"), key="nu_username")
        full_name = c2.text_input(t("admin.full_name"), key="nu_full_name")
        role = c1.selectbox(
            t("admin.role"),
            [r.value for r in Role],
            format_func=lambda r: widgets.label("role", r),
            key="nu_role",
        )
        dep = c2.selectbox(
            t("admin.department"),
            [None, *dep_codes],
            format_func=lambda c: dep_names[c] if c else t("admin.no_department"),
            key="nu_department",
        )
        password = c1.text_input(t("login.password"), type="password", key="nu_password")
        email = c2.text_input(t("report.email"), max_chars=254, key="nu_email",
                              help=t("admin.user_email_help"))  # fmt: skip
        if st.form_submit_button(t("admin.create")):
            attempt(
                lambda: admin.create_user(
                    engine,
                    user,
                    username=username,
                    full_name=full_name,
                    role=role,
                    department=dep,
                    password=password,
                    email=email,
                ),
                "admin.created",
                clear=("nu_username", "nu_full_name", "nu_role", "nu_department", "nu_password",
                       "nu_email"),
            )

    # A colleague's account: role, department, access, a new password.  The
    # pick stays outside the form so the fields show the chosen account.
    st.markdown(f"**{t('admin.edit_user')}**")
    people = users.set_index("username")
    pick = st.selectbox(
        t("admin.edit_pick"),
        list(people.index),
        format_func=lambda u: f"{u} ({people.at[u, 'full_name']})",
        key="eu_pick",
    )
    account = admin.user(engine, user, pick)
    with st.form("edit_user"):
        c1, c2 = st.columns(2)
        full_name = c1.text_input(
            t("admin.full_name"), value=account["full_name"], key=f"eu_full_name_{pick}"
        )
        active = c2.checkbox(t("admin.active"), value=account["active"], key=f"eu_active_{pick}")
        roles = [r.value for r in Role]
        role = c1.selectbox(
            t("admin.role"),
            roles,
            index=roles.index(account["role"]),
            format_func=lambda r: widgets.label("role", r),
            key=f"eu_role_{pick}",
        )
        dep_options = [None, *dep_codes]
        if account["department"] not in dep_options:  # an inactive department stays shown
            dep_options.append(account["department"])
        dep = c2.selectbox(
            t("admin.department"),
            dep_options,
            index=dep_options.index(account["department"]),
            format_func=lambda c: dep_name(c) if c else t("admin.no_department"),
            key=f"eu_department_{pick}",
        )
        password = c1.text_input(
            t("admin.new_password"), type="password", key=f"eu_password_{pick}"
        )
        email = c2.text_input(t("report.email"), value=account["email"] or "", max_chars=254,
                              key=f"eu_email_{pick}", help=t("admin.user_email_help"))  # fmt: skip
        st.caption(t("admin.edit_note"))
        if st.form_submit_button(t("admin.save_account")):
            attempt(
                lambda: admin.update_user(
                    engine,
                    user,
                    pick,
                    full_name=full_name,
                    role=role,
                    department=dep,
                    active=active,
                    password=password or None,
                    email=email,
                ),
                "admin.saved",
                clear=(f"eu_password_{pick}",),
            )
    st.markdown(f"**{t('account.history')}**")
    history = admin.account_history(engine, user, pick)
    who = [a if isinstance(a, str) else t("account.by_system") for a in history["actor"]]
    what = [account_change(k, c) for k, c in zip(history["kind"], history["changes"], strict=True)]
    widgets.grid(
        widgets.headers(pd.DataFrame({"when": history["created_at"], "who": who, "what": what})),
        data.zone(city),
    )

with tab_cats:
    cats = choices["categories"]  # the ones that take reports
    every_category = admin.categories(engine, user)
    names = widgets.name_column()
    cat_names = dict(zip(cats["code"], cats[names], strict=True))
    widgets.grid(
        widgets.headers(
            every_category.assign(
                name=every_category[names],
                department=every_category["department"].map(dep_name),
            )[["code", "name", "department", "target_hours", "sensitive", "active"]]
        )
    )
    rename_form("category", every_category)
    switch_form("category", every_category)
    # Not a form: the department shown follows the chosen category (its own
    # until changed), so "Salvează" never moves a category nobody looked at.
    with st.container(border=True):
        st.markdown(f"**{t('admin.route_category')}**")
        c1, c2 = st.columns(2)
        routed = c1.selectbox(
            t("report.category"), list(cat_names), format_func=cat_names.get, key="rc_category"
        )
        current = dict(zip(cats["code"], cats["department_code"], strict=True))[routed]
        routed_to = c2.selectbox(
            t("admin.department"), dep_codes, format_func=dep_names.get,
            index=dep_codes.index(current) if current in dep_codes else None,
            key=f"rc_department_{routed}",
        )  # fmt: skip
        st.caption(t("admin.route_category_note"))
        if st.button(t("incident.save"), key="rc_save", disabled=routed_to in (None, current)):
            attempt(
                lambda: admin.route_category(engine, user, routed, routed_to),
                "admin.saved",
                refresh=True,
            )
    with st.form("new_category"):
        st.markdown(f"**{t('admin.new_category')}**")
        c1, c2, c3 = st.columns(3)
        new_code = c1.text_input(t("admin.code"), key="nc_code")
        new_ro = c2.text_input(t("admin.name_ro"), key="nc_name_ro")
        new_en = c3.text_input(t("admin.name_en"), key="nc_name_en")
        c1, c2 = st.columns(2)
        new_dep = c1.selectbox(
            t("admin.department"), dep_codes, format_func=dep_names.get, key="nc_department",
            index=None, placeholder=t("admin.choose_department"),
        )  # fmt: skip
        new_target = c2.number_input(
            t("admin.target_hours"), min_value=0.5, max_value=8760.0, value=72.0, key="nc_target"
        )
        new_sensitive = st.checkbox(t("admin.sensitive"), key="nc_sensitive")
        if st.form_submit_button(t("admin.create_category")):
            attempt(
                lambda: admin.create_category(
                    engine,
                    user,
                    code=new_code,
                    name_ro=new_ro,
                    name_en=new_en,
                    department=new_dep,
                    target_hours=new_target,
                    sensitive=new_sensitive,
                ),
                "admin.created",
                refresh=True,
                clear=("nc_code", "nc_name_ro", "nc_name_en", "nc_department", "nc_target",
                       "nc_sensitive"),
            )
    st.markdown(f"**{t('admin.targets')}**")
    with st.form("targets"):
        targets = {}
        for row in cats.itertuples():
            targets[row.code] = st.number_input(
                t_md("admin.target_of", category=getattr(row, names)),
                min_value=0.5,
                max_value=8760.0,
                value=float(row.target_hours),
                key=f"tg_{row.code}",
            )
        if st.form_submit_button(t("incident.save")):
            attempt(lambda: admin.set_targets(engine, user, targets), "admin.saved", refresh=True)

with tab_rules:
    rules = admin.rules(engine, user)
    lang = current_language()
    shown_rules = rules.assign(
        category=rules[f"category_{lang}"], department=rules[f"department_{lang}"],
        assignee=[widgets.person(n, a) for n, a in zip(rules["assignee_name"],
                                                        rules["assignee_active"], strict=True)],
    )  # fmt: skip
    columns = ["name", "category", "department", "assignee", "has_area", "area_km2", "active"]
    widgets.grid(widgets.headers(shown_rules[columns]))
    if len(rules):
        # A rule is stopped, not deleted: the incidents it routed name it.
        with st.form("rule_active"):
            st.markdown(f"**{t('admin.rule_switch')}**")
            c1, c2 = st.columns([3, 1])
            switched = c1.selectbox(
                t("admin.rule_name"), list(rules["rule_id"]), key="rule_pick",
                format_func=dict(zip(rules["rule_id"], rules["name"], strict=True)).get,
            )  # fmt: skip
            on = c2.radio(
                t("col.active"), [True, False], horizontal=True, key="rule_on",
                format_func=lambda a: t("account.yes" if a else "account.no"),
            )  # fmt: skip
            if st.form_submit_button(t("incident.save")):
                attempt(lambda: admin.set_rule_active(engine, user, switched, on), "admin.saved",
                        refresh=True)  # fmt: skip
    with st.form("new_rule"):
        st.markdown(f"**{t('admin.new_rule')}**")
        name = st.text_input(t("admin.rule_name"), key="rule_name")
        rule_cat = st.selectbox(
            t("report.category"), list(cat_names), format_func=cat_names.get, key="rule_category",
            index=None, placeholder=t("report.choose_category"),
        )  # fmt: skip
        rule_dep = st.selectbox(
            t("admin.department"), dep_codes, format_func=dep_names.get, key="rule_department",
            index=None, placeholder=t("admin.choose_department"),
        )  # fmt: skip
        # Only someone who can take the work: an active member of a department.
        takers = users[users["active"] & users["department"].isin(dep_codes)]
        taker_names = {
            u: f"{n} ({dep_names[d]})"
            for u, n, d in zip(takers["username"], takers["full_name"], takers["department"],
                               strict=True)
        }  # fmt: skip
        rule_who = st.selectbox(
            t("admin.rule_assignee"), list(taker_names), format_func=taker_names.get,
            key="rule_assignee", index=None, placeholder=t("admin.rule_nobody"),
        )  # fmt: skip
        area_file = widgets.uploader("admin.rule_area", ["geojson", "json"], key="rule_area")
        if st.form_submit_button(t("admin.create")):
            attempt(
                lambda: admin.create_rule(
                    engine,
                    user,
                    name=name,
                    category=rule_cat,
                    department=rule_dep,
                    area=admin.read_area(area_file.getvalue()) if area_file else None,
                    assignee=rule_who,
                ),
                "admin.created",
                refresh=True,
                clear=("rule_name", "rule_category", "rule_department", "rule_assignee",
                       "rule_area"),
            )

with tab_settings, st.form("settings"):
    current = admin.city_settings(engine, user)
    changes = {}
    for key, (kind, low, high) in admin.SETTINGS.items():
        label = t(f"setting.{key}")
        if kind is bool:
            changes[key] = st.checkbox(
                label, value=bool(current.get(key, admin.setting_default(key))),
                key=f"set_{key}",
            )
        else:
            default = current.get(key, admin.setting_default(key))
            changes[key] = int(
                st.number_input(
                    label,
                    min_value=low,
                    max_value=high,
                    # Within the bounds: a value stored before they narrowed
                    # (a legal term over the law's 30 days) is offered at the edge.
                    value=min(max(int(default), low), high),
                    step=1,
                    key=f"set_{key}",
                )
            )
    if st.form_submit_button(t("admin.save_settings")):
        attempt(lambda: admin.update_settings(engine, user, changes), "admin.saved")

with tab_mail:
    counts, problems, digests = admin.outbox(engine, user)
    missing = mail_settings_missing(data.settings())
    if missing:
        st.warning(t_md("admin.mail_off", settings=", ".join(missing)))
    st.caption(t("admin.mail_note"))
    for column, (status, n) in zip(st.columns(len(counts)), counts.items(), strict=True):
        column.metric(t(f"mail_status.{status}"), widgets.number(n))
    st.markdown(f"**{t('admin.mail_problems')}**")
    widgets.grid(
        widgets.headers(problems.drop(columns=["department", "person"]).assign(
            about=[widgets.label("event", k) for k in problems["about"]],
            recipient=[{"reporter": t("mail_to.reporter"), "department": dep_name(d) or d,
                        "assignee": p}.get(r)
                       for r, d, p in zip(problems["recipient"], problems["department"],
                                          problems["person"], strict=True)],
            status=[t("mail_state.failed" if s == "failed" else "mail_state.retrying")
                    for s in problems["status"]],
        )),
        data.zone(city),
    )  # fmt: skip
    # The other way: what the city's mailbox brought (sesizari.inbox).
    received, latest = admin.inbox_summary(engine, user)
    st.markdown(f"**{t('admin.inbox')}**")
    st.caption(t_md("admin.inbox_latest", at=widgets.local_time(latest, data.zone(city)))
               if latest else t("admin.inbox_never"))  # fmt: skip
    for column, (status, n) in zip(st.columns(len(received)), received.items(), strict=True):
        column.metric(t(f"inbox_status.{status}"), widgets.number(n))
    st.markdown(f"**{t('admin.mail_digests')}**")
    sent_lists = digests.assign(
        department=digests["department"].map(dep_name),
        local_day=[f"{d:%d.%m.%Y}" for d in digests["local_day"]],
    )
    widgets.grid(widgets.headers(sent_lists), data.zone(city))

with tab_privacy:
    # An erasure request (GDPR art. 17), as `privacy erase` carries it out (sesizari.privacy).
    st.markdown(f"**{t('admin.erase_title')}**")
    st.caption(t("admin.erase_note"))
    cities = data.cities()
    prefix = cities.loc[cities["slug"] == city, "registry_prefix"].iloc[0]
    with st.form("erase"):
        number = st.text_input(t_md("admin.erase_number", example=f"{prefix}-2026-000123"),
                               key="erase_number", max_chars=40)  # fmt: skip
        reason = st.text_input(t("admin.erase_reason"), key="erase_reason", max_chars=500)
        confirmed = st.checkbox(t("admin.erase_confirm"), key="erase_confirm")
        if st.form_submit_button(t("admin.erase_button")):
            if not confirmed:
                st.warning(t("admin.erase_unconfirmed"))
            else:
                try:
                    done = admin.erase_report(engine, user, number, reason)
                except SesizariError as exc:
                    widgets.show_error(exc)
                else:
                    what = ", ".join(t(f"erased_what.{w}") for w in done.removed)
                    widgets.flash("admin.erased" if done.removed else "admin.erase_nothing",
                                  number=done.registry_number, what=what)  # fmt: skip
                    for key in ("erase_number", "erase_reason", "erase_confirm"):
                        st.session_state.pop(key, None)
                    st.rerun()
    st.markdown(f"**{t('admin.erasures')}**")
    history = admin.erasures(engine, user)
    widgets.grid(widgets.headers(history.assign(
        why=[t(f"erased_why.{w}") if w else "" for w in history["why"]],
        erased_by=[t(f"erased_by.{b}") if b in ("reporter", "retention") else b
                   for b in history["erased_by"]],
        removed=[", ".join(t(f"erased_what.{w}") for w in r) for r in history["removed"]],
    )), data.zone(city))  # fmt: skip

"""An administrator changes colleagues' accounts: role, department, access, password.

Before, the Administration page could only create accounts: someone who left
kept access, and a forgotten password needed SQL.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sesizari import admin, auth, staff_sessions
from sesizari.errors import NotFoundError, PermissionDeniedError, RateLimitError, ValidationError
from tests.apptest_support import load_user, run_app, shown

PASSWORD = "sesizari-demo"


def _sign_in(engine, username: str, password: str = PASSWORD):
    with engine.connect() as conn:
        return auth.authenticate(conn, "lugoj", username, password)


def _change(engine, username: str, **changes):
    account = admin.user(engine, load_user(engine, "admin"), username)
    fields = {k: account[k] for k in ("full_name", "role", "department", "active")}
    admin.update_user(engine, load_user(engine, "admin"), username, **{**fields, **changes})


def test_an_account_is_disabled_and_its_sessions_end(demo):
    clerk = load_user(demo, "agent1.roads")
    with demo.begin() as conn:
        session = staff_sessions.begin(conn, clerk, 12).session_id
    _change(demo, "agent1.roads", active=False)
    assert _sign_in(demo, "agent1.roads") is None
    with demo.connect() as conn:
        assert not staff_sessions.alive(conn, clerk, session)
    _change(demo, "agent1.roads", active=True)
    assert _sign_in(demo, "agent1.roads") is not None


def test_a_new_password_a_role_and_a_department(demo):
    _change(demo, "agent1.roads", password="o-parola-noua-42")
    assert _sign_in(demo, "agent1.roads") is None
    assert _sign_in(demo, "agent1.roads", "o-parola-noua-42") is not None
    _change(demo, "agent1.roads", role="dept_head", department="water", full_name=" Ana Pop ")
    moved = load_user(demo, "agent1.roads")
    assert (moved.role.value, moved.department, moved.full_name) == (
        "dept_head", "water", "Ana Pop")
    _change(demo, "agent1.roads", password=None)  # no new password: the last one stays
    assert _sign_in(demo, "agent1.roads", "o-parola-noua-42") is not None


@pytest.mark.parametrize(
    ("username", "changes", "error", "says"),
    [
        ("admin", {"active": False}, ValidationError, "nu vă puteți retrage propriul acces"),
        ("admin", {"role": "manager"}, ValidationError, "nu vă puteți retrage propriul acces"),
        ("agent1.roads", {"department": None}, ValidationError, "alegeți compartimentul"),
        ("agent1.roads", {"role": "boss"}, ValidationError, "rol necunoscut"),
        ("agent1.roads", {"department": "nope"}, ValidationError, "compartiment"),
        ("agent1.roads", {"full_name": "  "}, ValidationError, "scrieți numele"),
        ("agent1.roads", {"full_name": "x" * 201}, ValidationError, "cel mult 200"),
        ("agent1.roads", {"password": "scurta"}, ValidationError, "cel puțin 10 caractere"),
    ],
)
def test_changes_that_are_refused_write_nothing(demo, username, changes, error, says):
    def accounts():
        with demo.connect() as conn:
            return conn.execute(sa.text("SELECT * FROM users ORDER BY city_id, user_id")).all()

    before = accounts()
    with pytest.raises(error) as refused:
        _change(demo, username, **changes)
    assert says in refused.value.says("ro"), refused.value.says("ro")
    assert accounts() == before


def test_only_an_administrator_of_the_city_changes_accounts(demo):
    with pytest.raises(PermissionDeniedError):
        admin.update_user(demo, load_user(demo, "manager"), "agent1.roads", full_name="X",
                          role="staff", department="roads", active=False)  # fmt: skip
    with pytest.raises(NotFoundError):
        admin.user(demo, load_user(demo, "admin"), "nobody")
    # Alba Iulia's administrator does not reach Lugoj's accounts (same user names).
    other = load_user(demo, "admin", city="alba-iulia")
    admin.update_user(demo, other, "agent1.roads", full_name="Alt agent", role="staff",
                      department="roads", active=False)  # fmt: skip
    assert _sign_in(demo, "agent1.roads") is not None
    assert load_user(demo, "agent1.roads").full_name != "Alt agent"


def test_the_page_disables_an_account_and_refuses_the_admins_own(demo):
    at = run_app("admin", user=load_user(demo, "admin"))
    at.selectbox(key="eu_pick").set_value("agent1.roads").run()
    assert at.text_input(key="eu_full_name_agent1.roads").value == "Agent 1 Drumuri și poduri"
    at.checkbox(key="eu_active_agent1.roads").uncheck()
    next(b for b in at.button if b.label == "Salvează contul").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Salvat." in [s.value for s in at.success]
    assert _sign_in(demo, "agent1.roads") is None

    at.selectbox(key="eu_pick").set_value("admin").run()
    at.checkbox(key="eu_active_admin").uncheck()
    next(b for b in at.button if b.label == "Salvează contul").click().run()
    assert "nu vă puteți retrage propriul acces" in shown(at.error[0].value), at.error
    assert _sign_in(demo, "admin") is not None


def test_a_colleague_changes_their_own_password_and_stays_signed_in(demo):
    """Staff change the password an administrator gave them; other devices are
    signed out, the tab they changed it in is not."""
    clerk = load_user(demo, "agent1.roads")
    with demo.begin() as conn:
        elsewhere = staff_sessions.begin(conn, clerk, 12).session_id
    at = run_app("account", user=clerk)
    assert [x.value for x in at.text][:2] == ["agent1.roads", "Agent 1 Drumuri și poduri"]
    at.session_state["staff_session"] = elsewhere  # as if this tab held that session

    def change(current, new, repeated):
        at.text_input(key="own_current").set_value(current)
        at.text_input(key="own_new").set_value(new)
        at.text_input(key="own_repeat").set_value(repeated)
        next(b for b in at.button if b.label == "Schimbă parola").click().run()
        assert not at.exception, at.exception

    change("greșită-de-tot", "o-parola-noua-42", "o-parola-noua-42")
    assert "parola de acum este greșită" in shown(at.error[0].value)
    change(PASSWORD, "o-parola-noua-42", "o-parola-noua-43")
    assert "parola nouă și repetarea ei diferă" in shown(at.error[0].value)
    change(PASSWORD, "scurtă", "scurtă")
    assert "cel puțin 10 caractere" in shown(at.error[0].value)
    assert _sign_in(demo, "agent1.roads") is not None  # nothing changed so far

    change(PASSWORD, "o-parola-noua-42", "o-parola-noua-42")
    assert not at.error and at.success[0].value == "Parola a fost schimbată."
    assert _sign_in(demo, "agent1.roads") is None
    assert _sign_in(demo, "agent1.roads", "o-parola-noua-42") is not None
    with demo.connect() as conn:
        assert not staff_sessions.alive(conn, clerk, elsewhere)  # the other device
        assert staff_sessions.alive(conn, clerk, at.session_state["staff_session"])
    at.run()
    assert at.session_state["user"] == clerk  # this tab: still signed in


def _failures(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT name_hash FROM sign_in_failures")).scalars())


def _sign_in_committed(engine, username: str, password: str, city: str = "lugoj"):
    with engine.begin() as conn:
        return auth.authenticate(conn, city, username, password)


def test_five_wrong_passwords_make_a_name_wait(demo):
    """Guessing is slowed down: after five wrong passwords in fifteen minutes
    the name is refused, even with the right password, for existing and
    unknown names alike (no hint which exist); what was typed as the name is
    never stored in clear."""
    for name in ("agent1.roads", "nobody.here"):
        for _ in range(auth.MAX_FAILURES):
            assert _sign_in_committed(demo, name, "greșită-de-tot") is None
        with pytest.raises(RateLimitError) as refused:
            _sign_in_committed(demo, name, PASSWORD)
        assert "5 parole greșite la rând" in refused.value.says("ro")
    assert all("agent1" not in h and "nobody" not in h for h in _failures(demo))
    # Another name, and the same name in another city, are not held back.
    assert _sign_in_committed(demo, "agent2.roads", PASSWORD) is not None
    assert _sign_in_committed(demo, "agent1.roads", PASSWORD, city="alba-iulia") is not None

    # Fifteen minutes later the name may try again; a success clears its count.
    with demo.begin() as conn:
        conn.execute(sa.text("UPDATE sign_in_failures SET failed_at = failed_at"
                             " - make_interval(mins => :w)"), {"w": auth.FAILURE_WINDOW_MINUTES})
    assert _sign_in_committed(demo, "agent1.roads", "greșită-de-tot") is None
    assert len(_failures(demo)) == 1  # the old ones went with the new failure
    assert _sign_in_committed(demo, "agent1.roads", PASSWORD) is not None
    assert _failures(demo) == []


def test_a_new_password_from_an_administrator_opens_the_way_at_once(demo):
    """The refusal says to ask an administrator for a new password: with it,
    the name no longer waits out the fifteen minutes (nor after create-admin)."""
    for _ in range(auth.MAX_FAILURES):
        assert _sign_in_committed(demo, "agent1.roads", "greșită-de-tot") is None
    with pytest.raises(RateLimitError):
        _sign_in_committed(demo, "agent1.roads", PASSWORD)
    admin.update_user(demo, load_user(demo, "admin"), "agent1.roads",
                      full_name="Agent Unu", role="staff", department="roads", active=True,
                      password="lampa-verde-rau-42")
    assert _sign_in_committed(demo, "agent1.roads", "lampa-verde-rau-42") is not None
    for _ in range(auth.MAX_FAILURES):
        assert _sign_in_committed(demo, "admin", "greșită-de-tot") is None
    with demo.begin() as conn:
        city_id = conn.execute(sa.text("SELECT city_id FROM cities WHERE slug = 'lugoj'")).scalar()
        auth.set_password(conn, city_id, "admin", "alt-cuvant-lung-7")
    assert _sign_in_committed(demo, "admin", "alt-cuvant-lung-7") is not None


def test_the_sign_in_page_says_when_a_name_must_wait(demo):
    at = run_app("login")
    at.selectbox(key="city").set_value("lugoj").run()
    at.text_input(key="login_user").set_value("agent1.roads")
    for _ in range(auth.MAX_FAILURES):
        at.text_input(key="login_password").set_value("greșită-de-tot")
        next(b for b in at.button if b.label == "Intră").click().run()
        assert shown(at.error[0].value) == "Utilizator sau parolă greșită."
    at.text_input(key="login_password").set_value(PASSWORD)
    next(b for b in at.button if b.label == "Intră").click().run()
    assert "încercați din nou peste 15 minute" in shown(at.error[0].value), at.error
    assert "user" not in at.session_state


def test_every_change_to_an_account_is_in_its_history(demo):
    """Who created or changed an account, when, and what: from the page, from
    "Contul meu" and from plain SQL alike; a password only as the fact."""
    boss = load_user(demo, "admin")
    admin.create_user(demo, boss, username="ana.pop", full_name="Ana Pop", role="staff",
                      department="roads", password="parola-anei-123")  # fmt: skip
    _change(demo, "ana.pop", role="dept_head", department="water", active=False)
    _change(demo, "ana.pop", active=True, password="alta-parola-123")
    with demo.begin() as conn:
        auth.change_own_password(conn, load_user(demo, "ana.pop"), "alta-parola-123",
                                 "a-treia-parola", "a-treia-parola")  # fmt: skip
    with demo.begin() as conn:  # plain SQL: no one named as acting
        conn.execute(sa.text("UPDATE users SET full_name = 'Ana Popa' WHERE username = 'ana.pop'"
                             " AND city_id = :c"), {"c": boss.city_id})  # fmt: skip
    history = admin.account_history(demo, boss, "ana.pop").iloc[::-1]  # oldest first
    assert list(history["kind"]) == ["created", "changed", "changed", "changed", "changed"]
    assert list(history["actor"].fillna("-")) == [
        "Administrator", "Administrator", "Administrator", "Ana Popa", "-"]
    changes = list(history["changes"])
    assert changes[0] == {"full_name": "Ana Pop", "role": "staff", "department": "roads",
                          "active": True, "password": True, "email": False}  # fmt: skip
    assert changes[1] == {"role": ["staff", "dept_head"], "department": ["roads", "water"],
                          "active": [True, False]}  # fmt: skip
    assert changes[2] == {"active": [False, True], "password": True}
    assert changes[3] == {"password": True}
    assert changes[4] == {"full_name": ["Ana Pop", "Ana Popa"]}
    with demo.connect() as conn:
        hashes = conn.execute(sa.text("SELECT password_hash FROM users")).scalars().all()
        events = conn.execute(sa.text("SELECT changes::text FROM account_events")).scalars().all()
    assert not any(h and h in e for h in hashes for e in events)
    # Another city's administrator does not read it.
    assert admin.account_history(demo, load_user(demo, "admin", "alba-iulia"), "ana.pop").empty


def test_the_page_shows_an_account_s_history_in_words(demo):
    _change(demo, "agent1.roads", role="dept_head", active=False, password="o-parola-noua-42")
    at = run_app("admin", user=load_user(demo, "admin"))
    at.selectbox(key="eu_pick").set_value("agent1.roads").run()
    table = next(f.value for f in at.dataframe if "Ce" in f.value.columns)
    assert table["Ce"].iloc[0] == ("Rol: Angajat → Șef de compartiment;"
                                   " Poate intra în aplicație: da → nu; parolă nouă")
    assert table["Cine"].iloc[0] == "Administrator"
    assert table["Ce"].iloc[-1].startswith("Cont creat; Rol: Angajat; Compartiment: Drumuri")
    assert table["Cine"].iloc[-1] == "Linia de comandă"  # the demo's loader


def test_only_an_administrator_stops_a_routing_rule_of_their_own_city(demo):
    head = load_user(demo, "admin")
    rule = admin.create_rule(demo, head, name="Groapă: spații verzi", category="pothole",
                             department="green")  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        admin.set_rule_active(demo, load_user(demo, "manager"), rule, False)
    with pytest.raises(NotFoundError, match="no routing rule 999999"):
        admin.set_rule_active(demo, head, 999999, False)
    other_city = load_user(demo, "admin", city="alba-iulia")
    with pytest.raises(NotFoundError):  # the same number is another city's rule, or none
        admin.set_rule_active(demo, other_city, rule, False)
    admin.set_rule_active(demo, head, rule, False)
    assert not admin.rules(demo, head).set_index("rule_id").at[rule, "active"]


def test_an_administrator_renames_a_department_and_a_category(demo):
    """Names are fixed on the Administration page (a typo needed SQL); the code
    stays. A name another department already has, or an over-long one, is
    refused and nothing changes."""
    at = run_app("admin", user=load_user(demo, "admin"))
    at.selectbox(key="rn_department").set_value("green").run()
    assert at.text_input(key="rn_department_ro_green").value == "Spații verzi"
    assert at.button(key="rn_department_save").disabled  # nothing changed yet
    at.text_input(key="rn_department_ro_green").set_value("Salubritate").run()
    at.button(key="rn_department_save").click().run()
    assert "'sanitation' are deja acest nume" in shown(at.error[0].value), at.error
    with pytest.raises(ValidationError, match="at most 200 characters"):  # the form stops at 200
        admin.rename(demo, load_user(demo, "admin"), "department", "green",
                     name_ro="x" * 201, name_en="Green")  # fmt: skip
    at.text_input(key="rn_department_ro_green").set_value("Spații verzi și parcuri").run()
    at.button(key="rn_department_save").click().run()
    assert at.success[0].value == "Salvat.", at.success
    table = next(f.value for f in at.dataframe if "Nume în română" in f.value.columns)
    assert table.set_index("Cod").at["green", "Nume în română"] == "Spații verzi și parcuri"
    at.selectbox(key="rn_category").set_value("pothole").run()
    at.text_input(key="rn_category_en_pothole").set_value("Road pothole").run()
    at.button(key="rn_category_save").click().run()
    assert at.success[0].value == "Salvat.", at.success
    with demo.connect() as conn:
        names = conn.execute(sa.text(
            "SELECT c.name_ro, c.name_en FROM categories c JOIN cities USING (city_id)"
            " WHERE slug = 'lugoj' AND code = 'pothole'"
        )).one()  # fmt: skip
    assert tuple(names) == ("Groapă în carosabil", "Road pothole")
    with pytest.raises(PermissionDeniedError):
        admin.rename(demo, load_user(demo, "manager"), "department", "green",
                     name_ro="X", name_en="X")  # fmt: skip
    with pytest.raises(NotFoundError):
        admin.rename(demo, load_user(demo, "admin"), "category", "nope", name_ro="X", name_en="X")


def test_a_new_department_s_over_long_name_is_refused_before_the_database(demo):
    with pytest.raises(ValidationError, match="at most 200 characters"):
        admin.create_department(demo, load_user(demo, "admin"), code="parks",
                                name_ro="P" * 201, name_en="Parks")  # fmt: skip


def test_a_form_that_made_something_starts_blank_and_keeps_no_password(demo):
    """After "Creat." the new-account form still held the name and the
    password just used (for the next account too), and the new-department
    form the code just taken; a refused attempt keeps what was typed."""
    at = run_app("admin", user=load_user(demo, "admin"))
    at.text_input(key="nd_code").set_value("parks")
    at.text_input(key="nd_name_ro").set_value("Parcuri")
    at.text_input(key="nd_name_en").set_value("Parks")
    next(b for b in at.button if b.proto.form_id == "new_department").click().run()
    assert at.success[0].value == "Creat.", at.error
    assert [at.text_input(key=k).value for k in ("nd_code", "nd_name_ro", "nd_name_en")] == [
        "", "", ""]

    def new_account(username: str) -> None:
        at.text_input(key="nu_username").set_value(username)
        at.text_input(key="nu_full_name").set_value("Ana Pop")
        at.selectbox(key="nu_role").set_value("staff")
        at.selectbox(key="nu_department").set_value("parks")
        at.text_input(key="nu_password").set_value("o-parola-lunga-42")
        next(b for b in at.button if b.proto.form_id == "new_user").click().run()

    new_account("Ana Pop")  # not a user name: refused, and kept to be corrected
    assert at.error and at.text_input(key="nu_username").value == "Ana Pop"
    new_account("ana.pop")
    assert at.success[0].value == "Creat.", at.error
    assert at.text_input(key="nu_username").value == ""
    assert at.text_input(key="nu_password").value == ""
    assert at.selectbox(key="nu_department").value is None
    assert _sign_in(demo, "ana.pop", "o-parola-lunga-42") is not None

    at.selectbox(key="eu_pick").set_value("ana.pop").run()
    at.text_input(key="eu_password_ana.pop").set_value("alta-parola-lunga-43")
    next(b for b in at.button if b.proto.form_id == "edit_user").click().run()
    assert at.success[0].value == "Salvat.", at.error
    assert at.text_input(key="eu_password_ana.pop").value == ""
    assert _sign_in(demo, "ana.pop", "alta-parola-lunga-43") is not None


@pytest.mark.parametrize("weak", ["1234567890", "aaaaaaaaaa", "weak2weak2", "Parola2026!",
                                  "0987654321", "qwertyuiop"])
def test_a_password_guessed_in_a_few_tries_is_refused(demo, weak):
    """Ten characters were the only rule: "1234567890" and "aaaaaaaaaa" made
    administrators."""
    from sesizari.errors import ValidationError

    head = load_user(demo, "admin")
    with pytest.raises(ValidationError, match="too easy to guess"):
        admin.create_user(demo, head, username="ana.weak", full_name="Ana Pop",
                          role="manager", department=None, password=weak)
    assert admin.create_user(demo, head, username="ana.weak", full_name="Ana Pop",
                             role="manager", department=None, password="lampa-verde-rau-42")

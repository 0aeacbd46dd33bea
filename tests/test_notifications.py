"""E-mails to reporters: what is queued, what the message says, delivery and retries.

A real SMTP server (aiosmtpd) on 127.0.0.1 receives the messages.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from sesizari import accountability, db
from sesizari.errors import ValidationError
from sesizari.incidents import (
    Actor,
    Contact,
    NewIncident,
    add_note,
    create_incident,
    perform,
    perform_in,
)
from sesizari.mailer import MailConfigError, SmtpMailer
from sesizari.notifications import MAX_ATTEMPTS, outbox_counts, outbox_problems, send_due
from sesizari.privacy import erase
from sesizari.tracking import track
from sesizari.vocab import Action
from tests.conftest import TEST_LAT, TEST_LON
from tests.mail_support import Inbox, smtp_inbox
from tests.mail_support import body as _body
from tests.mail_support import free_port as _free_port
from tests.mail_support import mail_settings as _settings

STAFF = Actor("tester")
MARIA = "maria.pop@example.ro"


@pytest.fixture
def inbox():
    with smtp_inbox() as received:
        yield received


def _send(engine, port: int, **kwargs):
    settings = _settings(port)
    with SmtpMailer(settings, timeout=5) as mailer:
        return send_due(engine, settings, mailer, **kwargs)


def _report(engine, email: str | None = MARIA, lang: str | None = None, **kwargs) -> str:
    contact = Contact(name="Maria Pop", phone="0711111111", email=email, consent=True, lang=lang)
    return create_incident(
        engine,
        NewIncident("testville", "pothole", TEST_LAT, TEST_LON, "Groapă mare", contact=contact,
                    **kwargs),
    ).registry_number


def _outbox(engine) -> list[tuple]:
    with engine.connect() as conn:
        return _outbox_in(conn)


def _outbox_in(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.text(
            "SELECT i.registry_number, e.kind, n.status, n.attempts, n.last_error"
            " FROM notifications n JOIN incident_events e USING (city_id, event_id)"
            " JOIN incidents i ON i.city_id = n.city_id AND i.incident_id = n.incident_id"
            " ORDER BY n.notification_id"
    ))]


def test_the_reporter_gets_the_number_once(engine, city, inbox):
    number = _report(engine)
    assert _outbox(engine) == [(number, "created", "pending", 0, None)]
    report = _send(engine, inbox.port)
    assert (report.sent, report.retry, report.failed, report.skipped) == (1, 0, 0, 0)
    assert str(report) == "sent 1, will retry 0, failed 0, skipped 0"
    [message] = inbox.messages
    assert message["To"] == MARIA
    assert message["From"] == "Sesizări Testville <sesizari@testville.ro>"
    assert message["Subject"] == f"Sesizarea nr. {number} a fost înregistrată"
    assert message["Auto-Submitted"] == "auto-generated"
    body = _body(message)
    assert f"Sesizarea dumneavoastră nr. {number} (Groapă) a fost înregistrată la" in body
    assert "Se ocupă de ea: Drumuri." in body
    assert f"Your report {number} (Pothole) has been registered on" in body
    assert "It is handled by: Roads." in body
    assert f"https://sesizari.testville.ro/track?id={number}" in body
    # the term ends at local midnight: its last minute, as the tracking page says it
    due = (track(engine, number)["legal_due_at"] - timedelta(minutes=1)).astimezone(
        ZoneInfo("Europe/Bucharest"))
    assert due.strftime("%H:%M") == "23:59"
    assert f"Termenul legal de răspuns (OG 27/2002): {due:%d.%m.%Y %H:%M}." in body
    assert f"The legal reply deadline (OG 27/2002): {due:%d.%m.%Y %H:%M}." in body
    # no fixed reports like it yet: the category's target (72 h), not a made-up history
    assert "se rezolvă în" not in body
    assert "Termenul de rezolvare al categoriei: 3 zile." in body
    assert "The category's target time to fix: 3 days." in body
    # the reporter's own words and personal data are not repeated back
    assert "Groapă mare" not in body and "0711111111" not in body and "Maria" not in body
    again = _send(engine, inbox.port)
    assert again.sent == 0 and len(inbox.messages) == 1
    assert _outbox(engine) == [(number, "created", "sent", 1, None)]


def test_the_reporter_is_written_to_in_the_language_they_reported_in(engine, city, inbox):
    english = _report(engine, lang="en")
    romanian = _report(engine, lang="ro")
    perform(engine, "testville", english, Action.RESOLVE, STAFF, text="Filled with asphalt")
    assert _send(engine, inbox.port).sent == 3
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == [f"Report {english} has been registered",
                        f"Sesizarea nr. {romanian} a fost înregistrată",
                        f"Report {english} has been resolved"]
    receipt, ro_receipt, resolved = (_body(m) for m in inbox.messages)
    assert f"Your report {english} (Pothole) has been registered on" in receipt
    assert "It is handled by: Roads." in receipt and "Stop the e-mails" in receipt
    assert "Sesizarea" not in receipt and "English" not in receipt
    assert "How it was fixed:\nFilled with asphalt" in resolved and "Cum a fost" not in resolved
    assert f"Sesizarea dumneavoastră nr. {romanian} (Groapă)" in ro_receipt
    assert "Your report" not in ro_receipt and "English" not in ro_receipt
    with pytest.raises(ValidationError, match="unknown language 'de'"):
        _report(engine, lang="de")


def test_which_events_write_to_the_reporter(engine, city, inbox):
    silent = _report(engine, email=None)  # a phone number only: nobody to write to
    number = _report(engine)
    perform(engine, "testville", number, Action.ACKNOWLEDGE, STAFF)
    add_note(engine, "testville", number, STAFF, "intern: echipa 2")
    add_note(engine, "testville", number, STAFF, "Lucrările încep luni", public=True)
    perform(engine, "testville", number, Action.RESOLVE, STAFF, text="Plombat cu asfalt la cald")
    kinds = [(n, kind) for n, kind, *_ in _outbox(engine)]
    assert kinds == [(number, kind) for kind in
                     ("created", "acknowledged", "public_update", "resolved")]
    assert silent not in {n for n, _ in kinds}
    assert _send(engine, inbox.port).sent == 4
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == [f"Sesizarea nr. {number} {what}" for what in (
        "a fost înregistrată", "a fost preluată", "are o actualizare", "a fost rezolvată")]
    assert "Mesajul primăriei:\nLucrările încep luni" in _body(inbox.messages[2])
    resolved = _body(inbox.messages[3])
    assert "Cum a fost rezolvată:\nPlombat cu asfalt la cald" in resolved
    assert "How it was fixed:\nPlombat cu asfalt la cald" in resolved
    assert "echipa 2" not in "".join(_body(m) for m in inbox.messages)


def test_the_reporters_own_verdict_and_a_rolled_back_change_write_nothing(engine, city, inbox):
    created = create_incident(engine, NewIncident(
        "testville", "pothole", TEST_LAT, TEST_LON, "Groapă",
        contact=Contact(email=MARIA, consent=True), want_pin=True,
    ))
    number = created.registry_number
    perform(engine, "testville", number, Action.RESOLVE, STAFF, text="Plombat")
    assert _send(engine, inbox.port).sent == 2
    resolved = _body(inbox.messages[-1])
    assert ("Nu este rezolvată? Spuneți-ne pe pagina de urmărire în 14 zile, cu PIN-ul primit"
            " la înregistrare: sesizarea se redeschide.") in resolved
    assert created.pin not in resolved  # the PIN is the reporter's secret, never mailed
    accountability.dispute_fix(engine, number, created.pin, "Nu e reparată")
    kinds = [kind for _, kind, *_ in _outbox(engine)]
    assert kinds == ["created", "resolved"]  # not the dispute, not the reopen it causes
    with engine.connect() as conn, conn.begin() as tx:
        perform_in(conn, "testville", number, Action.START, STAFF)
        assert len(_outbox_in(conn)) == 3  # written with the event...
        tx.rollback()  # ...and gone with it
    assert [kind for _, kind, *_ in _outbox(engine)] == ["created", "resolved"]


def test_history_is_not_news(engine, city):
    old = datetime.now(UTC) - timedelta(days=3)
    number = _report(engine, created_at=old)
    perform(engine, "testville", number, Action.RESOLVE, STAFF, text="Plombat",
            at=old + timedelta(hours=5))
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL sesizari.notify = 'off'"))
        perform_in(conn, "testville", number, Action.CLOSE, STAFF)
    assert _outbox(engine) == []
    perform(engine, "testville", number, Action.REOPEN, STAFF, text="Din nou")
    assert [kind for _, kind, *_ in _outbox(engine)] == ["reopened"]


def test_a_later_deadline_a_forward_and_a_duplicate_say_what_they_mean(engine, city, inbox):
    from sesizari import auth, catalog

    with engine.begin() as conn:
        catalog.create_user(conn, city["city_id"], username="sef", full_name="Șef", role="admin")
        boss = auth.load_user(conn, "testville", "sef")
    original = _report(engine)
    later = _report(engine)
    due = accountability.extend_deadline(engine, boss, later, "Necesită aviz de la ISU")
    elsewhere = _report(engine)
    accountability.forward(engine, boss, elsewhere, "Compania de apă Aquatim")
    again = _report(engine)
    perform(engine, "testville", again, Action.MARK_DUPLICATE, STAFF, duplicate_of=original)
    _send(engine, inbox.port)
    by_subject = {m["Subject"]: _body(m) for m in inbox.messages}
    extended = by_subject[f"Sesizarea nr. {later} are un termen de răspuns prelungit"]
    local_due = (due - timedelta(minutes=1)).astimezone(ZoneInfo("Europe/Bucharest")).strftime(
        "%d.%m.%Y %H:%M")
    assert local_due.endswith("23:59")
    assert f"Noul termen de răspuns: {local_due}.\n\nMotivul:\nNecesită aviz de la ISU" in extended
    assert f"The new reply deadline: {local_due}." in extended
    forwarded = by_subject[f"Sesizarea nr. {elsewhere} a fost trimisă altei instituții"]
    assert "Instituția:\nCompania de apă Aquatim" in forwarded
    joined = by_subject[f"Sesizarea nr. {again} a fost unită cu o sesizare anterioară"]
    assert f"fusese semnalată în sesizarea nr. {original}; urmăriți-o pe aceea." in joined
    assert f"The same problem was reported in {original}; follow that report." in joined


def test_staff_text_that_looks_personal_stays_out(engine, city, inbox):
    number = _report(engine)
    perform(engine, "testville", number, Action.REJECT, STAFF,
            text="Vecinul Ion Pop, tel. 0722 333 444, a reparat deja")
    _send(engine, inbox.port)
    rejected = _body(inbox.messages[-1])
    assert "0722 333 444" not in rejected and "Ion Pop" not in rejected
    assert "Motivul:\nTextul conține date personale și nu este trimis prin e-mail" in rejected
    assert "The reason:\nThe text holds personal data and is not sent by e-mail" in rejected


def test_a_server_that_is_down_is_tried_again_later(engine, city, inbox):
    number = _report(engine)
    down = _free_port()  # nothing listens there
    first = _send(engine, down)
    assert (first.sent, first.retry) == (0, 1)
    [(_, _, status, attempts, error)] = _outbox(engine)
    assert (status, attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in error
    assert _send(engine, inbox.port).sent == 0  # not due before 5 minutes
    later = datetime.now(UTC) + timedelta(minutes=6)
    assert _send(engine, inbox.port, now=later).sent == 1
    assert inbox.messages[0]["Subject"].startswith(f"Sesizarea nr. {number}")
    assert _outbox(engine)[0][2:4] == ("sent", 2)


def test_a_message_is_given_up_after_the_last_attempt(engine, city):
    _report(engine)
    down = _free_port()
    now = datetime.now(UTC)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        now += timedelta(days=1)
        report = _send(engine, down, now=now)
        assert (report.retry, report.failed) == ((1, 0) if attempt < MAX_ATTEMPTS else (0, 1))
    assert _outbox(engine)[0][2:4] == ("failed", MAX_ATTEMPTS)
    assert outbox_counts(engine, "testville") == {
        "pending": 0, "sent": 0, "failed": 1, "skipped": 0,
    }


def test_a_refused_address_fails_and_is_not_kept(engine, city, inbox):
    inbox.refuse.add("Nobody@Example.ro")
    number = _report(engine, email="Nobody@Example.ro")
    report = _send(engine, inbox.port)
    assert (report.sent, report.failed) == (0, 1)
    [(_, _, status, attempts, error)] = _outbox(engine)
    assert (status, attempts) == ("failed", 1)
    assert "550" in error and "<adresa>" in error
    assert "nobody@example.ro" not in error.lower()
    problems = outbox_problems(engine, "testville")
    assert list(problems["registry_number"]) == [number]
    assert "example.ro" not in problems.to_csv()


def test_an_erased_contact_is_not_written_to(engine, city, inbox, tmp_path):
    number = _report(engine)
    erase(engine, "testville", number, by="DPO", journal=tmp_path / "erasures.jsonl")
    report = _send(engine, inbox.port)
    assert (report.sent, report.skipped) == (0, 1)
    assert inbox.messages == []
    assert _outbox(engine)[0][2] == "skipped"


def test_a_refused_login_stops_the_run_and_costs_no_attempt(engine, city):
    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    controller = Controller(Inbox(), hostname="127.0.0.1", port=_free_port(),
                            authenticator=refuse, auth_require_tls=False)
    controller.start()
    try:
        _report(engine)
        settings = _settings(controller.port, smtp_user="sesizari", smtp_password="wrong")
        with SmtpMailer(settings, timeout=5) as mailer, pytest.raises(
            MailConfigError, match="refused the login: check SESIZARI_SMTP_USER"
        ):
            send_due(engine, settings, mailer)
    finally:
        controller.stop()
    assert _outbox(engine)[0][2:4] == ("pending", 0)


@pytest.mark.parametrize(
    "address", ["maria@example", "maria pop@example.ro", "a@b.ro, c@d.ro", "a@b.ro\nBcc: c@d.ro"]
)
def test_an_address_the_city_cannot_write_to_is_refused_at_the_door(engine, city, address):
    with pytest.raises(ValidationError, match="not a valid e-mail address"):
        _report(engine, email=address)


def test_the_command_line(engine, city, inbox, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from sesizari.cli import app

    number = _report(engine)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    for name in ("SESIZARI_SMTP_HOST", "SESIZARI_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    db._engine_for.cache_clear()
    runner = CliRunner()
    try:
        unset = runner.invoke(app, ["notify", "send"])
        monkeypatch.setenv("SESIZARI_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SESIZARI_SMTP_PORT", str(inbox.port))
        monkeypatch.setenv("SESIZARI_SMTP_SECURITY", "none")
        monkeypatch.setenv("SESIZARI_MAIL_FROM", "sesizari@testville.ro")
        sent = runner.invoke(app, ["notify", "send", "--city", "testville"])
        status = runner.invoke(app, ["notify", "status", "--city", "testville"])
        typo = runner.invoke(app, ["notify", "send", "--city", "testvile"])
    finally:
        db.get_engine().dispose()
        db._engine_for.cache_clear()
    assert unset.exit_code == 1
    assert "no mail server: set SESIZARI_SMTP_HOST and SESIZARI_MAIL_FROM" in unset.output
    assert sent.exit_code == 0, sent.output
    assert "sent 1, will retry 0, failed 0, skipped 0" in sent.output
    assert MARIA not in sent.output
    assert "pending 0, sent 1, failed 0, skipped 0" in status.output
    assert typo.exit_code == 1 and "No city 'testvile'; known cities: testville" in typo.output
    assert inbox.messages[0]["Subject"] == f"Sesizarea nr. {number} a fost înregistrată"
    # without a public address, the message gives the number, not a link
    assert "/track?id=" not in _body(inbox.messages[0])


@pytest.fixture
def lugoj(demo, monkeypatch: pytest.MonkeyPatch):
    """The demo database, for the pages, with no mail server configured."""
    for name in ("SESIZARI_SMTP_HOST", "SESIZARI_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    return demo


def test_the_incident_page_says_whether_the_reporter_was_told(lugoj, inbox):
    from tests.apptest_support import load_user, run_app

    number = create_incident(lugoj, NewIncident(
        "lugoj", "pothole", 45.6887, 21.9035, "Groapă", contact=Contact(email=MARIA, consent=True),
    )).registry_number
    _send(lugoj, inbox.port, city="lugoj")
    perform(lugoj, "lugoj", number, Action.ACKNOWLEDGE, STAFF)
    add_note(lugoj, "lugoj", number, STAFF, "intern")
    with lugoj.connect() as conn:
        sent_at = conn.execute(sa.text("SELECT sent_at FROM notifications WHERE status = 'sent'"))
        local = sent_at.scalar_one().astimezone(ZoneInfo("Europe/Bucharest"))
    at = run_app("incident", user=load_user(lugoj, "admin"), id=number)
    [history] = [d.value for d in at.dataframe if "E-mail către reclamant" in d.value.columns]
    assert list(history["E-mail către reclamant"]) == [
        f"Trimis la {local:%d.%m.%Y %H:%M}", "De trimis", "",
    ]


def test_the_demo_history_queues_nothing_and_the_administrator_sees_the_outbox(lugoj, inbox):
    from tests.apptest_support import load_user, run_app, shown

    engine = lugoj
    head = load_user(engine, "admin")
    assert outbox_counts(engine, "lugoj") == dict.fromkeys(
        ("pending", "sent", "failed", "skipped"), 0)  # 20,000 demo reports: history
    inbox.refuse.add("gresit@example.ro")

    def report(email: str) -> str:
        return create_incident(engine, NewIncident(
            "lugoj", "pothole", 45.6887, 21.9035, "Groapă",
            contact=Contact(email=email, consent=True),
        )).registry_number

    report(MARIA)
    refused = report("gresit@example.ro")
    assert _send(engine, inbox.port, city="lugoj").failed == 1
    report(MARIA)  # waits
    at = run_app("admin", user=head)
    ro = {m.label: m.value for m in at.metric}
    english = run_app(user=head)  # the landing page runs in Romanian (see test_pages)
    english.query_params["lang"] = "en"
    en = {m.label: m.value for m in english.switch_page("views/admin.py").run().metric}
    # The demo's three e-mails wait at the dispatcher's desk (sesizari.inbox).
    assert ro == {"De trimis": "1", "Trimise": "1", "Eșuate": "1", "Fără adresă": "0",
                  "De înregistrat": "3", "Înregistrate ca sesizări": "0", "Puse deoparte": "0"}
    assert en == {"To send": "1", "Sent": "1", "Failed": "1", "No address": "0",
                  "To file": "3", "Filed as reports": "0", "Set aside": "0"}
    assert any(c.value.startswith("Ultimul importat din căsuța primăriei: ") for c in at.caption)
    assert any("Setați SESIZARI_SMTP_HOST, SESIZARI_MAIL_FROM" in shown(w.value)
               for w in at.warning)
    [problems] = [d.value for d in at.dataframe if "Încercări" in d.value.columns]
    assert list(problems["Număr"]) == [refused]
    assert list(problems["Despre"]) == ["Înregistrată"]
    assert list(problems["Către"]) == ["Reclamant"]
    assert list(problems["Stare"]) == ["Eșuat"]
    assert "550" in problems["Răspunsul serverului"].iloc[0]
    assert "gresit" not in problems.to_csv()


@pytest.fixture
def city_admin(engine, city):
    from sesizari import auth, catalog

    with engine.begin() as conn:
        catalog.create_user(conn, city["city_id"], username="sef", full_name="Șef", role="admin")
        return auth.load_user(conn, "testville", "sef")


def test_the_department_is_told_of_a_report_routed_to_it(engine, city, city_admin, inbox):
    from sesizari import admin
    from sesizari.incidents import get_events, reroute

    admin.set_department_email(engine, city_admin, "roads", " drumuri@testville.ro ")
    admin.set_department_email(engine, city_admin, "lighting", "iluminat@testville.ro")
    number = create_incident(engine, NewIncident(
        "testville", "pothole", TEST_LAT, TEST_LON, "Groapă adâncă lângă trecere",
        address="Str. Bucegi 12",
        contact=Contact(name="Maria Pop", phone="0711111111", consent=True),
    )).registry_number
    private = create_incident(engine, NewIncident(
        "testville", "pothole", TEST_LAT, TEST_LON, "Sunați-mă la 0722 333 444",
    )).registry_number
    create_incident(engine, NewIncident(  # another system's record: no message
        "testville", "pothole", TEST_LAT, TEST_LON, "Import", channel="feed",
        source="registru", external_id="17",
    ))
    assert _send(engine, inbox.port).sent == 2
    first, second = inbox.messages
    assert first["To"] == "drumuri@testville.ro"
    assert first["Subject"] == f"Sesizare nouă nr. {number}: Groapă"
    body = _body(first)
    assert f"Sesizarea nr. {number} (Groapă) a fost repartizată compartimentului Drumuri" in body
    assert "Adresa: Str. Bucegi 12" in body
    assert f"Locul: {TEST_LAT:.6f}, {TEST_LON:.6f}" in body
    assert "Descrierea:\nGroapă adâncă lângă trecere" in body
    assert f"https://sesizari.testville.ro/incident?id={number}" in body
    assert f"Report {number} (Pothole) has been routed to Roads" in body
    assert "Maria" not in body and "0711111111" not in body  # never the reporter's details
    withheld = _body(second)
    assert second["Subject"] == f"Sesizare nouă nr. {private}: Groapă"
    assert "0722 333 444" not in withheld
    assert "Descrierea:\nDescrierea pare să conțină date personale; o citiți în aplicație." in (
        withheld)
    reroute(engine, "testville", number, STAFF, reason="E un stâlp", category="street_light")
    assert _send(engine, inbox.port).sent == 1
    moved = inbox.messages[-1]
    assert moved["To"] == "iluminat@testville.ro"
    assert moved["Subject"] == f"Sesizare redirecționată nr. {number}: Iluminat"
    assert "a fost redirecționată către compartimentul Iluminat" in _body(moved)
    # the staff's history shows each event once, and no reporter's e-mail
    with engine.connect() as conn:
        events = get_events(conn, "testville", number)
    assert [(e["kind"], e["mail_status"]) for e in events] == [
        ("created", None), ("rerouted", None)]


def test_a_department_s_address_is_checked(engine, city, city_admin):
    from sesizari import admin

    for bad in ("drumuri", "a@b.ro, c@d.ro", "drumuri @primarie.ro"):
        with pytest.raises(ValidationError, match="is not a valid e-mail address") as caught:
            admin.set_department_email(engine, city_admin, "roads", bad)
        assert "nu este o adresă de e-mail validă" in caught.value.says("ro")
    with pytest.raises(sa.exc.IntegrityError, match="departments_email_check"), engine.begin() as c:
        c.execute(sa.text("UPDATE departments SET email = 'x@y.ro\nBcc: z@w.ro'"))
    admin.set_department_email(engine, city_admin, "roads", "drumuri@testville.ro")
    admin.set_department_email(engine, city_admin, "roads", "  ")  # empty: no messages
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(email) FROM departments")).scalar_one() == 0


def test_the_administrator_sets_a_department_s_mailbox(lugoj):
    from tests.apptest_support import load_user, run_app, shown

    at = run_app("admin", user=load_user(lugoj, "admin"))
    at.selectbox(key="dm_department").select("roads").run()
    at.text_input(key="dm_email_roads").input("drumuri@primarialugoj.ro").run()
    at.button(key="dm_save").click().run()
    assert not at.exception
    with lugoj.connect() as conn:
        emails = dict(conn.execute(sa.text(
            "SELECT d.code, d.email FROM departments d JOIN cities c USING (city_id)"
            " WHERE c.slug = 'lugoj' AND d.email IS NOT NULL")).all())
    assert emails == {"roads": "drumuri@primarialugoj.ro"}
    at.text_input(key="dm_email_roads").input("drumuri").run()
    at.button(key="dm_save").click().run()
    errors = [shown(e.value) for e in at.error]
    assert "Eroare: e-mailul: 'drumuri' nu este o adresă de e-mail validă" in errors[0]


def test_a_report_moved_on_before_sending_still_names_the_department_told(
    engine, city, city_admin, inbox
):
    from sesizari import admin
    from sesizari.incidents import reroute

    admin.set_department_email(engine, city_admin, "roads", "drumuri@testville.ro")
    number = _report(engine, email=None)
    reroute(engine, "testville", number, STAFF, reason="E un stâlp", category="street_light")
    _send(engine, inbox.port)
    [message] = inbox.messages  # lighting has no mailbox
    assert message["To"] == "drumuri@testville.ro"
    assert "a fost repartizată compartimentului Drumuri la" in _body(message)


def test_the_sender_as_a_service_outlives_a_database_that_is_down(tmp_path):
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import REPO

    env = {**os.environ, "SESIZARI_SMTP_HOST": "127.0.0.1", "SESIZARI_MAIL_FROM": "s@t.ro",
           "DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{_free_port()}/none"}
    once = subprocess.run([sys.executable, "-m", "sesizari", "notify", "send"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert once.returncode == 1
    assert "Error: the database cannot be reached" in once.stderr
    err = tmp_path / "err.txt"
    with err.open("w") as sink:
        service = subprocess.Popen(
            [sys.executable, "-m", "sesizari", "notify", "send", "--every", "0.2"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=sink,
        )
        try:
            deadline = time.monotonic() + 30
            while err.read_text().count("database unreachable") < 2:
                assert service.poll() is None, err.read_text()  # still running
                assert time.monotonic() < deadline, err.read_text()
                time.sleep(0.2)
        finally:
            service.terminate()
            service.wait(10)
    assert "database unreachable, next round in 0.2 s" in err.read_text()


def test_the_person_a_report_is_given_to_is_told(engine, city, city_admin, inbox):
    from sesizari import admin
    from sesizari.incidents import assign

    admin.update_user(engine, city_admin, "ana", full_name="Ana", role="staff",
                      department="roads", active=True, email="ana@testville.ro")
    admin.update_user(engine, city_admin, "ion", full_name="Ion", role="staff",
                      department="lighting", active=True, email="ion@testville.ro")
    admin.create_rule(engine, city_admin, name="Gropi: Ana", category="pothole",
                      department="roads", assignee="ana")
    ruled = _report(engine, email=None)  # the rule gives it to Ana
    ana = Actor("ana", _user_id(engine, "ana"))
    assign(engine, "testville", ruled, "ana", ana)  # her own doing: no message
    light = create_incident(engine, NewIncident(
        "testville", "street_light", TEST_LAT, TEST_LON, "Stâlp stins")).registry_number
    assign(engine, "testville", light, "ion", STAFF)  # a colleague gives it to Ion
    assert _send(engine, inbox.port).sent == 2
    to_ana, to_ion = inbox.messages
    assert to_ana["To"] == "ana@testville.ro"
    assert to_ana["Subject"] == f"Sesizare dată dumneavoastră nr. {ruled}: Groapă"
    body = _body(to_ana)
    assert (f"Sesizarea nr. {ruled} (Groapă), din compartimentul Drumuri, v-a fost dată la"
            in body)
    assert f"Report {ruled} (Pothole), of Roads, has been given to you on" in body
    assert "Responsabil:" not in body  # it is the reader
    assert f"https://sesizari.testville.ro/incident?id={ruled}" in body
    assert to_ion["To"] == "ion@testville.ro"
    assert to_ion["Subject"] == f"Sesizare dată dumneavoastră nr. {light}: Iluminat"
    # an account disabled before its message left is not written to
    assign(engine, "testville", light, "ion", STAFF)
    admin.update_user(engine, city_admin, "ion", full_name="Ion", role="staff",
                      department="lighting", active=False)
    report = _send(engine, inbox.port)
    assert (report.sent, report.skipped) == (0, 1)
    assert _outbox(engine)[-1][2:] == ("skipped", 0, "no address (removed, or the account"
                                       " disabled)")


def _user_id(engine, username: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT user_id FROM users WHERE username = :u"),
                            {"u": username}).scalar_one()


def test_a_staff_address_is_checked_and_its_history_keeps_no_address(engine, city, city_admin):
    from sesizari import admin

    with pytest.raises(ValidationError, match="is not a valid e-mail address"):
        admin.create_user(engine, city_admin, username="dan", full_name="Dan", role="staff",
                          department="roads", password="o-parola-lunga-42", email="dan@")
    admin.create_user(engine, city_admin, username="dan", full_name="Dan", role="staff",
                      department="roads", password="o-parola-lunga-42", email="dan@t.ro")
    keep = dict(full_name="Dan", role="staff", department="roads", active=True)
    admin.update_user(engine, city_admin, "dan", **keep)  # None keeps the address
    assert admin.user(engine, city_admin, "dan")["email"] == "dan@t.ro"
    admin.update_user(engine, city_admin, "dan", **keep, email=" dan.pop@t.ro ")
    assert admin.user(engine, city_admin, "dan")["email"] == "dan.pop@t.ro"
    admin.update_user(engine, city_admin, "dan", **keep, email="")  # empty removes it
    assert admin.user(engine, city_admin, "dan")["email"] is None
    history = admin.account_history(engine, city_admin, "dan")
    changes = [c for c in history["changes"]]
    assert changes[0] == {"email": True} and changes[1] == {"email": True}
    assert changes[2]["email"] is True  # created with an address
    assert "t.ro" not in history.to_csv()
    with pytest.raises(sa.exc.IntegrityError, match="users_email_check"), engine.begin() as c:
        c.execute(sa.text("UPDATE users SET email = 'a@b.ro, c@d.ro' WHERE username = 'dan'"))


def test_the_administrator_gives_an_account_its_address(lugoj):
    from tests.apptest_support import load_user, run_app

    head = load_user(lugoj, "admin")
    at = run_app("admin", user=head)
    at.selectbox(key="eu_pick").select("agent1.roads").run()
    at.text_input(key="eu_email_agent1.roads").input("ion.agent@primarialugoj.ro")
    [save] = [b for b in at.button if b.label == "Salvează contul"]
    save.click().run()
    assert not at.exception
    from sesizari import admin

    assert admin.user(lugoj, head, "agent1.roads")["email"] == "ion.agent@primarialugoj.ro"
    history = [d.value for d in at.dataframe if "Ce" in d.value.columns][-1]
    assert "adresă de e-mail nouă" in history["Ce"].iloc[0]
    assert "primarialugoj" not in history.to_csv()


def test_the_receipt_gives_the_estimate_in_words():
    from sesizari.notices import _duration

    assert [_duration(h, 0) for h in (0.2, 1, 18, 24, 47.4, 48, 84, 24 * 21)] == [
        "1 oră", "1 oră", "18 ore", "24 de ore", "47 de ore", "2 zile", "3,5 zile",
        "21 de zile"]
    assert [_duration(h, 1) for h in (1, 18, 48, 84)] == [
        "1 hour", "18 hours", "2 days", "3.5 days"]


def test_the_receipt_gives_the_estimate_when_there_is_one(lugoj, inbox):
    number = create_incident(lugoj, NewIncident(
        "lugoj", "pothole", 45.6887, 21.9035, "Groapă", contact=Contact(email=MARIA, consent=True),
    ))
    assert number.expected_hours_p50 is not None  # the demo's history gives one
    _send(lugoj, inbox.port, city="lugoj")
    body = _body(inbox.messages[0])
    assert "Jumătate din sesizările similare se rezolvă în " in body
    assert "Half of similar reports are fixed within " in body


def test_the_reporter_stops_the_e_mails_with_their_pin(engine, city, inbox, tmp_path,
                                                       monkeypatch):  # fmt: skip
    from sesizari.erasure_log import journal_path
    from sesizari.privacy import stop_emails

    monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path))

    created = create_incident(engine, NewIncident(
        "testville", "pothole", TEST_LAT, TEST_LON, "Groapă",
        contact=Contact(name="Maria Pop", email=MARIA, consent=True), want_pin=True,
    ))
    number = created.registry_number
    with pytest.raises(ValidationError, match="wrong PIN"):
        stop_emails(engine, number, "000000" if created.pin != "000000" else "111111")
    assert stop_emails(engine, number, created.pin) is True
    assert stop_emails(engine, number, created.pin) is False  # nothing left to remove
    report = _send(engine, inbox.port)
    assert (report.sent, report.skipped) == (0, 1) and inbox.messages == []
    perform(engine, "testville", number, Action.ACKNOWLEDGE, STAFF)
    assert [k for _, k, *_ in _outbox(engine)] == ["created"]  # nothing more is queued
    with engine.connect() as conn:
        contact = conn.execute(sa.text("SELECT name, email FROM incident_contacts")).one()
        erased = conn.execute(sa.text(
            "SELECT actor_label, data FROM incident_events WHERE kind = 'erased'")).all()
        failures = conn.execute(sa.text("SELECT pin_failures FROM incidents")).scalar_one()
    assert tuple(contact) == ("Maria Pop", None)  # only the address goes
    assert [tuple(e) for e in erased] == [("reporter", {"why": "reporter", "removed": ["email"]})]
    assert failures == 1
    [line] = journal_path().read_text().splitlines()  # once: the second call removed nothing
    assert json.loads(line)["scope"] == "email" and MARIA not in line


def test_the_tracking_page_stops_the_e_mails(lugoj, tmp_path, monkeypatch):
    from sesizari.erasure_log import journal_path
    from tests.apptest_support import run_app, shown

    monkeypatch.setenv("SESIZARI_DATA_DIR", str(tmp_path))

    created = create_incident(lugoj, NewIncident(
        "lugoj", "pothole", 45.6887, 21.9035, "Groapă",
        contact=Contact(email=MARIA, consent=True), want_pin=True,
    ))
    at = run_app("track", id=created.registry_number)
    assert any(e.label == "Nu mai doriți e-mailuri despre această sesizare?" for e in at.expander)
    at.text_input(key="stop_pin").input(created.pin)
    [stop] = [b for b in at.button if b.label == "Nu mai trimiteți e-mailuri"]
    stop.click().run()
    assert not at.exception
    assert [shown(s.value) for s in at.success] == [
        "Adresa de e-mail a fost ștearsă: nu vă mai scriem despre această sesizare."]
    with lugoj.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT c.email FROM incident_contacts c JOIN incidents i USING (city_id, incident_id)"
            " WHERE i.registry_number = :n"), {"n": created.registry_number}).scalar_one() is None
    assert json.loads(journal_path().read_text())["number"] == created.registry_number


@pytest.fixture
def tls_inbox(tmp_path):
    """A mail server that takes messages only over STARTTLS, with a certificate
    from a throw-away authority (``ca.pem``)."""
    import ssl

    import trustme

    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(),
                            tls_context=context, require_starttls=True)
    controller.start()
    handler.port = controller.port
    handler.ca_file = tmp_path / "ca.pem"
    yield handler
    controller.stop()


def test_starttls_to_a_server_the_machine_trusts(engine, city, tls_inbox, monkeypatch):
    number = _report(engine)
    settings = _settings(tls_inbox.port, smtp_security="starttls")
    # an unknown authority: the run stops, the message waits untouched
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_inbox.ca_file.with_name("none.pem")))
    with SmtpMailer(settings, timeout=5) as mailer, pytest.raises(
        MailConfigError, match="cannot protect the connection as SESIZARI_SMTP_SECURITY=starttls"
    ):
        send_due(engine, settings, mailer)
    assert _outbox(engine)[0][2:4] == ("pending", 0)
    # the city's own authority, named the standard way (SSL_CERT_FILE)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_inbox.ca_file))
    with SmtpMailer(settings, timeout=5) as mailer:
        assert send_due(engine, settings, mailer).sent == 1
    assert tls_inbox.messages[0]["Subject"] == f"Sesizarea nr. {number} a fost înregistrată"


def test_a_server_that_requires_tls_stops_a_plain_text_run(engine, city, tls_inbox):
    _report(engine)
    settings = _settings(tls_inbox.port)  # security "none"
    with SmtpMailer(settings, timeout=5) as mailer, pytest.raises(
        MailConfigError, match=r"asks for encryption or a login first \(530 Must issue a STARTTLS"
        r" command first\): check SESIZARI_SMTP_SECURITY"
    ):
        send_due(engine, settings, mailer)
    assert _outbox(engine)[0][2:4] == ("pending", 0)  # no attempt counted against it


def test_the_command_line_sends_a_test_message(inbox, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from sesizari.cli import app

    for name, value in (("SESIZARI_SMTP_HOST", "127.0.0.1"),
                        ("SESIZARI_SMTP_PORT", str(inbox.port)),
                        ("SESIZARI_SMTP_SECURITY", "none"),
                        ("SESIZARI_MAIL_FROM", "sesizari@testville.ro")):
        monkeypatch.setenv(name, value)
    inbox.refuse.add("nimeni@testville.ro")
    runner = CliRunner()
    sent = runner.invoke(app, ["notify", "test", "admin@testville.ro"])
    refused = runner.invoke(app, ["notify", "test", "nimeni@testville.ro"])
    bad = runner.invoke(app, ["notify", "test", "admin"])
    monkeypatch.setenv("SESIZARI_SMTP_PORT", str(_free_port()))
    down = runner.invoke(app, ["notify", "test", "admin@testville.ro"])
    assert sent.exit_code == 0, sent.output
    assert f"sent to 127.0.0.1:{inbox.port} (none)" in sent.output
    [message] = inbox.messages
    assert message["To"] == "admin@testville.ro"
    assert message["Subject"] == "Sesizări: mesaj de probă"
    assert message["From"] == "Sesizări <sesizari@testville.ro>"
    assert refused.exit_code == 1 and "not sent: recipient refused: 550" in refused.output
    assert "nimeni@" not in refused.output and "<adresa>" in refused.output
    assert bad.exit_code == 1 and "'admin' is not a valid e-mail address" in bad.output
    assert down.exit_code == 1 and "not sent: ConnectionRefusedError" in down.output

"""The morning e-mail to each department: its open reports past their target.

A real SMTP server (aiosmtpd, `tests/mail_support.py`) receives them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from sesizari import admin, auth, catalog, db, digests
from sesizari.incidents import Actor, NewIncident, create_incident, perform
from sesizari.mailer import SmtpMailer
from sesizari.vocab import Action
from tests.conftest import TEST_LAT, TEST_LON
from tests.mail_support import body as _body
from tests.mail_support import free_port as _free_port
from tests.mail_support import mail_settings as _settings
from tests.mail_support import smtp_inbox

STAFF = Actor("tester")

NOW = datetime.now(UTC)


@pytest.fixture
def inbox():
    with smtp_inbox() as received:
        yield received


@pytest.fixture
def mailboxes(engine, city):
    with engine.begin() as conn:
        catalog.create_user(conn, city["city_id"], username="sef", full_name="Șef", role="admin")
        boss = auth.load_user(conn, "testville", "sef")
    admin.set_department_email(engine, boss, "roads", "drumuri@testville.ro")
    admin.set_department_email(engine, boss, "lighting", "iluminat@testville.ro")
    return boss


def _report(engine, category: str, days_ago: float, address: str | None = None) -> str:
    return create_incident(engine, NewIncident(
        "testville", category, TEST_LAT, TEST_LON, "Text", address=address,
        created_at=NOW - timedelta(days=days_ago),
    )).registry_number


def _digest(engine, port: int, **kwargs):
    """One digest run at the module's NOW unless told otherwise: the day it
    names must be the day the assertions expect, even when the suite crosses
    midnight in Bucharest between import and this call."""
    kwargs.setdefault("now", NOW)
    settings = _settings(port)
    with SmtpMailer(settings, timeout=5) as mailer:
        return digests.send_digests(engine, settings, mailer, **kwargs)


def _days(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT d.code, o.local_day, o.incidents FROM overdue_digests o"
            " JOIN departments d USING (city_id, department_id) ORDER BY o.local_day"))]


def test_each_department_gets_its_overdue_reports_once_a_day(engine, city, mailboxes, inbox):
    later = _report(engine, "pothole", 4, address="Str. Bucegi 12")  # target 72 h: 1 day past
    first = _report(engine, "pothole", 5)  # 2 days past: listed first
    _report(engine, "pothole", 1)  # within the target
    done = _report(engine, "pothole", 10)
    perform(engine, "testville", done, Action.RESOLVE, STAFF, text="Plombat")
    _report(engine, "street_light", 1)  # lighting: 48 h, within
    _report(engine, "noise", 3)  # police: overdue, but no mailbox
    report = _digest(engine, inbox.port)
    assert (report.sent, report.nothing_overdue, report.already_sent, report.failed) == (
        1, 1, 0, 0)
    assert str(report) == "sent 1, already sent today 0, nothing overdue 1, failed 0"
    [message] = inbox.messages
    today = NOW.astimezone(ZoneInfo("Europe/Bucharest")).date()
    assert message["To"] == "drumuri@testville.ro"
    assert message["Subject"] == f"Sesizări peste termen în Drumuri: 2 ({today:%d.%m.%Y})"
    body = _body(message)
    assert "Compartimentul Drumuri are 2 sesizări deschise peste termenul categoriei" in body
    listed = [line for line in body.splitlines() if line.startswith("- ")]
    assert [line.split(",")[0] for line in listed] == [f"- {first}", f"- {later}"] * 2
    assert listed[1].endswith("nouă, termen " + (NOW - timedelta(days=1)).astimezone(
        ZoneInfo("Europe/Bucharest")).strftime("%d.%m.%Y %H:%M") + ", fără responsabil,"
        " Str. Bucegi 12")
    assert "Roads has 2 open reports past the category's target" in body
    assert "https://sesizari.testville.ro/queue" in body
    assert _days(engine) == [("roads", today, 2)]
    again = _digest(engine, inbox.port)
    assert (again.sent, again.already_sent) == (0, 1) and len(inbox.messages) == 1
    tomorrow = _digest(engine, inbox.port, now=NOW + timedelta(days=1))
    assert tomorrow.sent == 1 and len(inbox.messages) == 2


def test_a_long_list_is_cut_and_counted(engine, city, mailboxes, inbox, monkeypatch):
    monkeypatch.setattr(digests, "MAX_LISTED", 1)
    first = _report(engine, "pothole", 6)
    _report(engine, "pothole", 5)
    _digest(engine, inbox.port)
    body = _body(inbox.messages[0])
    assert next(line for line in body.splitlines() if line.startswith("- ")).startswith(
        f"- {first},")
    assert "… și încă 1." in body and "… and 1 more." in body
    assert "Drumuri: 2 (" in inbox.messages[0]["Subject"]


def test_a_failed_send_is_tried_again_by_the_next_run(engine, city, mailboxes, inbox):
    _report(engine, "pothole", 5)
    down = _digest(engine, _free_port())
    assert (down.sent, down.failed) == (0, 1)
    assert _days(engine) == []  # nothing recorded: the next run sends it
    assert _digest(engine, inbox.port).sent == 1


def test_the_command_line(engine, city, mailboxes, inbox, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from sesizari.cli import app

    _report(engine, "pothole", 5)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SESIZARI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SESIZARI_SMTP_PORT", str(inbox.port))
    monkeypatch.setenv("SESIZARI_SMTP_SECURITY", "none")
    monkeypatch.setenv("SESIZARI_MAIL_FROM", "sesizari@testville.ro")
    db._engine_for.cache_clear()
    runner = CliRunner()
    try:
        first = runner.invoke(app, ["notify", "digest", "--city", "testville"])
        second = runner.invoke(app, ["notify", "digest"])
        typo = runner.invoke(app, ["notify", "digest", "--city", "nowhere"])
    finally:
        db.get_engine().dispose()
        db._engine_for.cache_clear()
    assert first.exit_code == 0, first.output
    assert "sent 1, already sent today 0, nothing overdue 1, failed 0" in first.output
    assert "sent 0, already sent today 1, nothing overdue 1, failed 0" in second.output
    assert typo.exit_code == 1 and "No city 'nowhere'" in typo.output


def test_the_administrator_sees_the_morning_lists(demo, inbox):
    from tests.apptest_support import load_user, run_app

    head = load_user(demo, "admin")
    admin.set_department_email(demo, head, "roads", "drumuri@primarialugoj.ro")
    report = _digest(demo, inbox.port, city="lugoj")
    at = run_app("admin", user=head)
    assert report.sent == 1  # the demo's roads department has reports past their target
    [lists] = [d.value for d in at.dataframe if "Ziua" in d.value.columns]
    today = NOW.astimezone(ZoneInfo("Europe/Bucharest")).date()
    assert list(lists["Ziua"]) == [f"{today:%d.%m.%Y}"]
    assert lists["Compartiment"].iloc[0] != "roads"  # its name, not its code
    assert lists["Sesizări"].iloc[0] > 0

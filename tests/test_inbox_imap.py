"""Reports received by e-mail, read straight from the city's IMAP mailbox.

Against a real Dovecot (``tests/imap_support.py``) speaking TLS and
STARTTLS with a certificate of a throw-away authority, and the real
database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from sesizari import db, inbox
from sesizari.imap import MailboxError, parse_address
from sesizari.inbox import import_imap
from tests.imap_support import PASSWORD, USER, ImapServer, dovecot
from tests.test_inbox import _leaky_jpeg, _mail, _rows


@pytest.fixture
def imap(monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapServer]:
    with dovecot() as server:
        # The city's own authority, named the standard way.
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        yield server


def test_the_mailbox_is_read_over_imap_once_and_flagged_seen(engine, city, imap):
    imap.deliver(
        _mail("Groapă", "Groapă mare", attachments=[(_leaky_jpeg(), "image/jpeg", "g.jpg")]),
        _mail("Gunoi", "Gunoi neridicat", message_id="<2@example.ro>"),
        _mail("Gunoi", "Gunoi neridicat", message_id="<2@example.ro>"),  # sent twice
    )
    # A message a clerk already read in their mail client is not imported.
    reader = imap.client()
    reader.select("INBOX")
    reader.store("1", "+FLAGS", r"(\Seen)")
    reader.logout()
    assert imap.seen() == [True, False, False]
    for scheme in ("imaps", "imap"):  # TLS, then STARTTLS: both read the same mailbox
        report = import_imap(engine, "testville", imap.url(scheme), PASSWORD, timeout=10)
        if scheme == "imaps":
            assert (report.read, report.imported, report.already) == (2, 1, 1)
        else:
            assert report.read == 0  # all seen now
    assert imap.seen() == [True, True, True]
    assert _rows(engine, "SELECT subject, sender_email FROM inbound_messages") == [
        ("Gunoi", "maria.pop@example.ro")]
    # The clerk marks one unread again: it is recognised, not stored twice.
    reader = imap.client()
    reader.select("INBOX")
    reader.store("1:3", "-FLAGS", r"(\Seen)")
    reader.logout()
    again = import_imap(engine, "testville", imap.url(), PASSWORD, timeout=10)
    assert (again.read, again.imported, again.already, again.photos) == (3, 1, 2, 1)
    assert inbox.counts(engine, "testville")["pending"] == 2
    assert imap.seen() == [True, True, True]


def test_a_folder_named_in_romanian_is_found(engine, city, imap):
    """IMAP writes folder names in modified UTF-7: "Sesizări" is "Sesiz&AQM-ri"."""
    from urllib.parse import quote

    from sesizari.imap import encode_folder

    assert encode_folder("Sesizări & alte") == "Sesiz&AQM-ri &- alte"
    assert encode_folder("日本語") == "&ZeVnLIqe-"  # RFC 3501's own example
    client = imap.client()
    assert client.create('"Sesiz&AQM-ri"')[0] == "OK"
    client.logout()
    imap.deliver(_mail("Groapă", "Groapă mare"), folder='"Sesiz&AQM-ri"')
    report = import_imap(engine, "testville", imap.url(folder=quote("Sesizări")), PASSWORD,
                         timeout=10)  # fmt: skip
    assert report.imported == 1
    assert imap.seen('"Sesiz&AQM-ri"') == [True]


def test_a_message_too_large_is_read_for_its_text_only(engine, city, imap, monkeypatch):
    monkeypatch.setattr(inbox, "MAX_MESSAGE_BYTES", 20_000)
    imap.deliver(_mail("Mare", "Groapă" + " " * 10 + "\n",
                       attachments=[(_leaky_jpeg((1600, 1200)), "image/jpeg", "g.jpg")]))
    report = import_imap(engine, "testville", imap.url(), PASSWORD, timeout=10)
    assert (report.imported, report.photos, report.refused) == (1, 0, 1)
    assert _rows(engine, "SELECT subject FROM inbound_messages") == [("Mare",)]


def test_a_message_the_database_refuses_stays_unseen(engine, city, imap):
    imap.deliver(_mail("poison", "x", message_id="<p@x>"),
                 _mail("Groapă", "Groapă mare", message_id="<g@x>"))
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE inbound_messages ADD CONSTRAINT t_refuse"
                             " CHECK (subject <> 'poison')"))
    report = import_imap(engine, "testville", imap.url(), PASSWORD, timeout=10)
    assert (report.imported, report.failed) == (1, 1)
    assert imap.seen() == [False, True]
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE inbound_messages DROP CONSTRAINT t_refuse"))
    assert import_imap(engine, "testville", imap.url(), PASSWORD, timeout=10).imported == 1
    assert imap.seen() == [True, True]


def test_every_mistake_is_named_and_nothing_is_read(engine, city, imap, monkeypatch,
                                                    tmp_path: Path):  # fmt: skip
    imap.deliver(_mail("Groapă", "Groapă mare"))
    cases = [
        (imap.url(), "wrong", "refused the login of sesizari@testville.ro"),
        (imap.url(), None, "set SESIZARI_IMAP_PASSWORD"),
        (imap.url(folder="Arhiva"), PASSWORD, "has no folder 'Arhiva'"),
        (imap.url(user="altcineva@testville.ro"), PASSWORD, "refused the login"),
        (f"imaps://x:{PASSWORD}@127.0.0.1:{imap.tls_port}/INBOX", PASSWORD,
         "holds a password: remove it"),
        (f"imaps://x@127.0.0.1:{imap.starttls_port}/INBOX", PASSWORD, "cannot reach"),
        ("http://mail.example.ro", PASSWORD, "use imaps:// (TLS) or imap:// (STARTTLS)"),
        ("imaps://mail.example.ro", PASSWORD, "needs a user and a server"),
        ("imaps://u@h:99999", PASSWORD, "is not a mailbox address"),
    ]
    for url, password, message in cases:
        with pytest.raises(MailboxError, match=re.escape(message)):
            import_imap(engine, "testville", url, password, timeout=10)
    # A certificate the machine does not trust: refused, and said how to trust it.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    for scheme in ("imaps", "imap"):
        with pytest.raises(MailboxError, match=r"is not trusted.*SSL_CERT_FILE"):
            import_imap(engine, "testville", imap.url(scheme), PASSWORD, timeout=10)
    assert imap.seen() == [False]
    assert _rows(engine, "SELECT count(*) FROM inbound_messages") == [(0,)]
    address = parse_address(imap.url())
    assert address.user == USER and address.folder == "INBOX" and PASSWORD not in str(address)


def test_the_command_line(engine, city, imap, monkeypatch: pytest.MonkeyPatch):
    from sesizari.cli import app

    imap.deliver(_mail("Groapă", "Groapă mare"))
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SESIZARI_IMAP_PASSWORD", PASSWORD)
    db._engine_for.cache_clear()
    try:
        runner = CliRunner()
        done = runner.invoke(app, ["inbox", "import", "--city", "testville",
                                   "--imap", imap.url()])
        neither = runner.invoke(app, ["inbox", "import", "--city", "testville"])
        monkeypatch.setenv("SESIZARI_IMAP_PASSWORD", "wrong")
        refused = runner.invoke(app, ["inbox", "import", "--city", "testville",
                                      "--imap", imap.url()])
        # One operator, many cities: the city's own password comes first.
        imap.deliver(_mail("A doua", "Groapă", message_id="<2@x>"))
        monkeypatch.setenv("SESIZARI_IMAP_PASSWORD_TESTVILLE", PASSWORD)
        own = runner.invoke(app, ["inbox", "import", "--city", "testville",
                                  "--imap", imap.url()])
    finally:
        db.get_engine().dispose()
        db._engine_for.cache_clear()
    assert done.exit_code == 0, done.output
    assert "messages read 1: imported 1, already imported 0" in done.output
    assert neither.exit_code == 1 and "--imap imaps://USER@HOST/INBOX or --maildir" in (
        " ".join(neither.output.split()))
    assert refused.exit_code == 1 and "refused the login" in refused.output
    assert own.exit_code == 0 and "messages read 1: imported 1" in own.output
    assert PASSWORD not in done.output + refused.output and "wrong" not in refused.output

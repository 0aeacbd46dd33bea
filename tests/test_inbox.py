"""Reports received by e-mail: a real Maildir, real messages, the real database."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from sesizari import db, inbox
from sesizari.errors import NotFoundError
from sesizari.inbox import InboxError, import_maildir, parse_message
from sesizari.incidents import Actor, Contact, NewIncident
from tests.conftest import TEST_LAT, TEST_LON
from tests.test_photos import CANARIES, _leaky_jpeg


def _mail(subject: str, body: str, *, sender: str = "Maria Pop <maria.pop@example.ro>",
          message_id: str | None = "<1@example.ro>", html: str | None = None,
          attachments: list[tuple[bytes, str, str]] = (),
          date: str = "Tue, 24 Nov 2026 09:15:00 +0200") -> bytes:  # fmt: skip
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "registratura@testville.ro"
    m["Subject"] = subject
    m["Date"] = date
    if message_id:
        m["Message-ID"] = message_id
    if body is not None:
        m.set_content(body)
    if html is not None:
        if body is None:
            m.set_content(html, subtype="html")
        else:
            m.add_alternative(html, subtype="html")
    for data, kind, name in attachments:
        maintype, subtype = kind.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def _maildir(root: Path, messages: dict[str, bytes]) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, raw in messages.items():
        (root / "new" / name).write_bytes(raw)
    return root


def test_a_message_is_read_as_the_desk_needs_it():
    leaky = _leaky_jpeg()
    text = "Bună ziua,\n\n\n\nE o groapă mare\x00 în fața blocului 4."
    raw = _mail("Groapă pe str. Bucegi", text,
                attachments=[(leaky, "image/jpeg", "groapa.jpg"),
                             (b"%PDF-1.4 ...", "application/pdf", "cerere.pdf"),
                             (b"not a picture", "image/png", "fake.png")])  # fmt: skip
    parsed = parse_message(raw)
    assert parsed.sender_name == "Maria Pop" and parsed.sender_email == "maria.pop@example.ro"
    assert parsed.subject == "Groapă pe str. Bucegi"
    assert parsed.body == "Bună ziua,\n\nE o groapă mare în fața blocului 4."
    assert parsed.received_at == datetime(2026, 11, 24, 7, 15, tzinfo=UTC)
    assert len(parsed.photos) == 1 and parsed.refused == 2
    assert not any(c in parsed.photos[0] for c in CANARIES)  # no EXIF, GPS, comments
    assert parsed.photos[0][:3] == b"\xff\xd8\xff"


def test_html_only_encoded_headers_and_nonsense_still_give_a_message():
    html_only = parse_message(_mail(
        "=?utf-8?b?xZ5hbnRpZXIgbMOubmfEgyDFn2NvYWzEgw==?=", None,
        sender="=?utf-8?q?Ion_=C8=98tefan?= <ion@example.ro>",
        html="<html><head><style>p{}</style><script>alert(1)</script></head><body>"
             "<p>Moloz &amp; resturi</p><p>lângă școală</p></body></html>",
    ))  # fmt: skip
    assert html_only.subject == "Şantier lîngă şcoală"
    assert html_only.sender_name == "Ion Ștefan"
    assert html_only.body == "Moloz & resturi\n\nlângă școală"
    # Headers the standard library's parser trips on (found by fuzzing).
    broken = parse_message(b"Message-ID: <@>\nFrom: a\x00b@example.ro\nSubject: x\x00y\n\nText")
    assert broken.body == "Text" and broken.subject == "xy" and broken.sender_email is None
    assert broken.source_key != parse_message(b"Message-ID: < @ >\n\nText").source_key
    latin1 = parse_message(b"From: J\xe9r\xf4me <j@example.ro>\nSubject: caf\xe9\n\nx")
    assert latin1.sender_name == "J\ufffdr\ufffdme" and latin1.subject == "caf\ufffd"
    assert latin1.sender_email == "j@example.ro"
    nonsense = parse_message(b"\x00\xff garbage without headers")
    assert nonsense.sender_email is None and nonsense.subject == ""
    future = parse_message(_mail("x", "y", date="Fri, 1 Jan 2100 00:00:00 +0000",
                                 sender="not an address"), now=datetime(2026, 11, 28, tzinfo=UTC))
    assert future.received_at == datetime(2026, 11, 28, tzinfo=UTC) and future.sender_email is None
    long = parse_message(_mail("s" * 1000, "b" * 20_000))
    assert len(long.subject) == inbox.MAX_SUBJECT and len(long.body) == inbox.MAX_BODY
    assert long.body.endswith(" …")


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_the_mailbox_is_imported_once_and_marked_seen(engine, city, tmp_path: Path):
    box = _maildir(tmp_path / "Maildir", {
        "1.a": _mail("Groapă", "Groapă mare", attachments=[(_leaky_jpeg(), "image/jpeg", "g.jpg")]),
        "2.b": _mail("Gunoi", "Gunoi neridicat", message_id="<2@example.ro>"),
        "3.c": _mail("Gunoi", "Gunoi neridicat", message_id="<2@example.ro>"),  # sent twice
        "4.d": _mail("Fără id", "Lampă stinsă", message_id=None),
    })  # fmt: skip
    (box / "cur" / "0.z:2,S").write_bytes(_mail("Citit deja", "x", message_id="<0@x>"))
    (box / "cur" / "5.e:2,F").write_bytes(_mail("Marcat", "Copac căzut", message_id="<5@x>"))
    assert inbox.summary(engine, "testville") == (
        {"pending": 0, "filed": 0, "discarded": 0}, None)  # never read: the admin is told
    report = import_maildir(engine, "testville", box)
    assert (report.read, report.imported, report.already, report.photos) == (5, 4, 1, 1)
    counted, latest = inbox.summary(engine, "testville")
    assert counted["pending"] == 4 and latest is not None
    stored = _rows(engine, "SELECT subject, status, sender_email FROM inbound_messages"
                           " ORDER BY message_id")  # fmt: skip
    assert stored == [(subject, "pending", "maria.pop@example.ro")
                      for subject in ("Groapă", "Gunoi", "Fără id", "Marcat")]  # fmt: skip
    assert sorted(p.name for p in (box / "new").iterdir()) == []
    assert sorted(p.name for p in (box / "cur").iterdir()) == [
        "0.z:2,S", "1.a:2,S", "2.b:2,S", "3.c:2,S", "4.d:2,S", "5.e:2,FS"]
    again = import_maildir(engine, "testville", box)
    assert again.read == 0
    # A message moved back to new/ by a mail client is recognised.
    (box / "cur" / "1.a:2,S").rename(box / "new" / "1.a")
    assert import_maildir(engine, "testville", box).already == 1
    assert _rows(engine, "SELECT count(*) FROM inbound_messages") == [(4,)]
    with pytest.raises(InboxError, match="is not a Maildir"):
        import_maildir(engine, "testville", tmp_path)
    with pytest.raises(NotFoundError, match="No city 'nowhere'"):
        import_maildir(engine, "nowhere", box)


def _dispatcher(engine, city) -> Actor:
    with engine.connect() as conn:
        user_id = conn.execute(sa.text("SELECT user_id FROM users WHERE username = 'ana'"))
        return Actor("ana", user_id.scalar_one(), "staff")


def test_filing_makes_the_report_and_keeps_only_a_stub(engine, city, tmp_path: Path):
    box = _maildir(tmp_path / "Maildir", {
        "1.a": _mail("Groapă", "Groapă mare", attachments=[(_leaky_jpeg(), "image/jpeg", "g.jpg")]),
        "2.b": _mail("Reclamă", "Câștigați un premiu", message_id="<spam@x>"),
    })  # fmt: skip
    import_maildir(engine, "testville", box)
    waiting = inbox.pending(engine, "testville")
    assert list(waiting["subject"]) == ["Groapă", "Reclamă"] and list(waiting["photos"]) == [1, 0]
    first, spam = (int(m) for m in waiting["message_id"])
    assert len(inbox.photos_of(engine, "testville", first)) == 1
    ana = _dispatcher(engine, city)
    new = NewIncident("testville", "pothole", TEST_LAT, TEST_LON, "Groapă mare", channel="email",
                      contact=Contact("Maria Pop", None, "maria.pop@example.ro", consent=True))
    created = inbox.file_message(engine, first, new, ana)
    assert created.registry_number.startswith("TST-")
    with pytest.raises(InboxError, match="already filed by a colleague"):
        inbox.file_message(engine, first, new, ana)
    inbox.discard(engine, "testville", spam, ana)
    with pytest.raises(InboxError, match="already set aside"):
        inbox.discard(engine, "testville", spam, ana)
    assert inbox.pending(engine, "testville").empty
    stubs = _rows(engine, "SELECT status, sender_name, sender_email, subject, body,"
                          " incident_id IS NOT NULL, handled_by FROM inbound_messages"
                          " ORDER BY message_id")  # fmt: skip
    assert stubs == [("filed", None, None, None, None, True, ana.user_id),
                     ("discarded", None, None, None, None, False, ana.user_id)]
    assert _rows(engine, "SELECT channel FROM incidents") == [("email",)]
    # The set-aside message's pictures went with it; the filed one's wait to be attached.
    assert _rows(engine, "SELECT message_id FROM inbound_photos") == [(first,)]
    inbox.forget_photos(engine, "testville", first)
    assert _rows(engine, "SELECT count(*) FROM inbound_photos") == [(0,)]
    assert inbox.counts(engine, "testville") == {"pending": 0, "filed": 1, "discarded": 1}
    with pytest.raises(NotFoundError):
        inbox.discard(engine, "testville", 999, ana)


def test_the_command_line(engine, city, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from sesizari.cli import app

    box = _maildir(tmp_path / "Maildir", {"1.a": _mail("Groapă", "Groapă mare")})
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    db._engine_for.cache_clear()
    try:
        runner = CliRunner()
        done = runner.invoke(app, ["inbox", "import", "--city", "testville",
                                   "--maildir", str(box)])
        status = runner.invoke(app, ["inbox", "status", "--city", "testville"])
        wrong = runner.invoke(app, ["inbox", "import", "--city", "testville",
                                    "--maildir", str(tmp_path)])
    finally:
        db.get_engine().dispose()
        db._engine_for.cache_clear()
    assert done.exit_code == 0, done.output
    assert "messages read 1: imported 1, already imported 0" in done.output
    assert status.output.strip() == "pending 1, filed 0, discarded 0"
    assert wrong.exit_code == 1 and "is not a Maildir" in wrong.output


def test_mangled_messages_never_stop_the_import():
    """Random damage to real messages (bytes flipped, cut, boundaries and
    encoded words thrown in): each still parses into storable text."""
    import random

    base = [
        _mail("Groapă", "Bună ziua\nGroapă", attachments=[
            (_leaky_jpeg((64, 48)), "image/jpeg", "g.jpg"), (b"%PDF", "application/pdf", "x.pdf")]),
        _mail("x", None, html="<p>a &amp; b</p><script>x</script>"),
        _mail("=?utf-8?b?xZ5h?=", "y", sender='"Weird, Name" <a@b.ro>, other@c.ro'),
    ]  # fmt: skip
    noise = [b"\r\n", b"\n\n", b"=?", b"?=", b"--", b"<@>", b"\x00", b"\xff\xfe",
             b"Content-Type: multipart/mixed; boundary=x\n", b"charset=foo"]  # fmt: skip
    rng = random.Random(20261128)
    for _ in range(600):
        raw = bytearray(rng.choice(base))
        for _ in range(rng.randint(1, 30)):
            # Half the damage in the headers, where the parsers are most picky.
            span = min(len(raw), 400) if rng.random() < 0.5 else len(raw)
            pos = rng.randrange(span or 1)
            roll = rng.random()
            if roll < 0.4 and raw:
                raw[pos] = rng.randrange(256)
            elif roll < 0.7:
                del raw[pos : pos + rng.randint(1, 50)]
            else:
                raw[pos:pos] = rng.choice(noise)
        parsed = parse_message(bytes(raw))
        for text in (parsed.body, parsed.subject, parsed.sender_name or ""):
            assert "\x00" not in text
            text.encode("utf-8")  # what PostgreSQL stores: no lone surrogate
        assert parsed.sender_email is None or parsed.sender_email.isprintable()


def test_a_message_the_database_refuses_does_not_hold_back_the_others(
    engine, city, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    box = _maildir(tmp_path / "Maildir", {
        "1.a": _mail("poison", "x", message_id="<p@x>"),
        "2.b": _mail("Groapă", "Groapă mare", message_id="<g@x>"),
    })  # fmt: skip
    refuse = "ALTER TABLE inbound_messages ADD CONSTRAINT t_refuse CHECK (subject <> 'poison')"
    with engine.begin() as conn:
        conn.execute(sa.text(refuse))
    report = import_maildir(engine, "testville", box)
    assert (report.imported, report.failed) == (1, 1)
    assert "1 not imported (see the log), tried again next time" in str(report)
    assert [p.name for p in (box / "new").iterdir()] == ["1.a"]  # still unseen
    # The log names the file and the refusal, never what the sender wrote or who they are.
    assert "1.a not imported: CheckViolation 23514 constraint t_refuse table inbound_messages" in (
        caplog.text)
    assert "maria.pop@example.ro" not in caplog.text and "Maria Pop" not in caplog.text
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE inbound_messages DROP CONSTRAINT t_refuse"))
    assert import_maildir(engine, "testville", box).imported == 1
    assert _rows(engine, "SELECT count(*) FROM inbound_messages") == [(2,)]


def _gps_jpeg(lat: float, lon: float) -> bytes:
    """A phone's picture: its EXIF says where it was taken (and more: see _leaky_jpeg)."""
    from tests.test_photos import _exif, _gradient, _save

    exif = _exif()
    gps = exif.get_ifd(0x8825)
    for ref_tag, tag, value, signs in ((1, 2, lat, "NS"), (3, 4, lon, "EW")):
        whole = abs(value)
        degrees, rest = int(whole), (whole - int(whole)) * 60
        gps[ref_tag] = signs[value < 0]
        gps[tag] = (float(degrees), float(int(rest)), round((rest - int(rest)) * 60, 4))
    return _save(_gradient((320, 240)), "JPEG", exif=exif)


def test_where_an_e_mailed_picture_was_taken_is_proposed_inside_the_city_only(
    engine, city, tmp_path: Path
):
    from sesizari.photos import gps_point

    inside = _gps_jpeg(TEST_LAT + 0.001, TEST_LON - 0.002)
    assert gps_point(inside) == pytest.approx((TEST_LAT + 0.001, TEST_LON - 0.002), abs=1e-6)
    assert gps_point(_gps_jpeg(-33.86, -151.2)) == pytest.approx((-33.86, -151.2), abs=1e-6)
    assert gps_point(_leaky_jpeg()) is None  # a latitude without a longitude
    assert gps_point(b"not a picture") is None
    box = _maildir(tmp_path / "Maildir", {
        "1.a": _mail("Aici", "Groapă", message_id="<in@x>",
                     attachments=[(_leaky_jpeg(), "image/jpeg", "no-gps.jpg"),
                                  (inside, "image/jpeg", "gps.jpg")]),
        "2.b": _mail("Departe", "Groapă", message_id="<out@x>",
                     attachments=[(_gps_jpeg(44.4268, 26.1025), "image/jpeg", "g.jpg")]),
        "3.c": _mail("Fără", "Groapă", message_id="<none@x>"),
    })  # fmt: skip
    parsed = parse_message((box / "new" / "1.a").read_bytes())
    assert parsed.place == pytest.approx((TEST_LAT + 0.001, TEST_LON - 0.002), abs=1e-6)
    assert not any(b"CANARY-GPS" in p for p in parsed.photos)  # the stored copies keep none
    import_maildir(engine, "testville", box)
    waiting = inbox.pending(engine, "testville").set_index("subject")
    assert waiting.at["Aici", "photo_lat"] == pytest.approx(TEST_LAT + 0.001, abs=1e-6)
    assert waiting.at["Aici", "photo_lon"] == pytest.approx(TEST_LON - 0.002, abs=1e-6)
    for elsewhere in ("Departe", "Fără"):  # Bucharest is not Testville: nothing proposed
        assert waiting[["photo_lat", "photo_lon"]].loc[elsewhere].isna().all()
    # Handled, the message keeps no place, as it keeps no words.
    dispatcher = _dispatcher(engine, city)
    for message_id in waiting["message_id"]:
        inbox.discard(engine, "testville", int(message_id), dispatcher)
    assert _rows(engine, "SELECT count(*) FROM inbound_messages WHERE photo_lat IS NOT NULL"
                         " OR photo_lon IS NOT NULL") == [(0,)]  # fmt: skip

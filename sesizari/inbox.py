"""Reports received by e-mail: from the city's mailbox to the dispatcher's desk.

Citizens write to the city hall's address.  :func:`import_imap` reads that
mailbox over IMAP (:mod:`sesizari.imap`); where the mail system delivers it
to a Maildir instead (the mail server itself, ``fetchmail``),
:func:`import_maildir` reads that.  Either copies each message it has not
seen into ``inbound_messages`` (migration 0040) and marks it seen in the
mailbox, which stays the archive.  The dispatcher's desk lists the pending
messages; :func:`file_message` makes the report from one (the dispatcher
places it on the map and picks the category: an e-mail says neither
reliably) and :func:`discard` sets one aside.  Either way the message's
words and sender are removed from the table, which keeps only when, who and
which report: what the report needs was copied into it.

A message is untrusted input.  It is parsed with the standard library's
``email`` package (``policy.default``), read no further than
:data:`MAX_MESSAGE_BYTES`; its text is taken from the plain part, or from
the HTML part with the markup removed; its pictures go through
:func:`sesizari.photos.process_photo` (checked, re-encoded: no EXIF, no
GPS) before they are stored, at most :data:`MAX_PHOTOS`; other attachments
are counted, not kept (the mailbox still has them).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TypeVar

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sesizari.catalog import get_city
from sesizari.db import describe_error
from sesizari.errors import NotFoundError, SesizariError, ValidationError
from sesizari.incidents import EMAIL_RE, Actor, CreatedIncident, NewIncident, create_incident_in
from sesizari.photos import PhotoError, gps_point, process_photo
from sesizari.transactions import run_in_transaction

logger = logging.getLogger(__name__)
#: A message's name in its mailbox: a Maildir file, an IMAP unique id.
Key = TypeVar("Key")

#: Larger messages are read for their text only (their pictures are refused).
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
#: As on the report form.
MAX_PHOTOS = 5
#: As the dispatcher's description box holds.
MAX_BODY = 5000
MAX_SUBJECT = 300


class InboxError(SesizariError):
    """A mailbox that cannot be read, or a message already handled."""


@dataclass
class ParsedMessage:
    """What the desk needs of one e-mail."""

    source_key: str
    received_at: datetime
    sender_name: str | None
    sender_email: str | None
    subject: str
    body: str
    photos: list[bytes] = field(default_factory=list, repr=False)
    refused: int = 0
    #: Where the first picture that says so was taken (EXIF GPS), as (lat, lon).
    place: tuple[float, float] | None = None


class _Text(HTMLParser):
    """The text of an HTML part: tags dropped, blocks on their own lines."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self.skip:
            self.skip -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _html_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return html.unescape("".join(parser.parts))


def _clean(text: str, limit: int) -> str:
    """Printable text PostgreSQL can store: no NUL or control characters,
    blank runs folded, cut at ``limit`` with a mark.  Raw 8-bit bytes in a
    header come out of the parser as lone surrogates, which no database
    stores: they are read as UTF-8, or replaced."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text.replace("\r\n", "\n"))
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text if len(text) <= limit else text[: limit - 2].rstrip() + " …"


def _part_text(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except Exception:  # an unknown or lying charset, a broken transfer encoding
        raw = part.get_payload(decode=True) or b""
        return raw.decode("utf-8", errors="replace")


def _header(message: EmailMessage, name: str) -> str:
    """A header's decoded value; its raw text when the standard library's
    parser trips on it (a malformed Message-ID raises IndexError), "" when absent."""
    try:
        value = message[name]
        return "" if value is None else str(value)
    except Exception:  # the header parsers raise what they meet
        for key, raw in message.raw_items():
            if key.lower() == name.lower():
                return str(raw)
        return ""


def _received(message: EmailMessage, now: datetime) -> datetime:
    """The Date header when it is sane (not in the future, not before 2000), else now."""
    try:
        at = parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return now
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at if datetime(2000, 1, 1, tzinfo=UTC) <= at <= now + timedelta(hours=1) else now


def _sender(message: EmailMessage) -> tuple[str | None, str | None]:
    try:
        addresses = message["From"].addresses if message["From"] is not None else ()
    except Exception:  # the header parsers raise what they meet
        return None, None
    if not addresses:
        return None, None
    name = _clean(addresses[0].display_name or "", 200) or None
    address = (addresses[0].addr_spec or "").strip()
    usable = EMAIL_RE.fullmatch(address) and len(address) <= 254 and address.isprintable()
    return name, address if usable else None


def parse_message(raw: bytes, now: datetime | None = None) -> ParsedMessage:
    """Read one e-mail as the desk shows it; never raises on a malformed message."""
    now = now or datetime.now(UTC)
    too_big = len(raw) > MAX_MESSAGE_BYTES
    message = BytesParser(policy=policy.default).parsebytes(raw[:MAX_MESSAGE_BYTES])
    assert isinstance(message, EmailMessage)
    message_id = _header(message, "Message-ID").strip()
    source_key = hashlib.sha256(
        ("id:" + message_id).encode("utf-8", "surrogateescape") if message_id else b"raw:" + raw
    ).hexdigest()
    name, address = _sender(message)
    subject = _header(message, "Subject")
    plain = html_part = None
    photos: list[bytes] = []
    refused = 0
    place: tuple[float, float] | None = None
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        kind = part.get_content_type()
        if disposition != "attachment" and kind == "text/plain" and plain is None:
            plain = _part_text(part)
        elif disposition != "attachment" and kind == "text/html" and html_part is None:
            html_part = _part_text(part)
        elif disposition == "attachment" or part.get_content_maintype() == "image":
            if too_big or len(photos) >= MAX_PHOTOS or part.get_content_maintype() != "image":
                refused += 1
                continue
            try:
                raw_photo = part.get_payload(decode=True) or b""
                photos.append(process_photo(raw_photo).data)
                place = place or gps_point(raw_photo)
            except PhotoError:
                refused += 1
            except Exception:  # a broken part: counted, the message still reaches the desk
                logger.warning("an e-mail attachment could not be read", exc_info=True)
                refused += 1
    body = plain if plain is not None else _html_text(html_part or "")
    return ParsedMessage(
        source_key=source_key,
        received_at=_received(message, now),
        sender_name=name,
        sender_email=address,
        subject=_clean(subject, MAX_SUBJECT),
        body=_clean(body, MAX_BODY),
        photos=photos,
        refused=refused,
        place=place,
    )


# -- the mailbox -------------------------------------------------------------------


def _unseen(path: Path) -> list[Path]:
    """The Maildir's messages without the seen flag: all of ``new/``, and
    those of ``cur/`` whose info (``:2,FLAGS``) lacks ``S``; oldest first."""
    files = [f for f in (path / "new").iterdir() if f.is_file() and not f.name.startswith(".")]
    for f in (path / "cur").iterdir():
        if f.is_file() and not f.name.startswith("."):
            _, _, info = f.name.partition(":2,")
            if "S" not in info:
                files.append(f)
    def arrived(f: Path) -> tuple[float, str]:
        try:
            return f.stat().st_mtime, f.name
        except FileNotFoundError:  # moved by another reader meanwhile: skipped below
            return 0.0, f.name

    return sorted(files, key=arrived)


def _mark_seen(path: Path, file: Path) -> None:
    """Flag a message seen, as a mail client does: moved to ``cur/`` with ``S``."""
    key, _, info = file.name.partition(":2,")
    flags = "".join(sorted(set(info) | {"S"}))
    # Another reader may have moved it; its key keeps it from being stored twice.
    with contextlib.suppress(FileNotFoundError):
        file.rename(path / "cur" / f"{key}:2,{flags}")


@dataclass
class ImportReport:
    """What one run of :func:`import_maildir` or :func:`import_imap` did."""

    read: int = 0
    imported: int = 0
    already: int = 0
    photos: int = 0
    refused: int = 0
    failed: int = 0

    def __str__(self) -> str:
        text = (
            f"messages read {self.read}: imported {self.imported}, already imported"
            f" {self.already}; pictures kept {self.photos}, attachments not kept {self.refused}"
        )
        if self.failed:
            text += f"; {self.failed} not imported (see the log), tried again next time"
        return text


_INSERT = sa.text(
    "INSERT INTO inbound_messages (city_id, source_key, received_at, sender_name, sender_email,"
    " subject, body, refused, photo_lat, photo_lon)"
    " VALUES (:c, :k, :at, :n, :e, :s, :b, :r, :lat, :lon)"
    " ON CONFLICT (city_id, source_key) DO NOTHING RETURNING message_id"
)


def store(conn: Connection, city_id: int, parsed: ParsedMessage) -> int | None:
    """Insert one parsed message with its pictures; None when it was already there."""
    message_id = conn.execute(_INSERT, {
        "c": city_id, "k": parsed.source_key, "at": parsed.received_at,
        "n": parsed.sender_name, "e": parsed.sender_email, "s": parsed.subject,
        "b": parsed.body, "r": parsed.refused,
        "lat": parsed.place[0] if parsed.place else None,
        "lon": parsed.place[1] if parsed.place else None,
    }).scalar()  # fmt: skip
    if message_id is None:
        return None
    for position, data in enumerate(parsed.photos, 1):
        conn.execute(
            sa.text("INSERT INTO inbound_photos (city_id, message_id, position, data)"
                    " VALUES (:c, :m, :p, :d)"),
            {"c": city_id, "m": message_id, "p": position, "d": data},
        )  # fmt: skip
    return message_id


def import_maildir(
    engine: Engine,
    city: str,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Copy the Maildir's unseen messages into the city's inbox and mark them seen.

    Each message is stored in its own transaction, then flagged seen (``S``)
    and moved to ``cur/``: a run that stops half way imports the rest next
    time, and a message stored but not yet flagged is recognised by its key.
    """
    path = Path(path)
    if not (path / "new").is_dir() or not (path / "cur").is_dir():
        raise InboxError(
            f"{path} is not a Maildir (it needs the folders new/, cur/ and tmp/); give the"
            " folder your mail system delivers the city's mailbox to"
        )
    with engine.connect() as conn:
        city_id = get_city(conn, city).city_id

    def read(file: Path) -> bytes | None:
        try:
            return file.read_bytes()
        except FileNotFoundError:  # another reader moved it meanwhile
            return None

    report = ImportReport()
    _import_each(engine, city_id, _unseen(path), read, lambda f: _mark_seen(path, f),
                 lambda f: f.name, report, progress)  # fmt: skip
    return report


def import_imap(
    engine: Engine,
    city: str,
    address: str,
    password: str | None,
    *,
    progress: Callable[[int, int], None] | None = None,
    timeout: float = 60,
) -> ImportReport:
    """Copy the unseen messages of the city's IMAP mailbox into its inbox and flag them seen.

    As :func:`import_maildir`, one transaction per message, flagged
    ``\\Seen`` on the server once stored (:mod:`sesizari.imap`).  A
    connection lost half way raises :class:`~sesizari.imap.MailboxError`
    saying what was imported before; the next run takes the rest.
    """
    from sesizari import imap

    where = imap.parse_address(address)
    with engine.connect() as conn:
        city_id = get_city(conn, city).city_id
    report = ImportReport()
    try:
        with imap.session(where, password, timeout=timeout) as box:
            _import_each(engine, city_id, box.unseen(),
                         lambda uid: box.fetch(uid, MAX_MESSAGE_BYTES), box.mark_seen,
                         lambda uid: f"{where} uid {uid.decode()}", report, progress)  # fmt: skip
    except imap.MailboxError as exc:
        if report.read or report.failed:
            raise imap.MailboxError(f"{exc} (before it, {report})") from exc
        raise
    return report


def _import_each(
    engine: Engine,
    city_id: int,
    keys: Sequence[Key],
    read: Callable[[Key], bytes | None],
    mark_seen: Callable[[Key], None],
    name: Callable[[Key], str],
    report: ImportReport,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Store each message of a mailbox in its own transaction, then flag it seen.

    One message the database will not take must not hold back the others:
    it stays unseen, named in the log, counted ``failed`` and tried again
    by the next run.
    """
    for n, key in enumerate(keys, 1):
        raw = read(key)
        if raw is not None:
            parsed = parse_message(raw)
            try:
                with engine.begin() as conn:
                    stored = store(conn, city_id, parsed)
            except (sa.exc.DataError, sa.exc.IntegrityError, SesizariError) as exc:
                # Not the traceback: PostgreSQL's message quotes the row, sender included.
                logger.warning("e-mail %s not imported: %s", name(key), describe_error(exc))
                report.failed += 1
                continue
            report.read += 1
            if stored is None:
                report.already += 1
            else:
                report.imported += 1
                report.photos += len(parsed.photos)
                report.refused += parsed.refused
            mark_seen(key)
        if progress:
            progress(n, len(keys))


# -- the dispatcher's desk ----------------------------------------------------------


def pending(engine: Engine, city: str) -> pd.DataFrame:
    """The city's messages waiting for the dispatcher, oldest first."""
    with engine.connect() as conn:
        return pd.read_sql(sa.text(
            "SELECT m.message_id, m.received_at, m.sender_name, m.sender_email, m.subject,"
            " m.body, m.refused,"
            " CASE WHEN here.inside THEN m.photo_lat END AS photo_lat,"
            " CASE WHEN here.inside THEN m.photo_lon END AS photo_lon,"
            " (SELECT count(*) FROM inbound_photos p WHERE p.city_id = m.city_id"
            "  AND p.message_id = m.message_id) AS photos"
            " FROM inbound_messages m JOIN cities c USING (city_id)"
            # A picture's place inside the city only: one taken elsewhere proposes nothing.
            " CROSS JOIN LATERAL (SELECT ST_Covers(c.boundary, ST_SetSRID(ST_MakePoint("
            " m.photo_lon, m.photo_lat), 4326)) AS inside) here"
            " WHERE c.slug = :city AND m.status = 'pending' ORDER BY m.received_at, m.message_id"
        ), conn, params={"city": city})  # fmt: skip


def photos_of(engine: Engine, city: str, message_id: int) -> list[bytes]:
    """A message's pictures (already cleaned), in their order."""
    with engine.connect() as conn:
        return [bytes(d) for d in conn.execute(sa.text(
            "SELECT p.data FROM inbound_photos p JOIN cities c USING (city_id)"
            " WHERE c.slug = :city AND p.message_id = :m ORDER BY p.position"
        ), {"city": city, "m": message_id}).scalars()]  # fmt: skip


_HANDLE = sa.text(
    "UPDATE inbound_messages SET status = :s, incident_id = :i, handled_by = :u,"
    " handled_at = now(), sender_name = NULL, sender_email = NULL, subject = NULL, body = NULL,"
    " photo_lat = NULL, photo_lon = NULL WHERE city_id = :c AND message_id = :m"
)


def _lock_pending(conn: Connection, city: str, message_id: int) -> int:
    row = conn.execute(sa.text(
        "SELECT m.city_id, m.status FROM inbound_messages m JOIN cities c USING (city_id)"
        " WHERE c.slug = :city AND m.message_id = :m FOR UPDATE OF m"
    ), {"city": city, "m": message_id}).first()  # fmt: skip
    if row is None:
        raise NotFoundError(f"no e-mail {message_id} in {city}",
                            ro=f"nu există e-mailul {message_id} în {city}")  # fmt: skip
    if row.status != "pending":
        raise InboxError(
            f"this e-mail was already {'filed' if row.status == 'filed' else 'set aside'} by a"
            " colleague; take the next one",
            ro="acest e-mail a fost deja "
            + ("înregistrat" if row.status == "filed" else "pus deoparte")
            + " de un coleg; luați-l pe următorul",
        )
    return row.city_id


def file_message(
    engine: Engine, message_id: int, new: NewIncident, actor: Actor
) -> CreatedIncident:
    """Make the report from a pending message, in one transaction with the
    message's hand-over: two dispatchers cannot file the same e-mail.

    The pictures stay until :func:`forget_photos` (after they are attached).
    """
    if actor.user_id is None:
        raise ValidationError("by", "a member of staff files an e-mail",
                              ro="un membru al personalului înregistrează e-mailul")  # fmt: skip

    def work(conn: Connection) -> CreatedIncident:
        city_id = _lock_pending(conn, new.city, message_id)
        created = create_incident_in(conn, new, actor)
        conn.execute(_HANDLE, {"s": "filed", "i": created.incident_id, "u": actor.user_id,
                               "c": city_id, "m": message_id})  # fmt: skip
        return created

    return run_in_transaction(engine, work)


def forget_photos(engine: Engine, city: str, message_id: int) -> None:
    """Remove a handled message's pictures (attached to its report by now)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "DELETE FROM inbound_photos p USING cities c, inbound_messages m"
            " WHERE c.slug = :city AND p.city_id = c.city_id AND p.message_id = :m"
            " AND m.city_id = p.city_id AND m.message_id = p.message_id AND m.status <> 'pending'"
        ), {"city": city, "m": message_id})  # fmt: skip


def discard(engine: Engine, city: str, message_id: int, actor: Actor) -> None:
    """Set a pending message aside (not a report: spam, a question, a thank-you)."""
    with engine.begin() as conn:
        city_id = _lock_pending(conn, city, message_id)
        conn.execute(_HANDLE, {"s": "discarded", "i": None, "u": actor.user_id, "c": city_id,
                               "m": message_id})  # fmt: skip
    forget_photos(engine, city, message_id)


def counts(engine: Engine, city: str) -> dict[str, int]:
    """Messages by status, for ``inbox status``."""
    return summary(engine, city)[0]


def summary(engine: Engine, city: str) -> tuple[dict[str, int], datetime | None]:
    """Messages by status, and when the newest was imported (None: never):
    an import that stopped running shows as a date that no longer moves."""
    with engine.connect() as conn:
        city_id = get_city(conn, city).city_id
        rows = conn.execute(sa.text(
            "SELECT status, count(*), max(imported_at) FROM inbound_messages WHERE city_id = :c"
            " GROUP BY 1"
        ), {"c": city_id}).all()  # fmt: skip
    found = {status: n for status, n, _ in rows}
    latest = max((at for _, _, at in rows), default=None)
    return {s: found.get(s, 0) for s in ("pending", "filed", "discarded")}, latest

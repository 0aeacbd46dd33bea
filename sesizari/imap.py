"""The city's mailbox read over IMAP, for :func:`sesizari.inbox.import_imap`.

Most city halls' mail is hosted (their own server, or a provider) and
reachable over IMAP; reading it directly spares a ``fetchmail`` set-up.
The mailbox is named by an address, ``imaps://USER@HOST[:PORT][/FOLDER]``
(TLS from the first byte, port 993) or ``imap://USER@HOST[:PORT][/FOLDER]``
(STARTTLS, port 143, refused if the server does not offer it): the mail
always travels encrypted, and the server's certificate is checked (a
certificate of the city's own authority: ``SSL_CERT_FILE=/path/ca.pem``).
The password comes from ``SESIZARI_IMAP_PASSWORD``, never from the address:
a command line is visible to every user of the machine.

Messages are read with ``BODY.PEEK``, which leaves them unseen, and flagged
``\\Seen`` only once stored: the mailbox stays the archive, and a run that
stops half way leaves the rest for the next one.
"""

from __future__ import annotations

import base64
import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sesizari.errors import SesizariError

#: Ports by scheme.
PORTS = {"imaps": 993, "imap": 143}


class MailboxError(SesizariError):
    """The mailbox cannot be reached, read or logged into; the message says what to check."""


@dataclass(frozen=True)
class MailboxAddress:
    """Where the city's mailbox is (never its password)."""

    scheme: str
    host: str
    port: int
    user: str
    folder: str = "INBOX"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


def parse_address(url: str) -> MailboxAddress:
    """Read ``imaps://USER@HOST[:PORT][/FOLDER]``; a bad address says what is wrong."""
    example = "imaps://sesizari%40primarialugoj.ro@mail.primarialugoj.ro/INBOX"
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError as exc:
        raise MailboxError(f"{url!r} is not a mailbox address ({exc}); e.g. {example}") from None
    if parts.scheme not in PORTS:
        raise MailboxError(
            f"{url!r}: use imaps:// (TLS) or imap:// (STARTTLS), e.g. {example}; unencrypted"
            " mail is not read"
        )
    if parts.password is not None:
        raise MailboxError(
            "the mailbox address holds a password: remove it and set SESIZARI_IMAP_PASSWORD"
            " (a command line is visible to every user of the machine)"
        )
    if not parts.hostname or not parts.username:
        raise MailboxError(f"{url!r} needs a user and a server, e.g. {example}")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    if len(folder) > 200 or re.search(r"[\x00-\x1f\"\\]", folder):
        raise MailboxError(f"{folder!r} is not a folder name this reader accepts")
    return MailboxAddress(parts.scheme, parts.hostname, port or PORTS[parts.scheme],
                          unquote(parts.username), folder)  # fmt: skip


def _text(data: list) -> str:
    return " ".join(d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d)
                    for d in data or [])  # fmt: skip


@contextmanager
def session(address: MailboxAddress, password: str | None, *,
            timeout: float = 60) -> Iterator[Mailbox]:  # fmt: skip
    """Log in and open the folder for writing flags; log out at the end."""
    if not password:
        raise MailboxError(
            f"no password for {address}: set SESIZARI_IMAP_PASSWORD in the environment"
        )
    where = f"{address.host}:{address.port}"
    context = ssl.create_default_context()
    try:
        if address.scheme == "imaps":
            conn = imaplib.IMAP4_SSL(address.host, address.port, ssl_context=context,
                                     timeout=timeout)  # fmt: skip
        else:
            conn = imaplib.IMAP4(address.host, address.port, timeout=timeout)
            if "STARTTLS" not in conn.capabilities:
                conn.shutdown()
                raise MailboxError(
                    f"{where} does not offer STARTTLS: the mail would travel unencrypted; use"
                    " imaps:// if it speaks TLS on another port (993)"
                )
            conn.starttls(ssl_context=context)
    except ssl.SSLCertVerificationError as exc:
        raise MailboxError(
            f"the certificate of {where} is not trusted ({exc.verify_message}); if it comes"
            " from the city's own authority, set SSL_CERT_FILE=/path/ca.pem"
        ) from exc
    except (OSError, imaplib.IMAP4.error) as exc:  # socket.timeout, refused, TLS errors
        raise MailboxError(
            f"cannot reach the mailbox at {where}: {exc}; check the address, the port and the"
            " firewall"
        ) from exc
    try:
        try:
            conn.login(address.user, password)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(
                f"{where} refused the login of {address.user} ({exc}); check the user in the"
                " address and SESIZARI_IMAP_PASSWORD"
            ) from exc
        status, data = conn.select(_quoted(address.folder))
        if status != "OK":
            raise MailboxError(
                f"{where} has no folder {address.folder!r} for {address.user} ({_text(data)});"
                " the inbox is INBOX"
            )
        yield Mailbox(conn, address)
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise MailboxError(f"the connection to {where} was lost: {exc}; run again") from exc
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            conn.logout()


def _quoted(folder: str) -> str:
    """The folder's name as IMAP writes it: quoted, in modified UTF-7 (RFC 3501
    5.1.3), so that a folder called "Sesizări" is found."""
    return '"' + encode_folder(folder) + '"'


def encode_folder(name: str) -> str:
    """``name`` in IMAP's modified UTF-7: printable ASCII as itself (``&`` as
    ``&-``), other characters as ``&`` + base64 of UTF-16 with ``,`` for ``/`` + ``-``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + raw.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


class Mailbox:
    """An open folder: its unseen messages, read without flagging, flagged on demand."""

    def __init__(self, conn: imaplib.IMAP4, address: MailboxAddress) -> None:
        self._conn = conn
        self.address = address

    def _ok(self, what: str, status: str, data: list) -> list:
        if status != "OK":
            raise MailboxError(f"{self.address.host} refused {what}: {_text(data)}")
        return data

    def unseen(self) -> list[bytes]:
        """The unique ids of the folder's messages without ``\\Seen``, oldest first."""
        data = self._ok("the search", *self._conn.uid("SEARCH", None, "UNSEEN"))
        return sorted((data[0] or b"").split(), key=int)

    def fetch(self, uid: bytes, limit: int) -> bytes | None:
        """The message's first ``limit`` bytes (and one more, to tell it was cut),
        left unseen; None when it is gone (deleted meanwhile)."""
        data = self._ok(f"message {uid.decode()}",
                        *self._conn.uid("FETCH", uid, f"(BODY.PEEK[]<0.{limit + 1}>)"))  # fmt: skip
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def mark_seen(self, uid: bytes) -> None:
        """Flag the message ``\\Seen``, as a mail client does once it was read."""
        self._ok(f"flagging message {uid.decode()}",
                 *self._conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)"))  # fmt: skip

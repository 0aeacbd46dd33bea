"""A real IMAP server for the mailbox tests: Dovecot (Debian's ``dovecot-imapd``,
installed by ``scripts/setup.sh --test``), started in a folder of its own on
127.0.0.1, with a certificate from a throw-away authority (``ca.pem``).

It speaks STARTTLS on one port and TLS on another, and refuses a login
before encryption, as a city hall's mail server does.  Messages are put in
with IMAP ``APPEND``, as the mail server's own delivery would.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.mail_support import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "sesizari@testville.ro"
PASSWORD = "parola-de-test"


@dataclass
class ImapServer:
    """A running Dovecot: where it listens and how to put mail in."""

    root: Path
    starttls_port: int
    tls_port: int
    ca_file: Path

    def url(self, scheme: str = "imaps", folder: str = "INBOX", user: str = USER) -> str:
        port = self.tls_port if scheme == "imaps" else self.starttls_port
        return f"{scheme}://{user.replace('@', '%40')}@127.0.0.1:{port}/{folder}"

    def client(self) -> imaplib.IMAP4:
        """A logged-in client (the test's own, trusting the authority)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, ssl_context=context, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        """Put ``messages`` in the mailbox, unseen."""
        conn = self.client()
        try:
            for raw in messages:
                status, data = conn.append(folder, None, None, raw)
                assert status == "OK", data
        finally:
            conn.logout()

    def seen(self, folder: str = "INBOX") -> list[bool]:
        """Whether each message of the folder is flagged seen, in order."""
        conn = self.client()
        try:
            conn.select(folder, readonly=True)
            _, data = conn.fetch("1:*", "(FLAGS)")
            if data == [None]:
                return []
            return [b"\\Seen" in line for line in data if isinstance(line, bytes)]
        finally:
            conn.logout()


def _users() -> tuple[str, str, str, int, int]:
    """(internal user, its group, login user, mail uid, mail gid): Dovecot's own
    accounts when run as root, the current user otherwise."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovecot")
        return "dovecot", "dovecot", "dovenull", mail.pw_uid, mail.pw_gid
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, grp.getgrgid(me.pw_gid).gr_name, me.pw_name, me.pw_uid, me.pw_gid


@contextmanager
def dovecot() -> Iterator[ImapServer]:
    """Start Dovecot for one test; stop it and remove its folder afterwards."""
    import trustme

    if not Path(DOVECOT).exists():
        raise RuntimeError("Dovecot is missing: run scripts/setup.sh --test (dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="sz-imap-", dir="/tmp"))
    os.chmod(root, 0o755)
    internal, group, login, uid, gid = _users()
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    cert.private_key_pem.write_to_path(str(root / "key.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "mail").mkdir()
    os.chown(root / "mail", uid, gid)
    server = ImapServer(root, free_port(), free_port(), root / "ca.pem")
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
mail_location = maildir:{root}/mail/%u/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {server.starttls_port}
  }}
  inet_listener imaps {{
    port = {server.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""")
    # In the foreground (-F): the test owns the process, and no daemon keeps its pipes.
    log = open(root / "stderr", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                               stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # listening within a second, longer on a busy machine
        while True:
            if process.poll() is None:
                try:
                    server.client().logout()
                    break
                except OSError:
                    time.sleep(0.1)
            if process.poll() is not None or time.monotonic() > deadline:
                said = "".join(p.read_text() for p in (root / "stderr", root / "log")
                               if p.exists())  # fmt: skip
                raise RuntimeError(f"Dovecot did not start:\n{said}")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)

"""A real SMTP server for the e-mail tests (aiosmtpd on 127.0.0.1), and helpers."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.policy import default

from aiosmtpd.controller import Controller

from sesizari.settings import Settings, load_settings


class Inbox:
    """What the SMTP server received; it refuses the addresses in ``refuse`` (550)."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refuse: set[str] = set()
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


def body(message) -> str:
    """A received message's text, with plain line ends."""
    return message.get_content().replace("\r\n", "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    """A running SMTP server on a free port; yields what it receives."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


def mail_settings(port: int, **more) -> Settings:
    """The settings of a sender to the local server on ``port``."""
    values = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "mail_from": "sesizari@testville.ro",
        "public_url": "https://sesizari.testville.ro",
    }
    return dataclasses.replace(load_settings({}), **(values | more))

"""Sending e-mail through the city's mail server, and what its refusals mean.

The outbox (:mod:`sesizari.notifications`) must know, for each message,
whether to try again later, to give up on the address, or to stop and have
someone fix the settings.  :class:`SmtpMailer` turns every way sending can
fail into one of three exceptions:

- :class:`TemporaryFailure`: the server is down or busy, or answered 4xx:
  the same message may go through later;
- :class:`PermanentFailure`: the server refused this recipient or this
  message for good (5xx): trying again would only be refused again;
- :class:`MailConfigError`: the server refuses our login, our sender
  address or our encryption.  No message can go until the settings change,
  so nothing is counted against the messages themselves.

One connection is kept for a run and opened again after a failure.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from types import TracebackType

from sesizari.errors import SesizariError
from sesizari.settings import Settings

#: Seconds to wait for the mail server before the attempt counts as failed.
TIMEOUT = 30


class TemporaryFailure(Exception):
    """The message may go through later."""


class PermanentFailure(Exception):
    """The server refused this message or recipient for good."""


class MailConfigError(SesizariError):
    """Nothing can be sent until the mail settings change."""


def mail_settings_missing(settings: Settings) -> list[str]:
    """The settings still to set before anything can be sent (empty when ready)."""
    return [
        name
        for name, value in (
            ("SESIZARI_SMTP_HOST", settings.smtp_host),
            ("SESIZARI_MAIL_FROM", settings.mail_from),
        )
        if not value
    ]


class SmtpMailer:
    """A connection to the mail server named by the settings, opened when first needed."""

    def __init__(self, settings: Settings, timeout: float = TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Say goodbye to the server, if connected; never raises."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
        try:
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` or raise one of this module's three failures."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except Exception as exc:
            self.close()
            raise _classify(exc, self.settings) from exc


def _code(exc: Exception) -> int:
    return int(getattr(exc, "smtp_code", 0) or 0)


def _answer(exc: Exception) -> str:
    """The server's code and words, as text."""
    text = getattr(exc, "smtp_error", b"")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{_code(exc)} {text}".strip()


def _classify(exc: Exception, settings: Settings) -> Exception:
    """The failure ``exc`` stands for (see the module's docstring)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return MailConfigError(
            "the mail server refused the login: check SESIZARI_SMTP_USER and"
            " SESIZARI_SMTP_PASSWORD",
            ro="serverul de e-mail a refuzat autentificarea: verificați SESIZARI_SMTP_USER și"
            " SESIZARI_SMTP_PASSWORD",
        )
    if _code(exc) == 530:  # "Must issue a STARTTLS command first", "Authentication required"
        answer = _answer(exc)
        return MailConfigError(
            f"the mail server asks for encryption or a login first ({answer}): check"
            " SESIZARI_SMTP_SECURITY (starttls or ssl) and SESIZARI_SMTP_USER",
            ro=f"serverul de e-mail cere întâi criptare sau autentificare ({answer}): verificați"
            " SESIZARI_SMTP_SECURITY (starttls sau ssl) și SESIZARI_SMTP_USER",
        )
    if isinstance(exc, smtplib.SMTPSenderRefused) and _code(exc) >= 500:
        return MailConfigError(
            f"the mail server refuses the sender {settings.mail_from!r}: set"
            " SESIZARI_MAIL_FROM to an address it accepts",
            ro=f"serverul de e-mail refuză expeditorul {settings.mail_from!r}: puneți în"
            " SESIZARI_MAIL_FROM o adresă pe care o acceptă",
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLError):
        return MailConfigError(
            f"the mail server cannot protect the connection as SESIZARI_SMTP_SECURITY="
            f"{settings.smtp_security} asks ({exc}): check that setting and the port",
            ro=f"serverul de e-mail nu poate proteja conexiunea cum cere"
            f" SESIZARI_SMTP_SECURITY={settings.smtp_security} ({exc}): verificați"
            " setarea și portul",
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{code} {msg!r}" for code, msg in exc.recipients.values())
        failure = PermanentFailure if codes and min(codes) >= 500 else TemporaryFailure
        return failure(f"recipient refused: {text}")
    if isinstance(exc, smtplib.SMTPResponseException):
        failure = PermanentFailure if _code(exc) >= 500 else TemporaryFailure
        return failure(f"{exc.smtp_code} {exc.smtp_error!r}")
    if isinstance(exc, OSError | smtplib.SMTPException):
        return TemporaryFailure(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, ValueError):  # an address the e-mail library cannot write
        return PermanentFailure(f"the address cannot be used: {exc}")
    return TemporaryFailure(f"{type(exc).__name__}: {exc}")

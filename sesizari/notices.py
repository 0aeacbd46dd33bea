"""The e-mails about a report: to its reporter, in the language they
reported in (Romanian then English when it is not known); to the department
or the person it is given to, in both (:func:`compose_for_department`);
:func:`message_to` makes every message of the project, the morning digest's too.

Only public words go in it, the same the tracking page shows: the number,
the category, the department, the status, and staff text that does not look
like it holds personal data.  The address was typed by whoever filed the
report and nobody checked that it is theirs, so the message tells it nothing
a stranger holding the number could not read.  A hidden text is replaced by
a line that says where to ask for it.

The subject is made of the number, fixed words and (for a department) the
category's name only: no text typed by a citizen or by staff reaches a
header.  The body is plain text, so nothing in it is markup to escape.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from sesizari.commitments import setting
from sesizari.vocab import ro_count

#: What happened, as the subject and the first sentence say it.
WHAT: dict[str, tuple[str, str]] = {
    "created": ("a fost înregistrată", "has been registered"),
    "acknowledged": ("a fost preluată", "has been taken up"),
    "started": ("este în lucru", "is being worked on"),
    "resolved": ("a fost rezolvată", "has been resolved"),
    "closed": ("a fost închisă", "has been closed"),
    "rejected": ("a fost respinsă", "has been rejected"),
    "duplicate": (
        "a fost unită cu o sesizare anterioară",
        "has been joined to an earlier report",
    ),
    "reopened": ("a fost redeschisă", "has been reopened"),
    "public_update": ("are o actualizare", "has an update"),
    "extended": ("are un termen de răspuns prelungit", "has a later reply deadline"),
    "forwarded": ("a fost trimisă altei instituții", "has been sent to another institution"),
}

#: The heading of the staff text, by event.
TEXT_HEADING: dict[str, tuple[str, str]] = {
    "resolved": ("Cum a fost rezolvată:", "How it was fixed:"),
    "rejected": ("Motivul:", "The reason:"),
    "reopened": ("Motivul:", "The reason:"),
    "public_update": ("Mesajul primăriei:", "The city hall's message:"),
    "extended": ("Motivul:", "The reason:"),
    "forwarded": ("Instituția:", "The institution:"),
}

HIDDEN_TEXT = (
    "Textul conține date personale și nu este trimis prin e-mail; îl primiți la registratura"
    " primăriei, cu numărul sesizării.",
    "The text holds personal data and is not sent by e-mail; ask the city hall's registry for"
    " it, with the report's number.",
)


def _local(at: datetime | None, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M") if at else "—"


def _last_day(due: datetime, tz: str) -> str:
    """A term that ends at local midnight, as the tracking page says it: its
    last minute ("28.12.2026 23:59", not the next day's 00:00)."""
    return _local(due - timedelta(minutes=1), tz)


def _duration(hours: float, lang: int) -> str:
    """Hours as the report page says them: "18 ore", "3,5 zile" ("18 hours", "3.5 days")."""
    if hours < 48:
        whole = max(1, round(hours))
        if lang == 0:
            return ro_count(whole, "ore", "oră")
        return f"{whole} hour{'s' if whole != 1 else ''}"
    days = round(hours / 24, 1)
    if days == int(days):
        whole = int(days)
        return (ro_count(whole, "zile", "zi"), f"{whole} day{'s' if whole != 1 else ''}")[lang]
    return (f"{days:.1f} zile".replace(".", ","), f"{days:.1f} days")[lang]


def _details(row: Mapping[str, Any], lang: int) -> list[str]:
    """The lines that say more than the status, for the event ``row``."""
    kind, data = row["kind"], row["data"] or {}
    lines: list[str] = []
    if kind == "created":
        dep = (row["department_ro"], row["department_en"])[lang]
        lines.append(
            (f"Se ocupă de ea: {dep}.", f"It is handled by: {dep}.")[lang]
        )
        if row["legal_due_at"] is not None:
            due = _last_day(row["legal_due_at"], row["timezone"])
            lines.append(
                (
                    f"Termenul legal de răspuns (OG 27/2002): {due}.",
                    f"The legal reply deadline (OG 27/2002): {due}.",
                )[lang]
            )
        if row["expected_hours_p50"] is not None and row["expected_hours_p80"] is not None:
            p50 = _duration(float(row["expected_hours_p50"]), lang)
            p80 = _duration(float(row["expected_hours_p80"]), lang)
            lines.append(
                (
                    f"Jumătate din sesizările similare se rezolvă în {p50}, 80% în {p80}.",
                    f"Half of similar reports are fixed within {p50}, 80% within {p80}.",
                )[lang]
                if row["expected_basis"] == "history"
                # too few fixed reports like it yet: the category's own target
                else (
                    f"Termenul de rezolvare al categoriei: {p50}.",
                    f"The category's target time to fix: {p50}.",
                )[lang]
            )
    elif kind == "duplicate" and data.get("duplicate_of"):
        orig = data["duplicate_of"]
        lines.append(
            (
                f"Aceeași problemă fusese semnalată în sesizarea nr. {orig}; urmăriți-o pe aceea.",
                f"The same problem was reported in {orig}; follow that report.",
            )[lang]
        )
    elif kind == "extended" and data.get("to"):
        due = _last_day(datetime.fromisoformat(data["to"]), row["timezone"])
        lines.append((f"Noul termen de răspuns: {due}.", f"The new reply deadline: {due}.")[lang])
    if kind in TEXT_HEADING and row["has_text"]:
        lines += ["", TEXT_HEADING[kind][lang]]
        lines.append(row["text"] if row["text"] is not None else HIDDEN_TEXT[lang])
    if kind == "resolved" and row["has_pin"]:
        days = setting(row["city_settings"], "verification_days")
        lines += [
            "",
            (
                f"Nu este rezolvată? Spuneți-ne pe pagina de urmărire în {days} zile, cu PIN-ul"
                " primit la înregistrare: sesizarea se redeschide.",
                f"Not fixed? Tell us on the tracking page within {days} days, with the PIN you"
                " were given when reporting: the report reopens.",
            )[lang],
        ]
    return lines


def _part(row: Mapping[str, Any], public_url: str, lang: int) -> list[str]:
    number = row["registry_number"]
    category = (row["category_ro"], row["category_en"])[lang]
    city = (row["city_ro"], row["city_en"])[lang]
    when = _local(row["event_at"], row["timezone"])
    what = WHAT[row["kind"]][lang]
    lines = [
        ("Bună ziua,", "Hello,")[lang],
        "",
        (
            f"Sesizarea dumneavoastră nr. {number} ({category}) {what} la {when}.",
            f"Your report {number} ({category}) {what} on {when}.",
        )[lang],
        *_details(row, lang),
        "",
    ]
    if public_url:
        link = f"{public_url}/track?id={number}"
        lines.append((f"Stadiul sesizării: {link}", f"Follow the report: {link}")[lang])
    else:
        lines.append(
            (
                "Stadiul sesizării îl aflați pe pagina de urmărire a primăriei, cu numărul"
                f" {number}.",
                f"Follow the report on the city hall's tracking page, with its number {number}.",
            )[lang]
        )
    lines += [
        "",
        (f"Primăria {city}", f"{city} City Hall")[lang],
        (
            "Mesaj trimis automat; răspunsurile la el nu sunt citite. L-ați primit pentru că ați"
            f" lăsat această adresă la sesizarea nr. {number}. Nu mai doriți mesaje? Pe pagina"
            " de urmărire, cu PIN-ul primit la înregistrare: „Nu mai trimiteți e-mailuri”.",
            "An automatic message; replies to it are not read. You received it because this"
            f" address was given with report {number}. No more messages? On the tracking page,"
            " with the PIN you were given when reporting: 'Stop the e-mails'.",
        )[lang],
    ]
    return lines


def compose(row: Mapping[str, Any], mail_from: str, public_url: str = "") -> EmailMessage:
    """The message to the reporter about the event ``row`` (a row of the
    outbox's claim query), in the language the report was made in
    (``reporter_lang``), or in Romanian then English when it is not known.

    Raises ``ValueError`` when the sender or recipient cannot be written as
    an address (the outbox then gives up on this message).
    """
    number, what = row["registry_number"], WHAT[row["kind"]]
    lang = row.get("reporter_lang")
    if lang == "en":
        return _message(row, mail_from, f"Report {number} {what[1]}", _part(row, public_url, 1))
    subject = f"Sesizarea nr. {number} {what[0]}"
    if lang == "ro":
        return _message(row, mail_from, subject, _part(row, public_url, 0))
    body = [*_part(row, public_url, 0), "", "— English —", "", *_part(row, public_url, 1)]
    return _message(row, mail_from, subject, body)


#: How a staff message says why the report is theirs: the subject's first
#: words, then the first sentence in Romanian and in English.
ROUTED: dict[str, tuple[str, str, str]] = {
    "created": (
        "Sesizare nouă",
        "Sesizarea nr. {number} ({category}) a fost repartizată compartimentului {department}"
        " la {when}.",
        "Report {number} ({category}) has been routed to {department} on {when}.",
    ),
    "rerouted": (
        "Sesizare redirecționată",
        "Sesizarea nr. {number} ({category}) a fost redirecționată către compartimentul"
        " {department} la {when}.",
        "Report {number} ({category}) has been re-routed to {department} on {when}.",
    ),
    "assigned": (
        "Sesizare dată dumneavoastră",
        "Sesizarea nr. {number} ({category}), din compartimentul {department}, v-a fost dată"
        " la {when}.",
        "Report {number} ({category}), of {department}, has been given to you on {when}.",
    ),
}


def _staff_sentence(row: Mapping[str, Any]) -> str:
    """Which :data:`ROUTED` entry: a person is told that it was given to them."""
    return "assigned" if row["recipient"] == "assignee" else row["kind"]


def _department_part(row: Mapping[str, Any], public_url: str, lang: int) -> list[str]:
    number = row["registry_number"]
    lines = [
        ROUTED[_staff_sentence(row)][1 + lang].format(
            number=number,
            category=(row["category_ro"], row["category_en"])[lang],
            department=(row["department_ro"], row["department_en"])[lang],
            when=_local(row["event_at"], row["timezone"]),
        )
    ]
    place = f"{row['lat']:.6f}, {row['lon']:.6f}"
    if row["assignee"] and row["recipient"] != "assignee":
        lines.append((f"Responsabil: {row['assignee']}", f"Assignee: {row['assignee']}")[lang])
    lines += [
        (f"Adresa: {row['address'] or '—'}", f"Address: {row['address'] or '—'}")[lang],
        (f"Locul: {place}", f"Place: {place}")[lang],
        "",
        ("Descrierea:", "Description:")[lang],
        row["description"]
        if row["description"] is not None
        else (
            "Descrierea pare să conțină date personale; o citiți în aplicație.",
            "The description seems to hold personal data; read it in the application.",
        )[lang],
        "",
    ]
    if public_url:
        link = f"{public_url}/incident?id={number}"
        lines.append((f"Fișa sesizării: {link}", f"The report's page: {link}")[lang])
    else:
        lines.append(
            (
                f"Fișa sesizării: în aplicație, pagina „Fișa sesizării”, cu numărul {number}.",
                f"The report's page: in the application, the Incident page, number {number}.",
            )[lang]
        )
    lines.append(
        (
            f"Sesizări {row['city_ro']}: mesaj trimis automat.",
            f"Sesizari {row['city_en']}: an automatic message.",
        )[lang]
    )
    return lines


def compose_for_department(
    row: Mapping[str, Any], mail_from: str, public_url: str = ""
) -> EmailMessage:
    """The message to a department's mailbox about a report registered for
    it or re-routed to it, or to the person it was given to (``row``: a row
    of the outbox's claim query).

    It goes to the city's own mailboxes and carries what staff work from: the
    place, the address and the description, unless the description looks
    like it holds personal data (it stays in the application).  Never the
    reporter's contact details.
    """
    body = [*_department_part(row, public_url, 0), "", "— English —", "",
            *_department_part(row, public_url, 1)]  # fmt: skip
    subject = (
        f"{ROUTED[_staff_sentence(row)][0]} nr. {row['registry_number']}: {row['category_ro']}"
    )
    return _message(row, mail_from, subject, body)


def _message(
    row: Mapping[str, Any], mail_from: str, subject: str, body: list[str]
) -> EmailMessage:
    return message_to(row["email"], row["city_ro"], mail_from, subject, body, row["event_at"])


def message_to(
    to: str,
    city_ro: str,
    mail_from: str,
    subject: str,
    body: list[str],
    at: datetime | None = None,
) -> EmailMessage:
    """A plain-text message from the city's sender to ``to``; ``body`` is its lines.

    Raises ``ValueError`` when an address cannot be written.
    """
    message = EmailMessage()
    username, _, domain = mail_from.rpartition("@")
    message["From"] = Address(f"Sesizări {city_ro}".strip(), username, domain)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(at or datetime.now(UTC))
    message["Message-ID"] = make_msgid("sesizari", domain or None)
    # RFC 3834: out-of-office robots do not answer an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join(body) + "\n")
    return message

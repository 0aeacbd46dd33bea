"""The erasure journal: erasure requests remembered outside the database.

A backup holds the reporters' contacts of its day.  Restored after an
erasure request was carried out, it would bring back what the reporter
asked to have removed (GDPR art. 17) and an e-mail address they asked us
to stop writing to (art. 21).  The database cannot remember those requests
for itself, since it is what the restore replaces, so each one is also
written to a journal kept beside the backups
(``var/backups/erasures.jsonl``): one JSON line per request, naming the
city, the registry number, what was asked and when; never a contact.
:func:`sesizari.backup.restore` reads it and carries every request out
again (erasures are idempotent: one already in the backup removes nothing).

The line is written and flushed to disk before the erasure's transaction
commits: if the journal cannot be written, the erasure fails whole and
says why, so a removal the journal does not know of cannot happen.  Copy
the journal with the backups when they leave the machine.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sesizari.errors import SesizariError
from sesizari.registry import normalize
from sesizari.settings import Settings, load_settings

#: The journal's file name, in the backups folder (and beside a backup being restored).
JOURNAL = "erasures.jsonl"
#: What a request removed: ``report`` (contacts, report photos, the
#: description: :func:`sesizari.privacy.erase`) or ``email`` (the address
#: only: :func:`sesizari.privacy.stop_emails`).
SCOPES = ("report", "email")


class JournalError(SesizariError):
    """The erasure journal cannot be written or read; the message says what to fix."""


@dataclass(frozen=True)
class Entry:
    """One erasure request, as the journal keeps it."""

    city: str
    number: str
    scope: str
    at: str
    by: str = ""
    reason: str = ""


def journal_path(settings: Settings | None = None) -> Path:
    """The journal of this installation: in the backups folder, so it travels with them."""
    settings = settings or load_settings()
    return settings.data_dir / "backups" / JOURNAL


def append(entry: Entry, path: Path | None = None) -> None:
    """Add ``entry`` to the journal and make it durable before returning."""
    if entry.scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {entry.scope!r}")
    path = path or journal_path()
    line = json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise JournalError(
            f"cannot write the erasure journal {path}: {exc}; nothing was erased. Check the"
            " free space and the permissions of the folder (SESIZARI_DATA_DIR), then try again",
            ro=f"Jurnalul ștergerilor ({path}) nu poate fi scris: {exc}; nu s-a șters nimic."
            " Verificați spațiul liber și drepturile dosarului, apoi încercați din nou.",
        ) from exc


def entry(city: str, number: str, scope: str, *, by: str = "", reason: str = "",
          at: datetime | None = None) -> Entry:  # fmt: skip
    """An :class:`Entry` dated now (UTC), with the number as the registry writes it."""
    when = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    return Entry(city, normalize(number), scope, when, by, reason)


@dataclass(frozen=True)
class Journal:
    """What one or more journal files hold: the requests, and the lines that were not one."""

    entries: list[Entry]
    files: list[Path]
    unreadable: int = 0


def read(paths: list[Path]) -> Journal:
    """The requests of the journals among ``paths`` that exist, each once, oldest first.

    A line that is not a request (the last one cut by a crash while it was
    written, an edit by hand) is counted in ``unreadable``, not fatal.
    """
    seen: dict[tuple[str, str, str], Entry] = {}
    files: list[Path] = []
    unreadable = 0
    for path in dict.fromkeys(p.resolve() for p in paths):
        if not path.is_file():
            continue
        files.append(path)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise JournalError(f"cannot read the erasure journal {path}: {exc}") from exc
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                found = Entry(**{k: str(raw.get(k, "")) for k in Entry.__dataclass_fields__})
            except (ValueError, TypeError, AttributeError):
                unreadable += 1
                continue
            if found.scope not in SCOPES or not found.city or not found.number:
                unreadable += 1
                continue
            seen.setdefault((found.city, found.number, found.scope), found)
    return Journal(sorted(seen.values(), key=lambda e: e.at), files, unreadable)


def copy_to(folder: Path, journal: Path | None = None) -> Path | None:
    """Bring the journal ``journal`` (default this installation's) into ``folder``,
    beside a backup written there, so that it travels with the backups.

    A journal already in ``folder`` keeps its lines and gains the missing
    ones (requests are only ever added); the file is replaced whole.
    Returns the copy, or None when there is nothing to copy or it is the
    same file.
    """
    journal = journal or journal_path()
    target = folder / JOURNAL
    if not journal.is_file() or (target.exists() and target.resolve() == journal.resolve()):
        return None
    try:
        lines = target.read_text(encoding="utf-8").splitlines() if target.exists() else []
        known = set(lines)
        lines += [line for line in journal.read_text(encoding="utf-8").splitlines()
                  if line.strip() and line not in known]  # fmt: skip
        partial = folder / f".{JOURNAL}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in lines))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except OSError as exc:
        raise JournalError(
            f"the backup is written, but the erasure journal could not be copied beside it"
            f" ({exc}); copy {journal} to {folder} yourself"
        ) from exc
    return target

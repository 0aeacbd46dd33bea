"""One settings object, read from the environment.

Every knob of the project is declared here once, with its default and a line
of documentation; ``.env.example`` mirrors this table and a test checks that
they agree.  Secrets never appear in ``repr`` (see :func:`mask_url`).
"""

from __future__ import annotations

import functools
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

REPO_ROOT = Path(__file__).resolve().parent.parent

#: name -> (default, documentation).  ``None`` default means "unset".
SETTINGS_DOC: dict[str, tuple[str | None, str]] = {
    "DATABASE_URL": (
        None,
        "SQLAlchemy URL of an existing PostGIS database "
        "(postgresql+psycopg://user:pass@host/db). Unset: use the embedded cluster.",
    ),
    "SESIZARI_READ_DATABASE_URL": (
        None,
        "URL of a login that may only read (the dashboard's analytics and the API's GETs). "
        "Unset: the embedded cluster's sesizari_reader, or DATABASE_URL in read-only transactions.",
    ),
    "SESIZARI_DATA_DIR": (
        str(REPO_ROOT / "var"),
        "Folder for the embedded PostgreSQL cluster and the photo store.",
    ),
    "SESIZARI_PHOTO_DIR": (
        None,
        "Folder of the content-addressed photo store. Unset: <SESIZARI_DATA_DIR>/photos.",
    ),
    "SESIZARI_PG_PORT": ("5439", "Port number of the embedded cluster (its socket file name)."),
    "SESIZARI_PG_LISTEN": (
        "",
        "TCP address the embedded cluster also listens on (e.g. 127.0.0.1); empty = socket only.",
    ),
    "SESIZARI_PG_USER": (
        "postgres",
        "Unprivileged system user that runs the embedded server when started as root.",
    ),
    "SESIZARI_REFRESH_SECONDS": ("60", "Default auto-refresh interval of the live map."),
    "SESIZARI_POINTS_LIMIT": (
        "5000",
        "Largest filtered set drawn as individual points; above it maps show aggregates.",
    ),
    "SESIZARI_QUEUE_ROWS": (
        "500",
        "Rows a work queue shows at most (in its order); the page says how many it leaves out.",
    ),
    "SESIZARI_RATE_LIMIT": (
        "10",
        "Public reports accepted per client connection and city in one hour.",
    ),
    "SESIZARI_API_RATE_LIMIT": (
        "600",
        "Reports accepted per API key (an app, for all its users) and city in one hour.",
    ),
    "SESIZARI_SECRET": (
        "change-me",
        "Secret salt for hashing client addresses (rate limiting). Set a random value.",
    ),
    "SESIZARI_STAFF_SESSION_HOURS": (
        "12",
        "How long a staff sign-in lasts in a browser, across page reloads (hours).",
    ),
    "SESIZARI_TILE_URL": (
        "",
        "XYZ tile URL for the report map (e.g. the city's tile server); empty = plain background.",
    ),
    "SESIZARI_PUBLIC_URL": (
        "",
        "Address of the public dashboard (e.g. https://sesizari.lugoj.ro): e-mails link to "
        "the report's tracking page there. Empty: e-mails give the number only.",
    ),
    "SESIZARI_SMTP_HOST": (
        "",
        "Mail server that sends reporters their registration number and replies. "
        "Empty: the messages wait in the outbox.",
    ),
    "SESIZARI_SMTP_PORT": ("587", "Port number of the mail server."),
    "SESIZARI_SMTP_SECURITY": (
        "starttls",
        "How the connection to the mail server is protected: starttls, ssl or none. A server"
        " whose certificate comes from the city's own authority: SSL_CERT_FILE=/path/ca.pem.",
    ),
    "SESIZARI_SMTP_USER": (None, "Login at the mail server. Unset: send without logging in."),
    "SESIZARI_SMTP_PASSWORD": (None, "Password of SESIZARI_SMTP_USER."),
    "SESIZARI_IMAP_PASSWORD": (
        None,
        "Password of the city mailbox `inbox import --imap` reads (never on the command line,"
        " which every user of the machine can see). One per city:"
        " SESIZARI_IMAP_PASSWORD_<SLUG>, e.g. SESIZARI_IMAP_PASSWORD_ALBA_IULIA.",
    ),
    "SESIZARI_MAIL_FROM": (
        "",
        "Sender address of the e-mails (e.g. sesizari@primarialugoj.ro); needed to send.",
    ),
}

#: How the connection to the mail server may be protected.
SMTP_SECURITY = ("starttls", "ssl", "none")


def mask_url(url: str | None) -> str | None:
    """Return ``url`` with its password replaced, safe for logs and reprs."""
    if url is None:
        return None
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


@dataclass(frozen=True)
class Settings:
    """The project's configuration; build it with :func:`load_settings`."""

    database_url: str | None = field(repr=False)
    data_dir: Path
    photo_dir: Path
    pg_port: int
    pg_listen: str
    pg_user: str
    refresh_seconds: int
    points_limit: int
    rate_limit_per_hour: int = 10
    api_rate_limit_per_hour: int = 600
    secret: str = field(default="change-me", repr=False)
    tile_url: str = ""
    read_database_url: str | None = field(default=None, repr=False)
    staff_session_hours: int = 12
    queue_rows: int = 500
    public_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: str = ""
    imap_password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # pragma: no cover - trivial
        return (
            f"Settings(database_url={mask_url(self.database_url)!r}, data_dir={self.data_dir!s}, "
            f"pg_port={self.pg_port})"
        )

    @property
    def embedded(self) -> bool:
        """True when the project manages its own PostgreSQL cluster."""
        return not self.database_url


def _get(env: dict[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or value == "":
        return SETTINGS_DOC[name][0]
    return value


class SettingsError(ValueError):
    """A setting of the environment that cannot be used: the command lines
    say it in one line (:func:`sesizari.cli.run`), not as a traceback."""


def _int(env: dict[str, str], name: str) -> int:
    raw = _get(env, name)
    try:
        return int(raw or "")
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _database_url(raw: str | None, name: str) -> str | None:
    """A database URL for psycopg 3: ``postgres://`` and ``postgresql://``
    (as hosting services and libpq write them) name SQLAlchemy's psycopg 2
    driver, which is not installed.  A refusal shows the scheme alone: the
    rest of the text may hold the password."""
    if raw is None:
        return None
    found = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", raw)
    scheme = found.group(1).lower() if found else None
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        url = "postgresql+psycopg://" + raw[found.end():]  # type: ignore[union-attr]
        try:
            # Read as the migration tool and SQLAlchemy will (a port that is
            # not a number, an unclosed bracket): here, not as a traceback later.
            urllib.parse.urlsplit(url).port  # noqa: B018 - read for its check
            make_url(url)
        except (ValueError, ArgumentError) as exc:  # their texts quote no password
            raise SettingsError(
                f"{name} cannot be used ({exc}): write it as"
                " postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME"
            ) from None
        return url
    shown = f"its scheme is {scheme!r}" if scheme else "it has no scheme (NAME://)"
    raise SettingsError(
        f"{name} must be a PostgreSQL URL, postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME;"
        f" {shown}"
    )


#: The settings file beside the code (git-ignored; ``.env.example`` lists
#: every variable): what it sets counts unless the environment sets it too,
#: so a cron job or a service reads the same settings as a shell.
#: ``SESIZARI_ENV_FILE`` names another (the test suite: one that does not
#: exist, so that a checkout's own settings never reach the tests).
ENV_FILE = REPO_ROOT / ".env"
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
#: A quoted value, and a comment after it.
_QUOTED = re.compile(r"""^(["'])(.*)\1\s*(?:#.*)?$""")


def read_env_file(path: Path | None = None) -> dict[str, str]:
    """``KEY=VALUE`` lines as shells write them: comments and blank lines
    skipped, an ``export`` prefix and quotes around the value taken off.
    Read again only when the file changes (settings are read per request)."""
    path = path or Path(os.environ.get("SESIZARI_ENV_FILE") or ENV_FILE)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"cannot read {path} ({exc})") from None
    return dict(_parse_env_file(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _parse_env_file(path: Path, _mtime_ns: int, _size: int) -> tuple[tuple[str, str], ...]:
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {path} ({exc})") from None
    found: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise SettingsError(f"{path}, line {n}: write it as NAME=value")
        name, value = match.groups()
        quoted = _QUOTED.match(value)
        if quoted:
            value = quoted.group(2)
        else:  # as a shell reads it: " # ..." after an unquoted value is a comment
            value = re.split(r"\s+#", value, maxsplit=1)[0]
        found[name] = value
    return tuple(found.items())


def environment() -> dict[str, str]:
    """The process environment over the settings file (:data:`ENV_FILE`)."""
    return {**read_env_file(), **os.environ}


def _folder(value: str) -> Path:
    """A folder setting; a relative one is read from the repository, not from
    wherever a command happens to run (a cron job started elsewhere would
    otherwise start a second, empty cluster)."""
    path = Path(value).expanduser()
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: the process environment over
    the settings file, :func:`environment`)."""
    env = environment() if env is None else dict(env)
    data_dir = _folder(_get(env, "SESIZARI_DATA_DIR") or "var")
    photo_dir = _get(env, "SESIZARI_PHOTO_DIR")
    if _int(env, "SESIZARI_STAFF_SESSION_HOURS") < 1:
        raise SettingsError("SESIZARI_STAFF_SESSION_HOURS must be at least 1 (hours)")
    if _int(env, "SESIZARI_QUEUE_ROWS") < 1:
        raise SettingsError("SESIZARI_QUEUE_ROWS must be at least 1 (rows)")
    security = (_get(env, "SESIZARI_SMTP_SECURITY") or "").lower()
    if security not in SMTP_SECURITY:
        raise SettingsError(
            f"SESIZARI_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, got {security!r}"
        )
    return Settings(
        database_url=_database_url(_get(env, "DATABASE_URL"), "DATABASE_URL"),
        data_dir=data_dir,
        photo_dir=_folder(photo_dir) if photo_dir else data_dir / "photos",
        pg_port=_int(env, "SESIZARI_PG_PORT"),
        pg_listen=_get(env, "SESIZARI_PG_LISTEN") or "",
        pg_user=_get(env, "SESIZARI_PG_USER") or "postgres",
        refresh_seconds=_int(env, "SESIZARI_REFRESH_SECONDS"),
        points_limit=_int(env, "SESIZARI_POINTS_LIMIT"),
        rate_limit_per_hour=_int(env, "SESIZARI_RATE_LIMIT"),
        api_rate_limit_per_hour=_int(env, "SESIZARI_API_RATE_LIMIT"),
        secret=_get(env, "SESIZARI_SECRET") or "change-me",
        tile_url=_get(env, "SESIZARI_TILE_URL") or "",
        read_database_url=_database_url(_get(env, "SESIZARI_READ_DATABASE_URL"),
                                        "SESIZARI_READ_DATABASE_URL"),
        staff_session_hours=_int(env, "SESIZARI_STAFF_SESSION_HOURS"),
        queue_rows=_int(env, "SESIZARI_QUEUE_ROWS"),
        public_url=(_get(env, "SESIZARI_PUBLIC_URL") or "").rstrip("/"),
        smtp_host=_get(env, "SESIZARI_SMTP_HOST") or "",
        smtp_port=_int(env, "SESIZARI_SMTP_PORT"),
        smtp_security=security,
        smtp_user=_get(env, "SESIZARI_SMTP_USER"),
        smtp_password=_get(env, "SESIZARI_SMTP_PASSWORD"),
        mail_from=_get(env, "SESIZARI_MAIL_FROM") or "",
        imap_password=_get(env, "SESIZARI_IMAP_PASSWORD"),
    )

"""``python -m sesizari``: manage the database and the demo.

python -m sesizari db start|stop|status|url|migrate
python -m sesizari check [--strict]
python -m sesizari demo [--incidents N] [--seed S]
python -m sesizari city create --slug SLUG --name-ro NAME --name-en NAME --prefix ABC
    --boundary FILE [--feature NAME] [--districts FILE]
python -m sesizari city list
python -m sesizari create-admin --city SLUG
python -m sesizari photos clean [--grace-minutes M]
python -m sesizari apikey issue|revoke|list --city SLUG
python -m sesizari privacy expire [--city SLUG] [--dry-run]
python -m sesizari privacy erase NUMBER --city SLUG --by NAME [--reason TEXT]
python -m sesizari privacy reapply [--journal FILE]
python -m sesizari notify send [--city SLUG] [--limit N] [--every SECONDS]
python -m sesizari notify digest [--city SLUG]
python -m sesizari notify status --city SLUG
python -m sesizari notify test ADDRESS
python -m sesizari inbox import --city SLUG (--imap imaps://USER@HOST/INBOX | --maildir DIR)
python -m sesizari inbox status --city SLUG
python -m sesizari backup create [--output FILE]
python -m sesizari backup verify FILE
python -m sesizari backup restore FILE [--replace]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import sqlalchemy as sa
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sesizari import db
from sesizari.errors import SesizariError
from sesizari.settings import Settings, SettingsError, load_settings, mask_url

if TYPE_CHECKING:
    from sesizari.notifications import SendReport

# Help texts are Markdown: a docstring's lines are joined into paragraphs at
# the terminal's width, and `code` shows as code (a <placeholder> must be in
# backticks, or Markdown takes it for a tag and drops it).
MARKUP = "markdown"

app = typer.Typer(
    help="Sesizari: city incident reports on a map.", no_args_is_help=True, rich_markup_mode=MARKUP
)


def _group(name: str, text: str) -> typer.Typer:
    """A command group of the main app (``python -m sesizari NAME ...``)."""
    group = typer.Typer(help=text, rich_markup_mode=MARKUP)
    app.add_typer(group, name=name)
    return group


db_app = _group("db", "The PostGIS database (embedded cluster unless DATABASE_URL is set).")
photos_app = _group("photos", "The photo store (SESIZARI_PHOTO_DIR).")
key_app = _group("apikey", "API keys of the apps that file reports through the HTTP API.")
privacy_app = _group("privacy", "Reporters' personal data: retention and erasure (GDPR).")
city_app = _group("city", "The cities served: a new city from its boundary file.")
notify_app = _group(
    "notify",
    "E-mails: reporters' numbers and replies, new work for departments and staff, the"
    " morning list of overdue reports.",
)
inbox_app = _group(
    "inbox",
    "Reports received by e-mail: from the city's mailbox (IMAP or a Maildir) to the"
    " dispatcher's desk.",
)
backup_app = _group(
    "backup", "Backups: the database and the photo store in one file; check one; restore one."
)


def _fail(exc: Exception) -> None:
    typer.secho(f"Error: {exc}", fg="red", err=True)
    raise typer.Exit(1)


def _embedded_only(action: str) -> None:
    if not load_settings().embedded:
        typer.echo(f"DATABASE_URL is set: `{action}` manages only the embedded cluster.")
        raise typer.Exit(0)


@db_app.command("start")
def db_start() -> None:
    """Initialise (first time) and start the embedded cluster; create the database; migrate."""
    _embedded_only("db start")
    try:
        url = db.database_url()
        applied = db.migrate(url)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(db.embedded_cluster().status())
    typer.echo(f"migrations applied: {len(applied)}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster (data is kept)."""
    _embedded_only("db stop")
    try:
        db.embedded_cluster().stop()
    except SesizariError as exc:
        _fail(exc)
    typer.echo(db.embedded_cluster().status())


@db_app.command("status")
def db_status() -> None:
    """Show where the database is, whether it runs, and the latest backup."""
    from sesizari.backup import latest_backup

    settings = load_settings()
    if not settings.embedded:
        typer.echo(f"external database: {mask_url(settings.database_url)}")
    else:
        typer.echo(db.embedded_cluster(settings).status())
    typer.echo(latest_backup(settings))


@app.command("check")
def check(
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 on a warning too (a late backup, e-mails waiting)."
    ),
) -> None:
    """Check that the installation does its work: the database and its
    migrations, the folders it writes, the nightly backup, the e-mail sender,
    the mailbox import and the feeds. One line each, with what to do.

    Exit status 1 when something fails (with --strict, also on a warning):
    run it from your monitoring. Changes nothing.
    """
    from sesizari.health import check as look
    from sesizari.health import worst

    findings = look()
    for finding in findings:
        colour = {"ok": None, "warn": "yellow", "fail": "red"}[finding.level]
        typer.secho(str(finding), fg=colour)
    level = worst(findings)
    if level == "fail" or (strict and level == "warn"):
        raise typer.Exit(1)


@db_app.command("url")
def db_url() -> None:
    """Print the SQLAlchemy URL in use (password masked)."""
    try:
        typer.echo(mask_url(db.database_url()))
    except SesizariError as exc:
        _fail(exc)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations from sql/migrations."""
    try:
        applied = db.migrate(db.database_url())
    except SesizariError as exc:
        _fail(exc)
    typer.echo(f"applied: {', '.join(applied) or 'nothing (up to date)'}")


@app.command("demo")
def demo(
    incidents: int = typer.Option(20_000, "--incidents", "-n", min=10, help="Total incidents."),
    seed: int = typer.Option(42, help="Random seed: same seed and --as-of give the same data."),
    as_of: datetime = typer.Option(None, help="End of the demo history (default: now)."),
) -> None:
    """Load the demo cities (Lugoj, Alba Iulia) unless they are already there."""
    from sesizari.demo.load import load_demo

    try:
        engine = db.get_engine()
        with _progress_bar() as bar:
            loaded = load_demo(engine, incidents, seed, as_of, _reporter(bar))
    except SesizariError as exc:
        _fail(exc)
    for slug, n in loaded.items():
        typer.echo(f"{slug}: {n} incidents loaded" if n else f"{slug}: already present, skipped")


@photos_app.command("clean")
def photos_clean(
    grace_minutes: float = typer.Option(
        60, min=0, help="Keep files younger than this: uploads may still be committing."
    ),
) -> None:
    """Delete stored photo files that no photo row refers to (run periodically)."""
    from datetime import timedelta

    from sesizari.photos import remove_orphans

    try:
        removed = remove_orphans(db.get_engine(), timedelta(minutes=grace_minutes))
    except SesizariError as exc:
        _fail(exc)
    for key in removed:
        typer.echo(f"removed {key}")
    typer.echo(f"orphan photos removed: {len(removed)}")


@city_app.command("create")
def city_create(
    slug: str = typer.Option(..., help="Short name used in links and commands, e.g. lugoj."),
    name_ro: str = typer.Option(..., help="The city's name in Romanian, e.g. Lugoj."),
    name_en: str = typer.Option(..., help="The city's name in English."),
    prefix: str = typer.Option(..., help="Registry prefix, 2-6 capitals: LUG -> LUG-2026-000123."),
    boundary: Path = typer.Option(
        ..., help="The administrative boundary: GeoJSON, GeoPackage, Shapefile... (any CRS)."
    ),
    feature: str = typer.Option(
        None, help="Which area of a file holding several (matched on --name-field)."
    ),
    name_field: str = typer.Option("name", help="The field naming each area of the files."),
    districts: Path = typer.Option(
        None, help="Optional districts (neighbourhoods) of the city, one polygon each."
    ),
    clip_districts: bool = typer.Option(
        False, "--clip-districts",
        help="Cut districts drawn past the boundary to it (most of each must lie inside).",
    ),
    timezone: str = typer.Option("Europe/Bucharest", help="The city's time zone."),
    catalogue: bool = typer.Option(
        True, help="Add the usual departments and categories (then edit them on the Admin page)."
    ),
) -> None:
    """Create a city: record, boundary, districts, departments and categories, all or nothing."""
    from sesizari import onboarding

    try:
        area = onboarding.pick_boundary(
            onboarding.read_areas(boundary, name_field), name_field, feature
        )
        parts = onboarding.read_areas(districts, name_field) if districts else None
        with db.get_engine().begin() as conn:
            made = onboarding.create_city(
                conn,
                slug=slug,
                name_ro=name_ro,
                name_en=name_en,
                registry_prefix=prefix,
                boundary=area,
                timezone=timezone,
                districts=parts,
                district_field=name_field,
                catalogue=catalogue,
                clip_districts=clip_districts,
            )
    except SesizariError as exc:
        _fail(exc)
    typer.echo(
        f"{slug}: created, numbers {prefix}-YYYY-NNNNNN; {made.districts} districts,"
        f" {made.departments} departments, {made.categories} categories."
    )
    typer.echo(f"Next: python -m sesizari create-admin --city {slug}")


@city_app.command("list")
def city_list() -> None:
    """The cities in the database, with their registry prefix and incident count."""
    try:
        with db.get_engine().connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT c.slug, c.name_ro, c.registry_prefix,"
                    " (SELECT count(*) FROM incidents i WHERE i.city_id = c.city_id) AS n"
                    " FROM cities c ORDER BY c.slug"
                )
            ).all()
    except SesizariError as exc:
        _fail(exc)
    if not rows:
        typer.echo("No city yet: python -m sesizari city create --help")
    for row in rows:
        typer.echo(f"{row.slug}\t{row.name_ro}\t{row.registry_prefix}\t{row.n} incidents")


def _known_city(slug: str) -> str:
    """``--city`` checked when it is read, before any prompt: a typo is said
    before the password is asked for twice, not after."""
    from sesizari import catalog

    try:
        with db.get_engine().connect() as conn:
            catalog.get_city(conn, slug)
    except SesizariError as exc:
        _fail(exc)
    return slug


@app.command("create-admin")
def create_admin(
    city: str = typer.Option(..., help="City slug, e.g. lugoj.", callback=_known_city),
    username: str = typer.Option("admin", help="Login name of the new administrator."),
    full_name: str = typer.Option("Administrator", help="Name shown in the history."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True,
        help="At least 10 characters, and not easy to guess (no common word, run of keys or"
        " repeated piece).",
    ),
) -> None:
    """Create the first administrator of a city, or give an existing user back
    the way in: a new password and, if needed, the administrator role and an
    enabled account (a locked-out or disabled administrator's recovery)."""
    from sesizari import auth, catalog

    done: list[str] = []
    try:
        engine = db.get_engine()
        with engine.begin() as conn:
            city_row = catalog.get_city(conn, city)
            exists = conn.execute(
                sa.text("SELECT role, active FROM users WHERE city_id = :c AND username = :u"
                        " FOR UPDATE"),
                {"c": city_row.city_id, "u": username},
            ).first()
            if exists:
                auth.set_password(conn, city_row.city_id, username, password)
                done.append("new password")
                if exists.role != "admin":
                    done.append(f"role {exists.role} -> admin")
                if not exists.active:
                    done.append("account enabled again")
                conn.execute(
                    sa.text("UPDATE users SET role = 'admin', active = true"
                            " WHERE city_id = :c AND username = :u"
                            " AND (role <> 'admin' OR NOT active)"),
                    {"c": city_row.city_id, "u": username},
                )
            else:
                catalog.create_user(
                    conn,
                    city_row.city_id,
                    username=username,
                    full_name=full_name,
                    role="admin",
                    password_hash=auth.hash_password(password),
                )
    except SesizariError as exc:
        _fail(exc)
    if done:
        typer.echo(f"{username} already existed in {city}: {', '.join(done)}.")
    typer.echo(f"{username} can now sign in to {city} as administrator.")


@key_app.command("issue")
def apikey_issue(
    city: str = typer.Option(..., help="City slug, e.g. lugoj."),
    name: str = typer.Option(..., help="The app the key is for."),
) -> None:
    """Issue a key and print it: it is shown only this once (only its hash is stored)."""
    from sesizari import apikeys
    from sesizari.catalog import get_city

    try:
        with db.get_engine().begin() as conn:
            key = apikeys.issue_key(conn, get_city(conn, city).city_id, name)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(key)


@key_app.command("revoke")
def apikey_revoke(
    city: str = typer.Option(..., help="City slug."),
    key_id: int = typer.Option(..., help="Key id, as `apikey list` shows it."),
) -> None:
    """Stop accepting a key."""
    from sesizari import apikeys
    from sesizari.catalog import get_city

    try:
        with db.get_engine().begin() as conn:
            apikeys.revoke_key(conn, get_city(conn, city).city_id, key_id)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(f"key {key_id} revoked")


@key_app.command("list")
def apikey_list(city: str = typer.Option(..., help="City slug.")) -> None:
    """The city's keys (id, app, created, revoked); never the keys themselves."""
    from sesizari import apikeys
    from sesizari.catalog import get_city

    try:
        with db.get_engine().connect() as conn:
            keys = apikeys.list_keys(conn, get_city(conn, city).city_id)
    except SesizariError as exc:
        _fail(exc)
    for k in keys:
        revoked = f"revoked {k['revoked_at']:%Y-%m-%d}" if k["revoked_at"] else "active"
        typer.echo(f"{k['key_id']}\t{k['name']}\t{k['created_at']:%Y-%m-%d}\t{revoked}")


@privacy_app.command("expire")
def privacy_expire(
    city: str | None = typer.Option(None, help="City slug; default every city."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only, remove nothing."),
) -> None:
    """Remove the reporters' contacts whose retention period has passed (run daily).

    A contact is kept for the city's `contact_retention_days` (default 365)
    after its incident was answered; the registry entry always stays.
    """
    from sesizari.privacy import expire_contacts

    try:
        counts = expire_contacts(db.get_engine(), city, dry_run=dry_run)
    except SesizariError as exc:
        _fail(exc)
    verb = "would be removed" if dry_run else "removed"
    for slug, n in counts.items():
        typer.echo(f"{slug}: {n} contacts {verb}")


@privacy_app.command("erase")
def privacy_erase(
    number: str = typer.Argument(..., help="The report's registry number, e.g. LUG-2026-000123."),
    city: str = typer.Option(..., help="City slug."),
    by: str = typer.Option(..., help="Who carries out the request (recorded in the history)."),
    reason: str = typer.Option("", help="E.g. the request's own registry number."),
) -> None:
    """Carry out an erasure request (GDPR art. 17) for one report.

    The reporter's contacts, the photos sent with the report and its
    description go; the registry entry stays.
    """
    from sesizari.privacy import erase_with_files

    try:
        done, files = erase_with_files(db.get_engine(), city, number, by=by, reason=reason)
    except SesizariError as exc:
        _fail(exc)
    if not done.removed:
        typer.echo(f"{done.registry_number}: no personal data left to erase")
        return
    typer.echo(f"{done.registry_number}: erased {', '.join(done.removed)}"
               + (f" ({done.photos} photos; {len(files)} files removed now, the rest at the"
                  " next `photos clean`)" if done.photos else ""))


@privacy_app.command("reapply")
def privacy_reapply(
    journal: Path = typer.Option(
        None, help="An erasure journal (erasures.jsonl); default this installation's"
        " (var/backups/erasures.jsonl).",
    ),
) -> None:
    """Carry out again the erasure requests of an erasure journal.

    A restore does it by itself with the journal beside the backup or in
    var/backups; run this when the journal came later (another machine, a
    copy). A request already carried out removes nothing; run it as often
    as needed.
    """
    from sesizari import erasure_log
    from sesizari.privacy import reapply_erasures

    path = journal or erasure_log.journal_path()
    try:
        if not path.is_file():
            raise erasure_log.JournalError(f"no erasure journal at {path}; give --journal FILE")
        found = erasure_log.read([path])
        again = reapply_erasures(db.get_engine(), found)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(f"{path}: {len(found.entries)} requests; {again.carried_out} carried out again,"
               f" {again.already} already carried out, {again.not_found} for reports not in"
               " the database" + (f"; {again.photos} report photos removed (files: `photos"
                                  " clean`)" if again.photos else ""))  # fmt: skip
    if found.unreadable:
        typer.secho(f"Warning: {found.unreadable} lines are not requests; check them.",
                    fg="yellow", err=True)  # fmt: skip


@notify_app.command("send")
def notify_send(
    city: str | None = typer.Option(None, help="City slug; default every city."),
    limit: int = typer.Option(500, min=1, help="Messages sent at most in one round."),
    every: float = typer.Option(
        0, min=0, help="Seconds between rounds, to run as a service; 0: one round, then exit."
    ),
) -> None:
    """Send the e-mails that are due (run every minute, or with --every).

    Needs SESIZARI_SMTP_HOST and SESIZARI_MAIL_FROM (see .env.example). A
    message the server does not take now is tried again later, up to 8
    times; the addresses are never printed.
    """
    import time

    settings = _mail_settings()
    engine: sa.Engine | None = None
    while True:
        try:
            if engine is None:
                engine = db.get_engine()
                _known_city(engine, city)
            report = _send_round(engine, settings, city, limit)
        except SesizariError as exc:
            _fail(exc)
        except (sa.exc.OperationalError, psycopg.OperationalError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip()
            if not every:
                _fail(SesizariError(f"the database cannot be reached: {reason}"))
            # a service outlives a database restart: the next round tries again
            typer.secho(f"database unreachable, next round in {every:g} s: {reason}",
                        fg="yellow", err=True)  # fmt: skip
        else:
            typer.echo(str(report))
        if not every:
            return
        time.sleep(every)


def _mail_settings() -> Settings:
    """The settings, or a clear stop when the mail server is not set up."""
    from sesizari.mailer import mail_settings_missing

    settings = load_settings()
    missing = mail_settings_missing(settings)
    if missing:
        _fail(SesizariError(f"no mail server: set {' and '.join(missing)} (see .env.example)"))
    return settings


def _known_city(engine: sa.Engine, city: str | None) -> None:
    """Refuse a city that does not exist (a typo would otherwise send nothing, silently)."""
    if city is not None:
        from sesizari.catalog import get_city

        with engine.connect() as conn:
            get_city(conn, city)


def _send_round(engine: sa.Engine, settings: Settings, city: str | None, limit: int) -> SendReport:
    """One round of ``notify send``, with a progress bar on a terminal."""
    from sesizari.mailer import SmtpMailer
    from sesizari.notifications import count_due, send_due

    due = count_due(engine, city)
    with (
        SmtpMailer(settings) as mailer,
        Progress(
            TextColumn("e-mails"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=not sys.stderr.isatty() or due == 0,
        ) as bar,
    ):
        task = bar.add_task("e-mails", total=min(due, limit))
        return send_due(
            engine, settings, mailer, city=city, limit=limit, on_each=lambda: bar.advance(task)
        )


@notify_app.command("digest")
def notify_digest(
    city: str | None = typer.Option(None, help="City slug; default every city."),
) -> None:
    """E-mail each department its open reports past their target (run each morning).

    One message a day per department with a mailbox (Administration page)
    and something overdue; a second run the same day sends nothing.
    """
    from sesizari.digests import send_digests
    from sesizari.mailer import SmtpMailer

    settings = _mail_settings()
    try:
        engine = db.get_engine()
        _known_city(engine, city)
        with SmtpMailer(settings) as mailer:
            report = send_digests(engine, settings, mailer, city=city)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(str(report))


@notify_app.command("test")
def notify_test(
    to: str = typer.Argument(..., help="Address that receives the test message."),
) -> None:
    """Send one message to TO through the mail settings, to check them.

    Says what the server answered: a refused login, sender or encryption
    names the setting to check. Nothing is stored.
    """
    from sesizari.incidents import EMAIL_RE
    from sesizari.mailer import MailConfigError, PermanentFailure, SmtpMailer, TemporaryFailure
    from sesizari.notices import message_to

    settings = _mail_settings()
    if not EMAIL_RE.fullmatch(to.strip()):
        _fail(SesizariError(f"{to!r} is not a valid e-mail address"))
    body = [
        "Acesta este un mesaj de probă: setările de e-mail ale platformei Sesizări funcționează.",
        "",
        "This is a test message: the e-mail settings of the Sesizari platform work.",
    ]
    message = message_to(to.strip(), "", settings.mail_from, "Sesizări: mesaj de probă", body)
    try:
        with SmtpMailer(settings) as mailer:
            mailer.send(message)
    except (MailConfigError, PermanentFailure, TemporaryFailure) as exc:
        from sesizari.notifications import without_address

        _fail(SesizariError(f"not sent: {without_address(str(exc), to.strip())}"))
    typer.echo(f"sent to {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security})")


@notify_app.command("status")
def notify_status(city: str = typer.Option(..., help="City slug.")) -> None:
    """Count the city's e-mails by status and list the latest that failed."""
    from sesizari.notifications import outbox_counts, outbox_problems

    try:
        engine = db.get_engine()
        _known_city(engine, city)
        counts = outbox_counts(engine, city)
        problems = outbox_problems(engine, city)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(", ".join(f"{status} {n}" for status, n in counts.items()))
    for p in problems.itertuples():
        typer.echo(f"{p.registry_number}\t{p.about}\t{p.status}\t{p.attempts}\t{p.last_error}")


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not sys.stderr.isatty(),
    )


def _reporter(bar: Progress) -> Callable[[str, int, int], None]:
    """``progress(label, done, total)`` drawing one bar per label."""
    tasks: dict[str, int] = {}

    def progress(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=done, total=total)

    return progress


@inbox_app.command("import")
def inbox_import(
    city: str = typer.Option(..., help="City slug: whose mailbox this is."),
    imap: str = typer.Option(
        None, help="The city's mailbox over IMAP: imaps://USER@HOST:PORT/FOLDER (TLS; port"
        " and folder optional) or imap://... (STARTTLS); the password in"
        " `SESIZARI_IMAP_PASSWORD_<SLUG>` (e.g. `_ALBA_IULIA`) or `SESIZARI_IMAP_PASSWORD`.",
    ),
    maildir: Path = typer.Option(
        None, help="Or the Maildir the mailbox is delivered to (the mail server, fetchmail)."
    ),
) -> None:
    """Copy the mailbox's unseen e-mails to the dispatcher's desk and mark them seen.

    Run it every few minutes (cron). The pictures are checked and cleaned
    (no EXIF, no GPS) as uploads are; other attachments stay in the mailbox,
    which stays the archive.
    """
    from sesizari.inbox import import_imap, import_maildir

    if (imap is None) == (maildir is None):
        _fail(SesizariError("give the mailbox: --imap imaps://USER@HOST/INBOX or --maildir DIR"
                            " (one of them)"))  # fmt: skip
    try:
        with _progress_bar() as bar:
            task = bar.add_task("e-mails", total=None)

            def shown(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if imap is not None:
                report = import_imap(db.get_engine(), city, imap, _imap_password(city),
                                     progress=shown)  # fmt: skip
            else:
                report = import_maildir(db.get_engine(), city, maildir, progress=shown)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(str(report))


def _imap_password(city: str) -> str | None:
    """The city's own `SESIZARI_IMAP_PASSWORD_<SLUG>` (one operator, many cities,
    each its own mailbox), else SESIZARI_IMAP_PASSWORD."""
    from sesizari.settings import environment

    own = environment().get("SESIZARI_IMAP_PASSWORD_" + city.upper().replace("-", "_"))
    return own or load_settings().imap_password


@inbox_app.command("status")
def inbox_status(city: str = typer.Option(..., help="City slug.")) -> None:
    """Count the city's e-mails: waiting for the dispatcher, filed as reports, set aside."""
    from sesizari.inbox import counts

    try:
        found = counts(db.get_engine(), city)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(", ".join(f"{status} {n}" for status, n in found.items()))


@backup_app.command("create")
def backup_create(
    output: Path = typer.Option(
        None, "--output", "-o",
        help="The backup file to write (default `var/backups/sesizari-<local time>.tar`).",
    ),
) -> None:
    """Back up the database and the photos it refers to, into one file.

    Consistent while the platform runs: the rows and the photos are those of
    one moment. The file holds reporters' contacts: it is readable by its
    owner only; keep it no longer than the contacts' retention period.
    """
    from sesizari import backup, erasure_log

    output = output or backup.default_path()
    try:
        with _progress_bar() as bar:
            manifest = backup.create(db.database_url(), output, progress=_reporter(bar))
        # The requests a restore of this file must carry out again go with it.
        journal = erasure_log.copy_to(output.parent)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(f"{output}\n{backup.describe(manifest)}")
    if journal:
        typer.echo(f"erasure journal copied beside it: {journal}")
    if manifest.missing_photos:
        typer.secho("Warning: photo files were missing from the store (listed in the backup's"
                    " manifest); run `backup verify` on older backups to find them.",
                    fg="yellow", err=True)  # fmt: skip


@backup_app.command("verify")
def backup_verify(
    file: Path = typer.Argument(..., help="The backup file."),
) -> None:
    """Read a backup whole and check every checksum and the database dump.

    Run it on each backup you keep: a damaged file is found now, not on the
    day it is needed. Changes nothing.
    """
    from sesizari import backup

    try:
        with _progress_bar() as bar:
            manifest = backup.verify(file, progress=_reporter(bar))
    except SesizariError as exc:
        _fail(exc)
    typer.echo(f"{file}: complete and intact\n{backup.describe(manifest)}")


@backup_app.command("restore")
def backup_restore(
    file: Path = typer.Argument(..., help="The backup file."),
    replace: bool = typer.Option(
        False, "--replace",
        help="Embedded cluster only: keep the current database as"
        " `sesizari_before_restore_<time>` and restore in its place. Stop the dashboard and"
        " the API first.",
    ),
) -> None:
    """Restore a backup into the database (embedded, or DATABASE_URL's) and the photo store.

    The backup is verified first. The database must hold no city (a new
    machine after `db start`, or a new empty database on your server),
    unless --replace. It is restored whole or not at all, its rows are
    checked against the backup's, then newer migrations are applied,
    contacts past their retention period removed, and the erasure requests
    of the erasure journal (erasures.jsonl, beside the backup file or in
    var/backups) carried out again.
    """
    from sesizari import backup, erasure_log

    try:
        with _progress_bar() as bar:
            done = backup.restore(file, replace=replace, progress=_reporter(bar))
    except SesizariError as exc:
        _fail(exc)
    m = done.manifest
    typer.echo(f"restored {file}\n{backup.describe(m)}")
    typer.echo(f"photo files: {done.photos_written} written, {done.photos_present} already there")
    if done.migrations_applied:
        typer.echo(f"migrations applied since the backup: {len(done.migrations_applied)}")
    expired = sum(done.contacts_expired.values())
    typer.echo(f"contacts past their retention period removed: {expired}")
    if done.kept_as:
        typer.echo(f"the previous database is kept as {done.kept_as}; its photos stay in the"
                   " store until `photos clean`")  # fmt: skip
    journal, again = done.journal, done.erasures
    if journal and journal.files and again:
        typer.echo(f"erasure requests in {', '.join(map(str, journal.files))}:"
                   f" {again.carried_out} carried out again, {again.already} already in the"
                   f" backup, {again.not_found} for reports it does not hold")  # fmt: skip
        if again.photos:
            typer.echo(f"{again.photos} report photos removed again; their files go with"
                       " `photos clean`")  # fmt: skip
        if journal.unreadable:
            typer.secho(f"Warning: {journal.unreadable} lines of the erasure journal are not"
                        " requests; check them and carry those out again (`privacy erase`).",
                        fg="yellow", err=True)  # fmt: skip
    else:
        typer.secho(f"No erasure journal ({erasure_log.JOURNAL}) beside the backup or in"
                    f" {erasure_log.journal_path().parent}: erasure requests carried out after"
                    f" {m.created_at} are not in this backup; run `privacy reapply --journal FILE`"
                    " with a copy of it, or carry them out again (`privacy erase`).",
                    fg="yellow", err=True)  # fmt: skip


#: What the command lines say when the database cannot be reached.
UNREACHABLE = (
    "cannot reach the database ({reason}). With DATABASE_URL set, check that its server"
    " runs and that the URL is right; without it, see `python -m sesizari db status`."
)


def run(cli: typer.Typer, prog_name: str) -> None:
    """Run a command line: a setting that cannot be used (a DATABASE_URL
    that is not one: :func:`sesizari.settings.load_settings`) or a database
    that cannot be reached end it with what to do, in one line, not a
    traceback (exit status 1)."""
    try:
        cli(prog_name=prog_name)
    except SettingsError as exc:
        typer.secho(f"Error: {exc}; fix the setting (see .env.example).", fg="red", err=True)
        raise SystemExit(1) from None
    except (sa.exc.OperationalError, psycopg.OperationalError) as exc:
        orig = getattr(exc, "orig", None) or exc
        reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        said = (UNREACHABLE.format(reason=reason) if db.unreachable(exc) else
                f"the database refused the work ({reason}); nothing of it was kept. Run it"
                " again; if this stays, `python -m sesizari check` and the server's log say more.")
        typer.secho(f"Error: {said}", fg="red", err=True)
        raise SystemExit(1) from None
    except SesizariError as exc:  # one a command did not catch (the embedded cluster's)
        typer.secho(f"Error: {exc}", fg="red", err=True)
        raise SystemExit(1) from None


def main() -> None:
    run(app, "python -m sesizari")

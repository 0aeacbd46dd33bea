"""``python -m etl``: load feeds into a city's incidents, list past runs.

python -m etl load FILE_OR_URL --city SLUG --mapping MAPPING
python -m etl open311 BASE_URL --city SLUG [--jurisdiction ID] [--since DATE]
python -m etl runs [--city SLUG]
python -m etl rejects RUN_ID --city SLUG [--csv FILE]
python -m etl forget-raw [--older-than-days 90] [--city SLUG]
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.engine import Engine

from etl.download import display_name, downloaded, is_url
from etl.load import DEFAULT_BATCH, RunResult, load_file, load_source
from etl.mapping import load_mapping, read_delimiter
from etl.messages import LANGUAGES
from etl.preflight import shown_header, unmapped_categories
from etl.readers import Source
from etl.rejects import default_path, forget_raw, write_rejects_csv
from etl.runs import check_run, last_watermark, list_rejects, list_runs, reject_counts
from sesizari.errors import SesizariError, ValidationError

app = typer.Typer(
    help="Feeds into the incidents table: CSV, GeoJSON, GeoPackage, Shapefile (a path or a URL),"
    " and Open311 servers.",
    no_args_is_help=True,
    rich_markup_mode="markdown",  # as sesizari.cli.MARKUP says
)


def _engine() -> Engine:
    """The configured database; imported lazily so `--help` needs no database."""
    from sesizari import db


    return db.get_engine()


def _fail(exc: Exception) -> None:
    typer.secho(f"Error: {exc}", fg="red", err=True)
    raise typer.Exit(1)


def _progress() -> Progress:
    """A progress bar on stderr, shown only on a terminal (not in logs or cron mail)."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


#: The reject CSV option of the commands that load.
REJECTS_CSV_HELP = (
    "Where to write the rejected rows (row number, reason, message) as CSV;"
    " default rejects-CITY-runN.csv in the current directory, only if a row is rejected."
)


#: The reject messages' language in the CSV (and the `rejects` list).
LANG_HELP = (
    "Language of the reject messages written: en or ro (the Data feeds page shows them in"
    " the page's language)."
)


def _lang(value: str) -> str:
    """--lang checked against the languages messages are written in."""
    if value not in LANGUAGES:
        raise typer.BadParameter(f"{value!r} is not one of: {', '.join(LANGUAGES)}")
    return value


@app.command("load")
def load(
    file: str = typer.Argument(
        ..., metavar="FILE_OR_URL",
        help="CSV/TSV, spreadsheet (.xlsx, .ods), GeoJSON, GeoPackage or Shapefile (.shp, or"
        " .zip) to load: a path, or an http(s) URL, downloaded first.",
    ),
    city: str = typer.Option(..., "--city", help="Slug of the city receiving the incidents."),
    mapping: str = typer.Option(
        ..., "--mapping",
        help="Mapping file (TOML or YAML): a path, or a name in etl/mappings (nyc311).",
    ),
    encoding: str | None = typer.Option(
        None, help="Text encoding of a CSV (default: detect UTF-8 with/without BOM, cp1250)."
    ),
    delimiter: str | None = typer.Option(
        None, help="CSV delimiter: one character, `tab` or `auto` (default: from the mapping,"
        " else detected)."
    ),
    layer: str | None = typer.Option(
        None, help="Sheet of a spreadsheet or layer of a GIS file (default: the first)."
    ),
    batch_size: int = typer.Option(
        DEFAULT_BATCH, min=1, help="Rows per batch; each batch commits atomically."
    ),
    bulk: bool = typer.Option(
        False, "--bulk",
        help="First import of this source into the city: one transaction; secondary indexes,"
        " the keys between incidents and events and the map rollups rebuilt at the end"
        " (faster on a large file); locks incidents meanwhile.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run",
        help="Check the file and count what a load would insert, update and reject (rejects"
        " written to the CSV), then take every batch back: nothing is kept or recorded.",
    ),
    rejects_csv: Path | None = typer.Option(None, "--rejects-csv", help=REJECTS_CSV_HELP),
    lang: str = typer.Option("en", "--lang", callback=_lang, help=LANG_HELP),
) -> None:
    """Load FILE_OR_URL into CITY's incidents: new rows inserted, changed rows updated, bad
    rows rejected with a reason (see `runs`).  Safe to re-run: rows match by external id.
    """
    try:
        spec = load_mapping(mapping)
        delimiter = read_delimiter(delimiter, "--delimiter")
        engine = _engine()
    except SesizariError as exc:
        _fail(exc)
    url = is_url(file)
    label = display_name(file) if url else Path(file).name
    # A dry run writes its rejects as it goes (nothing stays in the database).
    dry_csv = _dry_run_csv(city, rejects_csv) if dry_run else None
    progress = _progress()
    tasks: dict[str, TaskID] = {}

    def on_download(done: int, total: int | None) -> None:
        if "download" not in tasks:
            tasks["download"] = progress.add_task(f"download {escape(label)}", total=total,
                                                  detail="")
        progress.update(tasks["download"], completed=done, total=total,
                        detail=f"{done / 1e6:,.1f} MB")

    def on_start(source: Source) -> None:
        if len(source.layers) > 1 and layer is None:
            others = ", ".join(source.layers[1:])
            # Through the progress bar's console: printed above the bar, not into it.
            progress.console.print(
                f"Reading {source.layer!r}, the first of {len(source.layers)} sheets or"
                f" layers (also {others}); --layer chooses another.",
                markup=False, highlight=False, soft_wrap=True,
            )
        tasks["load"] = progress.add_task(escape(label), total=source.size or None,
                                          detail="0 rows")

    def on_progress(rows: int, position: int) -> None:
        progress.update(tasks["load"], completed=position, detail=f"{rows:,} rows")

    def on_step(what: str, done: int, total: int) -> None:
        # The end of a bulk load: indexes, keys and rollups, minutes on a large table.
        if "finish" not in tasks:
            tasks["finish"] = progress.add_task("bulk load: rebuilding", total=total, detail="")
        progress.update(tasks["finish"], completed=done, total=total, detail=escape(what))

    try:
        with progress:
            fetch: AbstractContextManager[Path] = (
                downloaded(file, on_download) if url else nullcontext(Path(file))
            )
            with fetch as path:
                result = load_file(
                    engine,
                    path,
                    city,
                    spec,
                    batch_size=batch_size,
                    encoding=encoding,
                    delimiter=delimiter,
                    on_progress=on_progress,
                    on_start=on_start,
                    bulk=bulk,
                    on_step=on_step,
                    name=label if url else None,
                    layer=layer,
                    dry_run=dry_run,
                    rejects_csv=dry_csv,
                    lang=lang,
                )
    except SesizariError as exc:
        _fail(exc)
    except KeyboardInterrupt as exc:
        _interrupted(exc, bulk)
    _summary(result, engine, city, rejects_csv, lang)


def _interrupted(exc: KeyboardInterrupt, bulk: bool = False) -> None:
    """Ctrl-C during a load: what is kept and what to do, then exit 130 (as
    a shell reports an interrupted command)."""
    kept = getattr(exc, "etl_rows_kept", None)
    if kept is None:  # a dry run, or stopped before the load began
        typer.secho("Interrupted: nothing was written.", fg="yellow", err=True)
    elif bulk:
        typer.secho("Interrupted: the bulk load was taken back whole; nothing was loaded."
                    " Run it again to load the file.", fg="yellow", err=True)
    else:
        typer.secho(
            f"Interrupted: the {kept:,} rows of the batches committed before are kept. Run the"
            " same command again to finish: those rows will be found unchanged.",
            fg="yellow", err=True,
        )
    raise typer.Exit(130)


def _dry_run_csv(city: str, rejects_csv: Path | None) -> Path:
    """Where a dry run writes its rejects (the summary prints the same path)."""
    return rejects_csv or default_path(city, None)


def _summary(result: RunResult, engine: Engine, city: str, rejects_csv: Path | None,
             lang: str) -> None:
    """Counts only: no row content reaches the terminal or the logs.  The
    rejected rows go to their CSV file (their messages quote the values at
    fault, which is what the person fixing the source needs).  A dry run
    (no run id) wrote its file as it went."""
    dry = result.run_id is None
    typer.echo(
        (f"dry run, nothing kept: read {result.read} = would insert {result.inserted}"
         f" + update {result.updated} + leave unchanged {result.unchanged}"
         f" + reject {result.rejected}" if dry else
         f"run {result.run_id}: read {result.read} = inserted {result.inserted}"
         f" + updated {result.updated} + unchanged {result.unchanged}"
         f" + rejected {result.rejected}")
        + f"  ({result.rows_per_second:,.0f} rows/s, {result.seconds:.1f} s)"
    )
    for reason, n in result.reasons.most_common():
        typer.echo(f"  rejected {n:>8} {reason}")
    if result.absent_columns:
        typer.secho(
            f"Warning: the file has no column(s) {result.absent_columns} that the mapping"
            f" reads, so they are empty on every row (its columns:"
            f" {shown_header(result.file_columns)}). If a name is misspelt, fix"
            " the mapping and load the file again: the rows loaded now will be updated.",
            fg="yellow", err=True,
        )
    for fmt, n in result.swapped_formats.most_common():
        typer.secho(
            f"Warning: {n} rejected date(s) read as dates in {fmt!r}, the mapping's format"
            " with day and month swapped. If that is the file's format, the rows loaded"
            " with a day up to 12 have day and month swapped: fix the mapping's [time]"
            " format and load the file again.",
            fg="yellow", err=True,
        )
    if result.reasons["bad_encoding"]:
        typer.secho(
            f"Warning: {result.reasons['bad_encoding']} row(s) hold bytes the file's encoding"
            " cannot read (bad_encoding). If the whole file is in another encoding, load it"
            " again with --encoding (e.g. cp1250): the rows loaded now stay unchanged.",
            fg="yellow", err=True,
        )
    if dry:
        typer.echo("Rejected rows (row number, reason, message):"
                   f" {_dry_run_csv(city, rejects_csv)}")
        return
    if not result.rejected:
        return
    path = rejects_csv or default_path(city, result.run_id)
    try:
        write_rejects_csv(engine, city, result.run_id, path, lang)
    except SesizariError as exc:
        typer.secho(
            f"Warning: the rows are loaded, but {exc}. Write the rejects later with"
            f" `python -m etl rejects {result.run_id} --city {city} --csv FILE --lang {lang}`.",
            fg="yellow", err=True,
        )
    else:
        typer.echo(f"Rejected rows (row number, reason, message): {path}")
    typer.echo(f"Their raw values: table feed_rejects, run_id {result.run_id}.")


@app.command("open311")
def open311(
    base_url: str = typer.Argument(..., help="GeoReport v2 endpoint, e.g. https://x/open311/v2"),
    city: str = typer.Option(..., "--city", help="Slug of the city receiving the incidents."),
    mapping: str = typer.Option(
        "open311", "--mapping",
        help="Mapping file, TOML or YAML (default etl/mappings/open311.toml).",
    ),
    jurisdiction: str | None = typer.Option(None, help="jurisdiction_id, if the server needs it."),
    since: str | None = typer.Option(
        None, "--since", metavar="DATE",
        help="Fetch requests from this date or time on (2026-01-31, or"
        " 2026-01-31T08:00:00+02:00; without an offset, in the city's time zone) instead of"
        " from the last run's watermark.",
    ),
    revisit_days: int = typer.Option(
        30, min=0, max=3650,
        help="Without --since: start this many days before the last run's watermark, so that"
        " requests closed or changed since then are updated (GeoReport v2 selects requests"
        " by the time they were made).",
    ),
    full: bool = typer.Option(
        False, "--full",
        help="No start date: what the server gives by default (usually the last 90 days).",
    ),
    window_days: int = typer.Option(
        90, min=1, max=90, help="Days of requests per query (GeoReport v2 allows 90 at most)."
    ),
    max_pages: int = typer.Option(100, min=1, help="Pages per date window at most."),
    fmt: str = typer.Option(
        "auto", "--format", help="json, xml, or auto: JSON if the server answers it, else XML."
    ),
    batch_size: int = typer.Option(DEFAULT_BATCH, min=1, help="Rows per committed batch."),
    dry_run: bool = typer.Option(
        False, "--dry-run",
        help="Fetch and check the requests and count what a load would do, keeping nothing"
        " (a new server or mapping, tried first).",
    ),
    rejects_csv: Path | None = typer.Option(None, "--rejects-csv", help=REJECTS_CSV_HELP),
    lang: str = typer.Option("en", "--lang", callback=_lang, help=LANG_HELP),
) -> None:
    """Fetch service requests from an Open311 GeoReport v2 server and load them.

    Reads the server's service list, then its requests in date windows from
    --since, or else from the watermark of the last successful run of the
    same source, less --revisit-days.
    """
    from etl.open311 import open311_source

    dry_csv = _dry_run_csv(city, rejects_csv) if dry_run else None
    try:
        if since is not None and full:
            raise ValidationError("since", "give --since or --full, not both")
        spec = load_mapping(mapping)
        engine = _engine()
        if since is not None:
            start = _since(engine, city, since)
        elif full:
            start = None
        else:
            watermark = last_watermark(engine, city, spec.source)
            start = watermark - timedelta(days=revisit_days) if watermark else None
        source = open311_source(
            base_url, since=start, jurisdiction=jurisdiction, max_pages=max_pages,
            window_days=window_days, fmt=fmt,
        )
        unmapped = unmapped_categories(engine, city, spec, [s.code for s in source.services])
        progress = _progress()
        task = progress.add_task(escape(display_name(base_url)), total=None, detail="0 rows")
        with progress:
            result = load_source(
                engine, source, display_name(base_url), city, spec, batch_size=batch_size,
                on_progress=lambda rows, _position: progress.update(task, detail=f"{rows:,} rows"),
                dry_run=dry_run, rejects_csv=dry_csv, lang=lang,
            )
    except SesizariError as exc:
        _fail(exc)
    except KeyboardInterrupt as exc:
        _interrupted(exc)
    typer.echo(
        f"requests from {start:%Y-%m-%d %H:%M:%S %Z} on" if start is not None
        else "requests of the server's default range (no start date)"
    )
    typer.echo(f"the server lists {len(source.services)} services ({source.format})")
    if unmapped:
        to = (f"go to the fallback category {spec.category_fallback!r}"
              if spec.category_fallback else "are rejected (unknown_category)")
        typer.echo(
            f"  {len(unmapped)} of them match no category of {city}, and their requests {to}:"
            f" {', '.join(unmapped[:20])}{' ...' if len(unmapped) > 20 else ''}."
            " Map them in the mapping's [category.map]."
        )
    _summary(result, engine, city, rejects_csv, lang)


def _since(engine: Engine, city: str, text: str) -> datetime:
    """--since as an instant: a date is its local midnight in the city's zone."""
    from sesizari.catalog import get_city

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            "since", f"{text!r} is not a date; give e.g. 2026-01-31 or 2026-01-31T08:00:00+02:00"
        ) from None
    if value.tzinfo is None:
        with engine.connect() as conn:
            value = value.replace(tzinfo=ZoneInfo(get_city(conn, city).timezone))
    return value


@app.command("runs")
def runs(
    city: str | None = typer.Option(None, "--city", help="Only this city's runs."),
    limit: int = typer.Option(20, min=1, help="How many runs, newest first."),
) -> None:
    """List the latest feed runs with their counts and status."""
    try:
        rows = list_runs(_engine(), city, limit)
    except SesizariError as exc:
        _fail(exc)
    table = Table("run", "city", "source", "file", "status", "started (UTC)", "read",
                  "inserted", "updated", "unchanged", "rejected")
    for r in rows:
        # escape(): a file name or message is text, never Rich markup ("[/]" would fail).
        table.add_row(
            str(r["run_id"]), r["city"], r["source"], escape(r["file_name"] or ""), r["status"],
            f"{r['started_at']:%Y-%m-%d %H:%M:%S}", str(r["rows_read"]), str(r["rows_inserted"]),
            str(r["rows_updated"]), str(r["rows_unchanged"]), str(r["rows_rejected"]),
        )
    if not rows:
        typer.echo(
            "No feed runs yet: load one with `python -m etl load FILE --city SLUG --mapping M`."
        )
        return
    Console(file=sys.stdout, width=200).print(table)
    for r in rows:
        if r["error"]:
            where = f"batch from row {r['error_row']}: " if r["error_row"] is not None else ""
            typer.echo(f"run {r['run_id']} {r['status']}: {where}{r['error']}")


@app.command("forget-raw")
def forget_raw_command(
    older_than_days: int = typer.Option(
        90, "--older-than-days", min=0,
        help="Runs started more than this many days ago lose their rejects' raw values.",
    ),
    city: str | None = typer.Option(None, "--city", help="Only this city (default: all)."),
) -> None:
    """Empty the raw values (which may hold personal data) of old rejected rows.

    Row number, reason and message stay.  Run it on a schedule (cron) to keep
    raw rows no longer than needed to fix and reload a source.
    """
    try:
        n = forget_raw(_engine(), older_than_days, city)
    except SesizariError as exc:
        _fail(exc)
    typer.echo(f"raw values emptied: {n} rejected rows of runs older than {older_than_days} days")


@app.command("rejects")
def rejects(
    run_id: int = typer.Argument(..., help="The run, as listed by `runs`."),
    city: str = typer.Option(..., "--city", help="Slug of the run's city."),
    limit: int = typer.Option(50, min=1, help="How many rows to list, by row number."),
    csv_path: Path | None = typer.Option(
        None, "--csv", help="Also write all of them (row number, reason, message) to this CSV."
    ),
    lang: str = typer.Option("en", "--lang", callback=_lang, help=LANG_HELP),
) -> None:
    """Why rows of a run were refused: counts by reason, then row number and message.

    The raw rows stay in table feed_rejects (they may hold personal data).
    """
    try:
        engine = _engine()
        check_run(engine, city, run_id)
        counts = reject_counts(engine, city, run_id)
        rows = list_rejects(engine, city, run_id, limit, lang)
        if counts and csv_path is not None:
            written = write_rejects_csv(engine, city, run_id, csv_path, lang)
            typer.echo(f"{written} rejected rows written to {csv_path}")
    except SesizariError as exc:
        _fail(exc)
    if not counts:
        typer.echo(f"Run {run_id} of {city} has no rejected rows.")
        return
    for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        typer.echo(f"{n:>8} {reason}")
    table = Table("row", "reason", "message")
    for r in rows:
        table.add_row(str(r["source_row"]), r["reason"], escape(r["message"]))
    Console(file=sys.stdout, width=200).print(table)

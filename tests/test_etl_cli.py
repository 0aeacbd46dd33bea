"""The command line, run as a real process: help, load, runs, and kill -9 mid-load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from etl.load import load_file
from etl.mapping import load_mapping
from etl.runs import list_runs
from tests.conftest import REPO
from tests.etl_helpers import row, write_csv

MAPPING_TOML = """
source = "primarie"
[columns]
external_id = "id"
created = "creat"
closed = "inchis"
address = "adresa"
description = "descriere"
[time]
format = "YYYY-MM-DD HH24:MI"
[category]
column = "tip"
[category.map]
"Groapă" = "pothole"
"Bec ars" = "street_light"
[status]
column = "stare"
[status.map]
"Deschisă" = "new"
"Închisă" = "closed"
[geometry]
lon = "lon"
lat = "lat"
"""


def _run(args: list[str], engine, *, background: bool = False,
         cwd: Path | None = None) -> subprocess.Popen | subprocess.CompletedProcess:
    """``python -m etl ARGS`` in ``cwd`` (default the repository), on ``engine``'s database."""
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "etl", *args]
    if background:
        return subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    return subprocess.run(cmd, cwd=cwd or REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def test_every_command_has_help():
    for args in (
        ["--help"],
        ["load", "--help"],
        ["runs", "--help"],
        ["open311", "--help"],
        ["rejects", "--help"],
        ["forget-raw", "--help"],
    ):
        out = subprocess.run(
            [sys.executable, "-m", "etl", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "Usage" in out.stdout


def test_load_and_runs_from_the_command_line(engine, city, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    path = write_csv(tmp_path / "a.csv", [row(), row(id="A2", lat="")])
    out = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping)], engine,
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "read 2 = inserted 1 + updated 0 + unchanged 0 + rejected 1" in out.stdout
    assert "missing_coordinates" in out.stdout
    assert "rows/s" in out.stdout
    assert "Bucegi" not in out.stdout + out.stderr  # no row content in the output
    # The rejects, by default in the working directory: row, reason, message.
    assert "rejects-testville-run1.csv" in out.stdout
    written = (tmp_path / "rejects-testville-run1.csv").read_text("utf-8-sig")
    assert written.splitlines() == [
        "source_row,reason,message",
        "2,missing_coordinates,no coordinates ('lon'/'lat' empty)",
    ]
    assert "Bucegi" not in written  # the raw row stays in the database
    out = _run(["runs", "--city", "testville"], engine)
    assert out.returncode == 0, out.stderr
    assert "succeeded" in out.stdout and "a.csv" in out.stdout
    out = _run(["rejects", "1", "--city", "testville", "--csv", str(tmp_path / "r.csv")],
               engine)
    assert out.returncode == 0, out.stderr
    assert "1 missing_coordinates" in out.stdout and "│ 2 " in out.stdout
    assert (tmp_path / "r.csv").read_text("utf-8-sig") == written
    # In Romanian, on request: the list and the file.
    out = _run(["rejects", "1", "--city", "testville", "--lang", "ro",
                "--csv", str(tmp_path / "ro.csv")], engine)
    assert out.returncode == 0, out.stderr
    assert "lipsesc coordonatele" in out.stdout
    assert (tmp_path / "ro.csv").read_text("utf-8-sig").splitlines()[1] == (
        "2,missing_coordinates,lipsesc coordonatele ('lon'/'lat': gol)")
    out = _run(["rejects", "1", "--city", "testville", "--lang", "fr"], engine)
    assert out.returncode == 2 and "'fr' is not one of: en, ro" in out.stderr
    # A dry run writes its file in the language asked for.
    out = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping),
                "--dry-run", "--lang", "ro", "--rejects-csv", str(tmp_path / "dry.csv")],
               engine)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "dry.csv").read_text("utf-8-sig").splitlines()[1] == (
        "2,missing_coordinates,lipsesc coordonatele ('lon'/'lat': gol)")
    out = _run(["load", str(path), "--city", "nowhere", "--mapping", str(mapping)], engine)
    assert out.returncode == 1 and "No city 'nowhere'" in out.stderr


def test_kill_9_leaves_whole_batches_and_a_rerun_completes(engine, city, tmp_path):
    n, batch = 60_000, 500
    path = write_csv(
        tmp_path / "big.csv",
        [
            row(id=f"K{k}", descriere=f"Sesizarea {k}", creat=f"2026-04-{k % 28 + 1:02d} 10:00")
            for k in range(n)
        ],
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    proc = _run(
        [
            "load",
            str(path),
            "--city",
            "testville",
            "--mapping",
            str(mapping),
            "--batch-size",
            str(batch),
        ],
        engine,
        background=True,
    )
    deadline = time.monotonic() + 120
    done = 0
    with engine.connect() as conn:
        while time.monotonic() < deadline and proc.poll() is None:
            done = conn.execute(
                sa.text("SELECT COALESCE(max(rows_read), 0) FROM feed_runs")
            ).scalar_one()
            conn.commit()
            if done >= 5 * batch:
                break
            time.sleep(0.02)
    assert proc.poll() is None, f"the load ended before it could be killed: {proc.stderr}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()

    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()
        events = conn.execute(sa.text("SELECT count(*) FROM incident_events")).scalar_one()
        counter = conn.execute(sa.text("SELECT last_value FROM registry_counters")).scalar_one()
        status, inserted = conn.execute(
            sa.text("SELECT status, rows_inserted FROM feed_runs")
        ).one()
    assert 0 < count < n
    assert count % batch == 0  # whole batches only
    assert events == count == counter == inserted
    assert status == "running"  # it never got to say anything else

    result = load_file(engine, path, "testville", load_mapping(mapping), batch_size=5000)
    assert (result.read, result.inserted, result.unchanged) == (n, n - count, count)
    runs = {r["run_id"]: r["status"] for r in list_runs(engine, "testville")}
    assert sorted(runs.values()) == ["aborted", "succeeded"]
    with engine.connect() as conn:
        numbers = conn.execute(
            sa.text("SELECT count(DISTINCT registry_number), max(registry_number) FROM incidents")
        ).one()
    assert tuple(numbers) == (n, f"TST-2026-{n:06d}")


def test_a_misspelt_city_or_run_is_named_not_shown_as_empty(engine, city):
    """`runs` and `rejects` for a city or run that does not exist say so,
    instead of an empty list that reads as "nothing happened"."""
    out = _run(["runs", "--city", "testvile"], engine)
    assert out.returncode == 1 and "No city 'testvile'; known cities: testville" in out.stderr
    out = _run(["runs", "--city", "testville"], engine)
    assert out.returncode == 0 and out.stdout.startswith("No feed runs yet")
    assert "┃" not in out.stdout  # no empty table above it
    out = _run(["rejects", "7", "--city", "testville"], engine)
    assert out.returncode == 1
    assert "testville has no run 7; `python -m etl runs --city testville`" in out.stderr
    out = _run(["rejects", "7", "--city", "testvile"], engine)
    assert out.returncode == 1 and "No city 'testvile'" in out.stderr
    out = _run(["open311", "http://127.0.0.1:9/open311/v2", "--city", "testville"], engine)
    assert out.returncode == 1 and "check the base URL, and that this machine can reach" in (
        out.stderr)


def test_a_bad_mapping_is_explained(engine, city, tmp_path):
    bad = Path(tmp_path / "bad.toml")
    bad.write_text("source = 'x'\n[columns]\n", "utf-8")
    out = _run(
        ["load", str(tmp_path / "none.csv"), "--city", "testville", "--mapping", str(bad)], engine
    )
    assert out.returncode == 1
    assert "columns.external_id: is required in the mapping" in out.stderr


def test_the_delimiter_and_the_file_are_read_or_explained(engine, city, tmp_path):
    """``--delimiter tab`` (as a mapping may say it) reads a TSV; a delimiter
    of two characters, and a folder given for a file, are explained: both
    ended in a Python traceback."""
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    tsv = write_csv(tmp_path / "export.tsv", [row(id="1"), row(id="2")], delimiter="\t")
    args = ["--city", "testville", "--mapping", str(mapping), "--dry-run"]
    out = _run(["load", str(tsv), "--delimiter", "tab", *args], engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "read 2 = would insert 2" in out.stdout
    out = _run(["load", str(tsv), "--delimiter", ";;", *args], engine, cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "--delimiter: ';;' is not a delimiter: give one character" in out.stderr
    out = _run(["load", str(tmp_path), *args], engine, cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"{tmp_path} is a folder: give the file to load" in out.stderr


def test_names_and_values_that_look_like_markup_are_printed_as_text(engine, city, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    path = write_csv(tmp_path / "export[bold].csv", [row(creat="[/b] [bold]x")])
    out = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping)], engine,
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    out = _run(["runs", "--city", "testville"], engine)
    assert out.returncode == 0, out.stderr
    assert "export[bold].csv" in out.stdout
    out = _run(["rejects", "1", "--city", "testville"], engine)
    assert out.returncode == 0, out.stderr
    assert "'[/b] [bold]x'" in out.stdout


def test_a_bulk_load_on_a_terminal_shows_its_rebuilding_step(engine, city, tmp_path):
    """The progress bars are drawn only on a terminal: the child gets a pseudo-terminal."""
    import pty

    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    path = write_csv(tmp_path / "b.csv", [row(id=f"B{k}") for k in range(4)])
    main, child = pty.openpty()
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "PYTHONPATH": str(REPO), "COLUMNS": "160", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", "load", str(path), "--city", "testville", "--mapping",
         str(mapping), "--bulk"],
        cwd=tmp_path, env=env, stdout=child, stderr=child, stdin=subprocess.DEVNULL,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert proc.wait(timeout=120) == 0
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "bulk load: rebuilding" in shown
    assert "read 4 = inserted 4 + updated 0 + unchanged 0 + rejected 0" in shown


def test_dates_read_day_first_under_a_month_first_format_warn_on_the_summary(
        engine, city, tmp_path):
    """The rows that loaded have their day and month swapped: the summary says
    it, not only the reject file."""
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML.replace("YYYY-MM-DD HH24:MI", "MM/DD/YYYY HH24:MI"), "utf-8")
    path = write_csv(tmp_path / "a.csv", [row(creat="04/05/2026 10:15"),
                                          row(id="B", creat="17/05/2026 10:15"),
                                          row(id="C", creat="18/05/2026 10:15")])
    for dry in ([], ["--dry-run"]):
        out = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping), *dry],
                   engine, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert ("Warning: 2 rejected date(s) read as dates in 'DD/MM/YYYY HH24:MI', the"
                " mapping's format with day and month swapped.") in out.stderr


def test_a_column_a_gis_file_lacks_is_named_on_the_summary(engine, city, tmp_path):
    """A GeoJSON file lists the properties its features have: one the mapping
    names and none has (a misspelt name) reads as empty, and the summary says
    which, beside the file's own columns."""
    import json

    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [21.9, 45.69]},
         "properties": {"id": "J1", "created_at": "2026-05-04T10:15:00",
                        "category": "pothole", "Data_inch": None}}]}), "utf-8")
    out = _run(["load", str(path), "--city", "testville", "--mapping", "geojson"],
               engine, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert ("Warning: the file has no column(s) ['address', 'closed_at', 'description',"
            " 'status', 'updated_at'] that the mapping reads, so they are empty on every row"
            " (its columns: ['id', 'created_at', 'category', 'Data_inch'])") in out.stderr


def test_ctrl_c_says_what_is_kept_and_records_where_the_load_stopped(engine, city, tmp_path):
    """SIGINT ended the load with nothing on the terminal, and the run read
    "failed: batch from row 20001: KeyboardInterrupt" for a batch that had
    been committed."""
    n, batch = 30_000, 500
    path = write_csv(tmp_path / "big.csv", [
        row(id=f"C{k}", descriere=f"Sesizarea {k}", creat=f"2026-04-{k % 28 + 1:02d} 10:00")
        for k in range(n)])
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    proc = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping),
                 "--batch-size", str(batch)], engine, background=True)
    deadline = time.monotonic() + 120
    with engine.connect() as conn:
        while time.monotonic() < deadline and proc.poll() is None:
            done = conn.execute(
                sa.text("SELECT COALESCE(max(rows_read), 0) FROM feed_runs")).scalar_one()
            conn.commit()
            if done >= 4 * batch:
                break
            time.sleep(0.02)
    assert proc.poll() is None, f"the load ended before it could be stopped: {proc.stderr}"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert (f"Interrupted: the {count:,} rows of the batches committed before are kept. Run the"
            " same command again to finish") in err
    (run,) = list_runs(engine, "testville")
    assert run["status"] == "aborted" and run["error"].startswith("interrupted (Ctrl-C)")
    assert count % batch == 0 and run["error_row"] == count + 1
    assert run["error_ro"].startswith("întrerupt (Ctrl-C)")
    result = load_file(engine, path, "testville", load_mapping(mapping), batch_size=5000)
    assert (result.read, result.inserted, result.unchanged) == (n, n - count, count)


def test_ctrl_c_in_a_bulk_load_or_a_dry_run_keeps_nothing_and_says_so(engine, city, tmp_path,
                                                                     monkeypatch):
    """A bulk load is one transaction: its interruption keeps nothing, and the
    run must not say that committed batches are kept; a dry run's reject file
    is not left half-written."""
    n = 40_000
    path = write_csv(tmp_path / "big.csv", [
        row(id=f"C{k}", descriere=f"Sesizarea {k}", creat=f"2026-04-{k % 28 + 1:02d} 10:00")
        for k in range(n)])
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    monkeypatch.setenv("PGAPPNAME", "etl-ctrl-c")  # the loader's sessions, to watch
    for extra in (["--bulk"], ["--dry-run", "--rejects-csv", str(tmp_path / "dry.csv")]):
        proc = _run(["load", str(path), "--city", "testville", "--mapping", str(mapping),
                     "--batch-size", "500", *extra], engine, background=True)
        deadline = time.monotonic() + 120
        with engine.connect() as conn:
            # Stopped once it inserts its batches (one transaction: nothing to count).
            while time.monotonic() < deadline and proc.poll() is None and not conn.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                            " 'etl-ctrl-c' AND pid <> pg_backend_pid()"
                            " AND query LIKE '%INSERT INTO incidents%'")).scalar():
                conn.commit()
                time.sleep(0.01)
        assert proc.poll() is None, f"the load ended before it could be stopped: {proc.stderr}"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130 and "Traceback" not in err, err
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one() == 0
    # The bulk run, recorded (a dry run records nothing).
    (run,) = list_runs(engine, "testville")
    assert run["status"] == "aborted" and run["error_row"] is None
    assert run["error"].startswith("interrupted (Ctrl-C); the bulk load was taken back whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "m.toml"]

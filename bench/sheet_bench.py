"""Reading a spreadsheet against reading the same rows as CSV: time and memory.

Generates N rows in the NYC 311 layout (as ``bench/etl_bench.py``), writes
them as CSV, ``.xlsx`` and ``.ods`` (with GDAL's writers, all cells text), and
reads each file to the end, in a child process per file, with:

- ``etl.readers.open_source``: the loader's reader (the csv module for CSV,
  ``etl/spreadsheets.py`` for spreadsheets), batches of 20,000 rows;
- GDAL (``pyogrio.raw.open_arrow``, first row as header), which read
  spreadsheets before: for comparison.

Prints wall seconds, rows/s and the child's peak RSS; ratios are against the
CSV reader of the same run (machines are noisy: compare within a run).

    .venv/bin/python bench/sheet_bench.py --rows 200000
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.etl_bench import HEADER, _generate, _write_csv

ROOT = Path(__file__).resolve().parent.parent

_READ = """
import sys, time
from pathlib import Path
path, how = Path(sys.argv[1]), sys.argv[2]
started = time.perf_counter()
n = 0
if how == "etl":
    from etl.readers import open_source
    for batch in open_source(path).batches(20000):
        n += len(batch.rows)
else:
    import pyogrio
    from pyogrio.raw import open_arrow
    pyogrio.set_gdal_config_options({"OGR_XLSX_HEADERS": "FORCE", "OGR_ODS_HEADERS": "FORCE"})
    with open_arrow(path, batch_size=20000, use_pyarrow=True) as (_, reader):
        for batch in reader:
            n += len(batch.to_pydict()[batch.schema.names[0]])
seconds = time.perf_counter() - started
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(n, seconds, int(line.split()[1]) // 1024)
"""


def _read(path: Path, how: str) -> tuple[int, float, int] | str:
    """(rows, seconds, peak RSS MiB) of one child reading ``path``, or its error."""
    proc = subprocess.run([sys.executable, "-c", _READ, str(path), how], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        return proc.stderr.strip().splitlines()[-1][:120]
    rows, seconds, rss = proc.stdout.split()
    return int(rows), float(seconds), int(rss)


def main(
    rows: int = typer.Option(200_000, help="Rows in the generated files."),
    seed: int = typer.Option(1, help="Random seed of the generated data."),
) -> None:
    """Print time and peak memory of reading the same rows as CSV, .xlsx and .ods."""
    import pandas as pd
    import pyogrio

    tmp = Path(tempfile.mkdtemp(prefix="sz-sheets-", dir="/tmp"))
    try:
        data = _generate(rows, seed)
        csv_path = tmp / "rows.csv"
        _write_csv(csv_path, data)
        frame = pd.DataFrame(data, columns=HEADER)
        del data
        files = [csv_path]
        for suffix, driver in ((".xlsx", "XLSX"), (".ods", "ODS")):
            started = time.perf_counter()
            path = tmp / f"rows{suffix}"
            pyogrio.write_dataframe(frame, path, driver=driver, layer="Sesizari")
            print(f"wrote {path.name}: {path.stat().st_size / 1e6:.1f} MB"
                  f" in {time.perf_counter() - started:.1f} s")
            files.append(path)
        del frame
        base = None
        print(f"{'file':<10}{'reader':<8}{'rows':>9}{'s':>8}{'rows/s':>10}{'x CSV time':>12}"
              f"{'peak RSS MiB':>14}")
        for path in files:
            for how in ("etl", "gdal") if path.suffix != ".csv" else ("etl",):
                got = _read(path, how)
                if isinstance(got, str):
                    print(f"{path.suffix:<10}{how:<8} failed: {got}")
                    continue
                n, seconds, rss = got
                base = base or seconds
                print(f"{path.suffix:<10}{how:<8}{n:>9,}{seconds:>8.1f}{n / seconds:>10,.0f}"
                      f"{seconds / base:>12.2f}{rss:>14,}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    typer.run(main)

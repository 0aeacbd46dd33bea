"""Every CSV the dashboard offers is written so a spreadsheet cannot run it."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sesizari.opendata import frame_to_csv

VIEWS = Path(__file__).resolve().parent.parent / "dashboard" / "views"


def test_formula_cells_are_written_as_text():
    frame = pd.DataFrame(
        {
            "Nume": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "Groapă", None],
            "n": [1, 2, 3, 4, 5, 6],
            "când": [datetime(2026, 3, 1, 8, 30, tzinfo=UTC)] * 6,
        }
    )
    rows = list(csv.reader(io.StringIO(frame_to_csv(frame).decode("utf-8"))))
    assert rows[0] == ["Nume", "n", "când"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)",
                                        "Groapă", ""]  # fmt: skip
    assert [r[1] for r in rows[1:]] == ["1", "2", "3", "4", "5", "6"]  # numbers stay numbers
    assert rows[1][2] == "2026-03-01T08:30:00+00:00"


def test_no_page_writes_a_csv_itself():
    """Pages offer tables through ``widgets.table`` or ``widgets.download_csv``
    (or, for open data, ``sesizari.opendata``), never with pandas' own
    ``to_csv``."""
    for page in VIEWS.glob("*.py"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"(?<!opendata)\.to_csv\(", text), page.name
        for call in re.findall(r"download_button\((.*?)\)\n", text, flags=re.S):
            assert "opendata." in call, (page.name, call)

"""Spreadsheet-safe CSV cells: one rule for every CSV file the platform writes.

A cell starting with ``= + - @``, a tab or a carriage return is run as a
formula by a spreadsheet (CSV injection); such text gets a leading quote.
Apart from :mod:`sesizari.opendata` (which needs geopandas), so a writer of
plain CSV, such as the ETL's reject files, does not load it.
"""

from __future__ import annotations

from typing import Any

#: Characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: Any) -> Any:
    """Prefix text a spreadsheet would run as a formula with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

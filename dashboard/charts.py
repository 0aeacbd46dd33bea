"""Chart specifications: plain Vega-Lite documents, drawn by ``widgets.chart``.

Written as dictionaries rather than through Altair or ``st.line_chart``:
both build an Altair chart on every run and validate it against the whole
Vega-Lite JSON Schema, which was most of the Resolution page's server time
(``bench/RESULTS.md``).  The same documents, written directly, cost nothing.

``st.bar_chart``'s horizontal bars also cut every label after about 180
pixels ("Autoturism aban…"), and category and department names are as long
as the city made them: :func:`horizontal_bars` shows names in full and
orders the bars by value.  Vega-Lite draws labels as SVG text, never as
HTML, so names typed by an administrator need no escaping here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

#: Pixels per bar: a city's twenty categories stay readable without scrolling.
ROW_PX = 28
#: Dates on the charts, as the date pickers show them (``DD.MM.YYYY``).
DATE_FORMAT = "%d.%m.%Y"


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite ``spec`` over ``data``; ``height`` in pixels, or None for the theme's."""

    data: pd.DataFrame
    spec: dict[str, Any]
    height: int | None = None


def _long(frame: pd.DataFrame, key: str, values: Sequence[str]) -> pd.DataFrame:
    """One row per (key, series): what a stacked or multi-line chart draws."""
    long = frame.melt(id_vars=[key], value_vars=list(values), var_name="series",
                      value_name="value")  # fmt: skip
    long["rank"] = long["series"].map({name: k for k, name in enumerate(values)})
    return long


def _series(encoding: dict[str, Any], values: Sequence[str], key_tip: dict[str, Any]) -> None:
    """Colour and tooltip by series when there are several."""
    if len(values) > 1:
        encoding["color"] = {"field": "series", "type": "nominal", "title": None,
                             "sort": list(values)}  # fmt: skip
        encoding["tooltip"] = [key_tip, {"field": "series", "type": "nominal", "title": None},
                               encoding["tooltip"][-1]]  # fmt: skip


def horizontal_bars(
    frame: pd.DataFrame,
    label: str,
    values: Sequence[str],
    label_title: str,
    value_title: str,
) -> Chart:
    """Bars of ``values`` (stacked, in that order, when several) per ``label``.

    The longest bar comes first; the labels are never cut nor left out
    (Vega-Lite's default hides every other one when they crowd).
    """
    columns = list(values)
    order = frame.assign(_total=frame[columns].sum(axis=1)).sort_values(
        ["_total", label], ascending=[False, True]
    )[label]
    label_tip = {"field": label, "type": "nominal", "title": label_title}
    encoding: dict[str, Any] = {
        "y": {**label_tip, "sort": list(order),
              "axis": {"labelLimit": 0, "labelOverlap": False}},
        "x": {"field": "value", "type": "quantitative", "title": value_title, "stack": "zero"},
        "tooltip": [label_tip, {"field": "value", "type": "quantitative", "title": value_title}],
        "order": {"field": "rank", "type": "quantitative"},
    }  # fmt: skip
    _series(encoding, columns, label_tip)
    height = ROW_PX * max(1, len(order))
    return Chart(_long(frame, label, columns), {"mark": "bar", "encoding": encoding}, height)


def lines(frame: pd.DataFrame, x: str, values: Sequence[str], x_title: str,
          y_title: str) -> Chart:  # fmt: skip
    """One line per column of ``values`` over the dates of ``x``.

    Dates are written as the pages write them (31.05.2026): Vega's own
    labels would name the months in English on a Romanian page.
    """
    x_enc = {"field": x, "type": "temporal", "title": x_title}
    encoding: dict[str, Any] = {
        "x": {**x_enc, "axis": {"format": DATE_FORMAT}},
        "y": {"field": "value", "type": "quantitative", "title": y_title},
        "tooltip": [x_enc, {"field": "value", "type": "quantitative", "title": y_title}],
    }
    encoding["tooltip"][0] = {**x_enc, "format": DATE_FORMAT}
    _series(encoding, values, encoding["tooltip"][0])
    return Chart(_long(frame, x, values), {"mark": "line", "encoding": encoding})


def columns(frame: pd.DataFrame, x: str, y: str, x_title: str, y_title: str) -> Chart:
    """Vertical bars of ``y`` per ``x``, in the frame's order."""
    x_tip = {"field": x, "type": "nominal", "title": x_title}
    y_enc = {"field": y, "type": "quantitative", "title": y_title}
    encoding = {"x": {**x_tip, "sort": None, "axis": {"labelAngle": 0}}, "y": y_enc,
                "tooltip": [x_tip, y_enc]}  # fmt: skip
    return Chart(frame[[x, y]], {"mark": "bar", "encoding": encoding})

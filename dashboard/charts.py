"""Chart specifications (Altair) that ``st.bar_chart`` cannot express.

Its horizontal bars cut every label after about 180 pixels ("Autoturism
aban…"), and category and department names are as long as the city made
them.  These charts show names in full and order the bars by value.
Vega-Lite draws labels as SVG text, never as HTML, so names typed by an
administrator need no escaping here.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

#: Pixels per bar: a city's twenty categories stay readable without scrolling.
ROW_PX = 28


def horizontal_bars(
    frame: pd.DataFrame,
    label: str,
    values: Sequence[str],
    label_title: str,
    value_title: str,
) -> alt.Chart:
    """Bars of ``values`` (stacked, in that order, when several) per ``label``.

    The longest bar comes first; the labels are never cut nor left out
    (Vega-Lite's default hides every other one when they crowd).  Show it
    at its own ``height``: the page's theme does not size it by itself.
    """
    columns = list(values)
    order = frame.assign(_total=frame[columns].sum(axis=1)).sort_values(
        ["_total", label], ascending=[False, True]
    )[label]
    long = frame.melt(id_vars=[label], value_vars=columns, var_name="series", value_name="value")
    long["rank"] = long["series"].map({name: k for k, name in enumerate(columns)})
    bars = alt.Chart(long).mark_bar()
    encoding = {
        "y": alt.Y(f"{label}:N", title=label_title, sort=list(order),
                   axis=alt.Axis(labelLimit=0, labelOverlap=False)),
        "x": alt.X("value:Q", title=value_title, stack="zero"),
        "tooltip": [alt.Tooltip(f"{label}:N", title=label_title),
                    alt.Tooltip("value:Q", title=value_title)],
        "order": alt.Order("rank:Q"),
    }  # fmt: skip
    if len(columns) > 1:
        encoding["color"] = alt.Color("series:N", title=None, sort=columns)
        encoding["tooltip"].insert(1, alt.Tooltip("series:N", title=None))
    return bars.encode(**encoding).properties(height=ROW_PX * max(1, len(order)))


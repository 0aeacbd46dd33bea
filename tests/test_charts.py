"""dashboard.charts: bar charts that show every name whole, longest bar first."""

from __future__ import annotations

import pandas as pd

from dashboard import charts


def test_horizontal_bars_keep_every_label_whole_and_sort_by_total():
    frame = pd.DataFrame(
        {
            "name": ["Avarie la rețeaua de apă", "Groapă", "Copac căzut sau periculos"],
            "a": [1, 5, 2],
            "b": [1, 0, 4],
        }
    )
    chart = charts.horizontal_bars(frame, "name", ["a", "b"], "Nume", "Sesizări")
    spec = chart.spec
    y = spec["encoding"]["y"]
    assert y["axis"]["labelLimit"] == 0  # never cut
    assert y["axis"]["labelOverlap"] is False  # never left out
    assert y["sort"] == ["Copac căzut sau periculos", "Groapă", "Avarie la rețeaua de apă"]
    assert spec["encoding"]["color"]["sort"] == ["a", "b"]
    assert chart.height == 3 * charts.ROW_PX
    assert len(chart.data) == 6 and set(chart.data["series"]) == {"a", "b"}
    single = charts.horizontal_bars(frame, "name", ["a"], "Nume", "%").spec
    assert "color" not in single["encoding"]


def _valid(chart: charts.Chart) -> None:
    """The spec is valid Vega-Lite (the schema Altair ships) and names only its data's columns."""
    import altair as alt
    import jsonschema

    schema = alt.vegalite.v6.schema.core.load_schema()
    jsonschema.validate({**chart.spec, "data": {"values": []}}, schema)
    for channel in chart.spec["encoding"].values():
        for enc in channel if isinstance(channel, list) else [channel]:
            assert enc["field"] in chart.data.columns, enc


def test_every_chart_is_valid_vega_lite():
    frame = pd.DataFrame({"week": pd.date_range("2026-01-05", periods=3, freq="W-MON"),
                          "Primite": [3, 4, 5], "Rezolvate": [1, 2, 6],
                          "label": ["< 4 h", "4-8 h", "> 30 d"], "n": [5, 0, 2],
                          "name": ["a", "b", "c"]})  # fmt: skip
    _valid(charts.horizontal_bars(frame, "name", ["Primite", "Rezolvate"], "Nume", "Sesizări"))
    _valid(charts.horizontal_bars(frame, "name", ["n"], "Nume", "%"))
    _valid(charts.lines(frame, "week", ["Primite", "Rezolvate"], "Săptămâna", "Sesizări"))
    _valid(charts.lines(frame, "week", ["n"], "Săptămâna", "Ore"))
    _valid(charts.columns(frame, "label", "n", "Interval", "Sesizări"))


def test_dates_are_written_as_the_pages_write_them():
    frame = pd.DataFrame({"week": pd.date_range("2026-01-05", periods=2), "n": [1, 2]})
    spec = charts.lines(frame, "week", ["n"], "Săptămâna", "Ore").spec["encoding"]
    assert spec["x"]["axis"]["format"] == spec["tooltip"][0]["format"] == "%d.%m.%Y"

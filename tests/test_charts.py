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
    spec = chart.to_dict()
    y = spec["encoding"]["y"]
    assert y["axis"]["labelLimit"] == 0  # never cut
    assert y["axis"]["labelOverlap"] is False  # never left out
    assert y["sort"] == ["Copac căzut sau periculos", "Groapă", "Avarie la rețeaua de apă"]
    assert spec["encoding"]["color"]["sort"] == ["a", "b"]
    assert chart.height == 3 * charts.ROW_PX
    single = charts.horizontal_bars(frame, "name", ["a"], "Nume", "%").to_dict()
    assert "color" not in single["encoding"]

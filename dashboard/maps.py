"""pydeck deck builders: allow-listed columns only, no base-map token, no network.

``map_provider=None`` makes deck.gl draw on a plain background, so maps work
offline; every column of a layer's DataFrame reaches the browser, so layers
are built from explicit column lists.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pandas as pd
import pydeck as pdk

HEX_COLUMNS = ["polygon", "n"]

#: A MapLibre style with no sources, inlined as a data URL: a plain background
#: drawn without any network request (Streamlit would otherwise fetch Carto tiles).
PLAIN_STYLE = "data:application/json," + quote(
    json.dumps(
        {
            "version": 8,
            "sources": {},
            "layers": [
                {"id": "background", "type": "background", "paint": {"background-color": "#eef0f2"}}
            ],
        }
    )
)


def hexagon_deck(hexes: pd.DataFrame, view: dict[str, float], tooltip: str) -> pdk.Deck:
    """Hexagon density layer; colour and height grow with the count."""
    data = hexes[HEX_COLUMNS].copy()
    top = max(int(data["n"].max()) if len(data) else 1, 1)
    share = data["n"] / top
    data["color"] = [[255, int(200 - 170 * s), int(60 - 40 * s), 190] for s in share]
    layer = pdk.Layer(
        "PolygonLayer",
        data,
        get_polygon="polygon",
        get_fill_color="color",
        get_line_color=[80, 80, 80, 120],
        line_width_min_pixels=0.5,
        pickable=True,
        auto_highlight=True,
    )
    return pdk.Deck(
        layers=[layer],
        initial_view_state=pdk.ViewState(**view),
        map_provider=None,
        map_style=PLAIN_STYLE,
        tooltip={"text": tooltip},
    )

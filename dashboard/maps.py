"""pydeck deck builders: allow-listed columns only, no base-map token, no network.

Every column of a layer's DataFrame reaches the browser, so each builder
copies only the columns it names.  The base map is an inline MapLibre style
with no sources: a plain background that needs no internet and no token.
"""

from __future__ import annotations

import functools
import json
from urllib.parse import quote

import pandas as pd
import pydeck as pdk
from pydeck.bindings import deck as pydeck_deck
from pydeck.bindings.json_tools import default_serialize

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

GI_COLORS = {
    "hot 99%": [178, 24, 43, 200],
    "hot 95%": [239, 138, 98, 190],
    "hot 90%": [253, 219, 199, 180],
    "cold 99%": [33, 102, 172, 200],
    "cold 95%": [103, 169, 207, 190],
    "cold 90%": [209, 229, 240, 180],
}


def _ramp(values: pd.Series, alpha: int = 190) -> list[list[int]]:
    """Yellow-to-red colours proportional to ``values`` (0 -> pale, max -> red)."""
    top = float(values.max()) if len(values) and values.max() > 0 else 1.0
    return [
        [255, int(210 - 180 * (v / top)), int(80 - 60 * (v / top)), alpha] for v in values.fillna(0)
    ]


# pydeck asks "is ipywidgets installed?" by trying to import it, four times
# per Deck; a failed import is not cached, so each try searched sys.path
# again: 7 % of the server's CPU.  The answer cannot change in a process.
pydeck_deck.has_jupyter_extra = functools.cache(pydeck_deck.has_jupyter_extra)


class CompactDeck(pdk.Deck):
    """A pydeck Deck whose JSON is written compactly.

    pydeck indents its JSON, which makes Python fall back from its C encoder
    to the pure-Python one: serialising the map was a tenth of the server's
    CPU for a session's first render (``bench/capacity.py``).  The JSON is
    the same document, a third smaller on the wire.
    """

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def deck(layers: list[pdk.Layer], view: dict[str, float], tooltip: dict | None) -> pdk.Deck:
    return CompactDeck(
        layers=layers,
        initial_view_state=pdk.ViewState(**view),
        map_provider=None,
        map_style=PLAIN_STYLE,
        tooltip=tooltip,
    )


def hexagon_layer(hexes: pd.DataFrame, tooltip_text: str) -> pdk.Layer:
    data = hexes[["polygon", "n", "n_open"]].copy()
    data["color"] = _ramp(data["n"])
    data["tip"] = [tooltip_text.format(n=r.n, n_open=r.n_open) for r in data.itertuples()]
    return pdk.Layer(
        "PolygonLayer",
        data,
        get_polygon="polygon",
        get_fill_color="color",
        get_line_color=[80, 80, 80, 90],
        line_width_min_pixels=0.5,
        pickable=True,
        auto_highlight=True,
    )


def cluster_layer(clusters: pd.DataFrame, names: dict[str, str], tooltip_text: str) -> pdk.Layer:
    data = clusters[["lon", "lat", "n", "dominant_category", "dominant_district"]].copy()
    data["tip"] = [
        tooltip_text.format(
            n=r.n,
            dominant_category=names.get(r.dominant_category, ""),
            dominant_district=r.dominant_district or "",
        )
        for r in data.itertuples()
    ]
    data["radius"] = (data["n"] ** 0.5) * 12
    data = data.drop(columns=["dominant_category", "dominant_district"])
    return pdk.Layer(
        "ScatterplotLayer",
        data,
        get_position=["lon", "lat"],
        get_radius="radius",
        radius_min_pixels=6,
        get_fill_color=[200, 40, 40, 160],
        pickable=True,
        stroked=True,
        get_line_color=[120, 0, 0],
        line_width_min_pixels=1,
    )


def cluster_label_layer(clusters: pd.DataFrame) -> pdk.Layer:
    data = clusters[["lon", "lat", "n"]].copy()
    data["label"] = data["n"].astype(str)
    return pdk.Layer(
        "TextLayer",
        data.drop(columns="n"),
        get_position=["lon", "lat"],
        get_text="label",
        get_size=14,
        get_color=[255, 255, 255],
        font_family='"DejaVu Sans", sans-serif',
    )


def gi_layer(cells: pd.DataFrame, labels: dict[str, str], tooltip_text: str) -> pdk.Layer:
    data = cells[cells["class"] != "not significant"][["geojson", "class", "z"]].copy()
    data["polygon"] = [g["coordinates"][0] for g in data["geojson"]]
    data["color"] = [GI_COLORS.get(c, [200, 200, 200, 80]) for c in data["class"]]
    data["tip"] = [
        tooltip_text.format(**{"class": labels.get(c, c), "z_text": f"{z:.2f}"})
        for c, z in zip(data["class"], data["z"], strict=True)
    ]
    data = data.drop(columns=["geojson", "class", "z"])
    return pdk.Layer(
        "PolygonLayer",
        data,
        get_polygon="polygon",
        get_fill_color="color",
        get_line_color=[90, 90, 90, 60],
        line_width_min_pixels=0.5,
        pickable=True,
    )


def point_layer(points: pd.DataFrame, tooltip: list[str], highlight: list[bool]) -> pdk.Layer:
    data = points[["lon", "lat"]].copy()
    data["tip"] = tooltip
    data["color"] = [[255, 140, 0, 255] if h else [30, 90, 200, 190] for h in highlight]
    data["radius"] = [14 if h else 7 for h in highlight]
    return pdk.Layer(
        "ScatterplotLayer",
        data,
        get_position=["lon", "lat"],
        get_radius="radius",
        radius_min_pixels=3,
        get_fill_color="color",
        pickable=True,
    )


def place_layer(latitude: float, longitude: float) -> pdk.Layer:
    """One incident's place: a red dot in a white ring, seen over any outline."""
    return pdk.Layer(
        "ScatterplotLayer",
        pd.DataFrame({"lon": [longitude], "lat": [latitude]}),
        get_position=["lon", "lat"],
        get_radius=12,
        radius_min_pixels=7,
        stroked=True,
        line_width_min_pixels=2,
        get_line_color=[255, 255, 255],
        get_fill_color=[200, 30, 30],
    )


def district_layer(outline: dict) -> pdk.Layer:
    districts = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": f["geometry"], "properties": {}}
            for f in outline["features"]
        ],
    }
    return pdk.Layer(
        "GeoJsonLayer",
        districts,
        stroked=True,
        filled=False,
        get_line_color=[60, 60, 60, 200],
        line_width_min_pixels=1.5,
    )


def choropleth_layer(medians: pd.DataFrame) -> pdk.Layer:
    """Districts coloured by median resolution time (MultiPolygons kept whole)."""
    colors = _ramp(medians["resolve_median_h"], 170)
    features = []
    for row, color in zip(medians.itertuples(), colors, strict=True):
        median = row.resolve_median_h
        approx = "≈" if getattr(row, "sampled", False) else ""
        tip = (
            f"{row.district}: {approx}{median:.1f} h ({row.n})"
            if pd.notna(median)
            else f"{row.district}"
        )
        features.append(
            {"type": "Feature", "geometry": row.geojson, "properties": {"color": color, "tip": tip}}
        )
    return pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": features},
        stroked=True,
        filled=True,
        get_fill_color="properties.color",
        get_line_color=[60, 60, 60, 200],
        line_width_min_pixels=1,
        pickable=True,
    )

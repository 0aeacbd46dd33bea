"""The pydeck builders of ``dashboard/maps.py``: what the browser receives."""

from __future__ import annotations

import json

import pandas as pd
import pydeck as pdk

from dashboard import maps


def _hexes() -> pd.DataFrame:
    square = [[21.90, 45.69], [21.91, 45.69], [21.91, 45.70], [21.90, 45.70]]
    return pd.DataFrame({"polygon": [square, square], "n": [3, 1], "n_open": [2, 0],
                         "secret": ["not for the browser"] * 2})  # fmt: skip


def test_the_compact_json_is_the_same_document():
    deck = maps.deck(
        [maps.hexagon_layer(_hexes(), "{n} / {n_open}")],
        {"latitude": 45.69, "longitude": 21.9, "zoom": 12},
        {"text": "{tip}"},
    )
    compact = deck.to_json()
    assert "\n" not in compact
    assert json.loads(compact) == json.loads(pdk.Deck.to_json(deck))
    assert len(compact) < len(pdk.Deck.to_json(deck)) * 0.8


def test_layers_carry_only_their_named_columns():
    layer = maps.hexagon_layer(_hexes(), "{n} / {n_open}")
    view = {"latitude": 0, "longitude": 0, "zoom": 1}
    spec = json.loads(maps.deck([layer], view, None).to_json())
    rows = spec["layers"][0]["data"]
    assert len(rows) == 2 and set(rows[0]) == {"polygon", "n", "n_open", "color", "tip"}
    assert rows[0]["tip"] == "3 / 2"

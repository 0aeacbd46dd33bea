"""UI texts in Romanian (default) and English.

Pages never hard-code text: they call ``t("key")``.  The language comes from
the ``lang`` query parameter, so a shared link keeps it.  A test checks that
both languages have the same keys.
"""

from __future__ import annotations

import streamlit as st

LANGUAGES = {"ro": "Română", "en": "English"}
DEFAULT = "ro"

MESSAGES: dict[str, dict[str, str]] = {
    "ro": {
        "app.title": "Sesizări",
        "nav.live_map": "Harta sesizărilor",
        "lang.label": "Limba",
        "city.label": "Oraș",
        "city.none": "Nu există încă niciun oraș în baza de date. Rulați `make run` pentru demo.",
        "map.title": "Sesizări pe hartă ({city})",
        "map.caption": "Densitatea sesizărilor pe hexagoane de {size} m, calculată pe server.",
        "map.tooltip": "{incidents} sesizări",
        "map.hex_size": "Mărimea hexagonului (m)",
        "map.cells": "Hexagoane afișate",
        "map.total": "Sesizări în total",
        "map.offline": "Harta de bază nu se încarcă fără internet; datele se afișează oricum.",
    },
    "en": {
        "app.title": "Sesizari",
        "nav.live_map": "Incident map",
        "lang.label": "Language",
        "city.label": "City",
        "city.none": "There is no city in the database yet. Run `make run` for the demo.",
        "map.title": "Incidents on the map ({city})",
        "map.caption": "Incident density on {size} m hexagons, computed on the server.",
        "map.tooltip": "{incidents} incidents",
        "map.hex_size": "Hexagon size (m)",
        "map.cells": "Hexagons shown",
        "map.total": "Incidents in total",
        "map.offline": "The base map needs no internet; the data shows on a plain background.",
    },
}


def current_language() -> str:
    """Language of this session: ``?lang=`` first, then the default (Romanian)."""
    lang = st.query_params.get("lang", DEFAULT)
    return lang if lang in MESSAGES else DEFAULT


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text of ``key`` in the session's language, formatted with ``values``."""
    table = MESSAGES[lang or current_language()]
    text = table.get(key) or MESSAGES[DEFAULT].get(key) or key
    return text.format(**values) if values else text

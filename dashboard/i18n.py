"""UI texts in Romanian (default) and English.

Pages never hard-code text: they call ``t("key")``.  The language comes from
the ``lang`` query parameter, so a shared link keeps it.  A test checks that
both languages have the same keys.
"""

from __future__ import annotations

import streamlit as st

from dashboard.texts import MESSAGES

LANGUAGES = {"ro": "Română", "en": "English"}
DEFAULT = "ro"


def current_language() -> str:
    """Language of this session: ``?lang=`` first, then the default (Romanian)."""
    lang = st.query_params.get("lang", DEFAULT)
    return lang if lang in MESSAGES else DEFAULT


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text of ``key`` in the session's language, formatted with ``values``."""
    table = MESSAGES[lang or current_language()]
    text = table.get(key) or MESSAGES[DEFAULT].get(key) or key
    return text.format(**values) if values else text

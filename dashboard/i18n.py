"""UI texts in Romanian (default) and English.

Pages never hard-code text: they call ``t("key")``.  The language comes from
the ``lang`` query parameter, so a shared link keeps it; the router
(``dashboard/app.py``) puts it back in the address of every page the tab
opens.  A test checks that
both languages have the same keys.

Streamlit reads the text of ``st.error``, ``st.info``, ``st.caption``,
``st.markdown`` and headings as Markdown.  A text that carries something a
person typed (an address, a name, an institution, an error that quotes the
input) goes there through :func:`t_md` or :func:`escape_markdown`, so that
``![x](http://...)`` shows as typed instead of fetching an image.  A test
reads the pages' source to hold them to it.
"""

from __future__ import annotations

import re
import unicodedata

import streamlit as st

from dashboard.texts import MESSAGES

LANGUAGES = {"ro": "Română", "en": "English"}
DEFAULT = "ro"


def current_language() -> str:
    """Language of this session: ``?lang=`` first, then the one this browser tab
    chose before (a click in the page list opens the next page without the
    query), then the default (Romanian)."""
    for lang in (st.query_params.get("lang"), st.session_state.get("lang")):
        if lang in MESSAGES:
            return lang
    return DEFAULT


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text of ``key`` in the session's language, formatted with ``values``."""
    table = MESSAGES[lang or current_language()]
    text = table.get(key) or MESSAGES[DEFAULT].get(key) or key
    return text.format(**values) if values else text


#: Every ASCII punctuation mark that Markdown, GitHub's extensions or
#: Streamlit's own (``:red[...]`` colours, ``$...$`` formulas) give a meaning.
#: CommonMark lets a backslash make any of them a plain character.
_MARKDOWN_MARKS = re.compile(r"""([\\`*_{}\[\]()#+\-.!|<>~$:^&="'@/%])""")


def escape_markdown(text: object) -> str:
    """``text`` written so that a Markdown element shows it exactly as typed."""
    return _MARKDOWN_MARKS.sub(r"\\\1", str(text))


def t_md(key: str, lang: str | None = None, **values: object) -> str:
    """:func:`t` for a Markdown element: the values are escaped, the text is not."""
    return t(key, lang, **{k: escape_markdown(v) for k, v in values.items()})


#: Romanian letters with a diacritic, each after its base letter and before the
#: next one (a, ă, â, b ... s, ș, t, ț), as the Romanian alphabet orders them;
#: both the comma and the cedilla forms of ș and ț.
_RO_LETTERS = {"ă": "a1", "â": "a2", "î": "i1", "ș": "s1", "ş": "s1", "ț": "t1", "ţ": "t1"}


def collation_key(text: object) -> str:
    """A key that puts names in dictionary order: case ignored, Romanian letters
    in their places (Apă-Canal before Circulație, Salubritate before Spații
    verzi, Tuburi before Țevi), other accents beside their base letter.

    Code point order puts every capital before every small letter and every
    ``Ă``, ``Ș`` or ``Ț`` after ``z``; the server has no Romanian locale to ask.
    """
    keyed = []
    for char in str(text).casefold():
        if char in _RO_LETTERS:
            keyed.append(_RO_LETTERS[char])
        else:
            base = unicodedata.normalize("NFD", char)[0]
            keyed.append(base + ("0" if base == char else "3"))
    return "".join(keyed)

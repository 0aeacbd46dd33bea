"""Text that a person typed shows as typed in Streamlit's Markdown elements.

``st.error``, ``st.info``, ``st.caption``, headings and widget labels read
their text as Markdown: an address ``![x](http://evil.example/x.png)`` would
fetch an image, ``**x**`` would turn bold.  Pages put values in those texts
only through :func:`dashboard.i18n.t_md` / ``escape_markdown``; the first test
reads every page's source to hold them to it, the others show that the
escaping gives back the text exactly, through a CommonMark renderer and
through the page.
"""

from __future__ import annotations

import ast
import html

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dashboard.i18n import escape_markdown, t_md
from tests.conftest import REPO

#: Streamlit calls whose first argument (and ``label``/``help``/``body``) is Markdown.
MARKDOWN_CALLS = {
    "error", "info", "success", "warning", "caption", "markdown", "subheader", "header",
    "title", "write", "toast", "exception", "button", "expander", "checkbox",
    "download_button", "link_button", "metric", "form_submit_button", "radio", "toggle",
    "text_input", "text_area", "selectbox", "multiselect", "file_uploader", "number_input",
    "date_input", "slider", "select_slider", "popover", "page_link",
}  # fmt: skip
#: Calls whose result is safe in Markdown: escaped, or a link built from escaped text.
SAFE_CALLS = {"t_md", "escape_markdown", "md_link"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _safe(node: ast.expr, assigned: dict[str, list[ast.expr]], seen: frozenset = frozenset()):
    """Whether ``node`` can only hold text written by the code, or escaped text."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name) and node.id in assigned and node.id not in seen:
        return all(_safe(v, assigned, seen | {node.id}) for v in assigned[node.id])
    if isinstance(node, ast.IfExp):
        return _safe(node.body, assigned, seen) and _safe(node.orelse, assigned, seen)
    if isinstance(node, ast.BinOp):  # texts put together
        return _safe(node.left, assigned, seen) and _safe(node.right, assigned, seen)
    if isinstance(node, ast.JoinedStr):
        return all(
            _safe(part.value, assigned, seen)
            for part in node.values
            if isinstance(part, ast.FormattedValue)
        )
    if isinstance(node, ast.Call):
        if _name(node.func) in SAFE_CALLS:
            return True
        if _name(node.func) == "t":  # a text of the code, its values already safe
            return all(_safe(k.value, assigned, seen) for k in node.keywords if k.arg != "lang")
    return False


def unsafe_markdown(source: str) -> list[str]:
    """The Markdown elements of ``source`` that may show a value unescaped."""
    tree = ast.parse(source)
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _name(node.func) in MARKDOWN_CALLS):
            continue
        if not isinstance(node.func, ast.Attribute):
            continue
        texts = [k.value for k in node.keywords if k.arg in ("label", "help", "body")]
        if node.args and _name(node.func) != "page_link":  # a page_link's first is its page
            texts.insert(0, node.args[0])
        found += [f"{node.lineno}: {ast.unparse(node)[:100]}" for x in texts
                  if not _safe(x, assigned)]  # fmt: skip
    return found


def test_pages_escape_every_value_they_put_in_markdown():
    files = sorted((REPO / "dashboard").rglob("*.py"))
    assert len(files) > 15
    found = {str(p.relative_to(REPO)): unsafe_markdown(p.read_text()) for p in files}
    assert not {k: v for k, v in found.items() if v}, found


def test_the_check_sees_what_it_must():
    """The source check itself: each of these would show typed text as Markdown."""
    for bad in (
        'st.caption(inc["address"])',
        'st.error(t("error", message=exc))',
        'st.info(f"{t(\'x\')}: {row.name}")',
        'col.number_input(f"{row.name} (h)", key="k")',
        "label = row.name\nst.checkbox(label)",
        'st.page_link(page, label=user.full_name)',
        'st.warning(t_md("k", n=1) + row.name)',
    ):
        assert unsafe_markdown(bad), bad
    for good in (
        'st.caption(escape_markdown(inc["address"]))',
        'st.error(t_md("error", message=exc))',
        "st.markdown(f\"**{t('x')}**\")",
        'label = t("k")\nst.checkbox(label)',
        'st.markdown(t("k", link=md_link(n, "track", id=n)))',
    ):
        assert not unsafe_markdown(good), good


#: CommonMark with GitHub's tables and strikethrough, as Streamlit reads it.
_RENDER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _plain(text: str) -> str:
    """How a renderer writes ``text`` when it reads it as plain characters."""
    return "<p>" + html.escape(text, quote=False).replace('"', "&quot;") + "</p>"


@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1).map(str.strip)
       .filter(bool))  # fmt: skip
def test_escaped_text_renders_as_the_same_characters(text):
    assert _RENDER.render(escape_markdown(text)).strip() == _plain(text)


def test_hostile_markdown_renders_as_text():
    for text in (
        "![image](http://evil.example/md.png)",
        "[link](javascript:window.__xss=12)",
        "**bold** _em_ `code` # heading",
        "# Title",
        "- item",
        "1. first",
        "> quoted",
        "| a | b |",
        "~~gone~~",
        "&amp; &lt;script&gt;",
        "<img src=x onerror=alert(1)>",
        "a\\*b",
        "$$x^2$$",
        ":red[coloured]",
    ):
        assert _RENDER.render(escape_markdown(text)).strip() == _plain(text), text


def test_t_md_escapes_the_values_not_the_text():
    shown = t_md("track.forwarded", lang="ro", institution="**CN** [x](http://e)", when="1.2")
    assert shown.startswith("Redirecționată către \\*\\*CN\\*\\*")
    assert _RENDER.render(shown).strip() == _plain(
        "Redirecționată către **CN** [x](http://e) la 1.2."
    )

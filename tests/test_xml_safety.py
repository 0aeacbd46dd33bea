"""RELIABILITY R18: hostile XML from outside (an Open311 server's answers, a
spreadsheet's parts) is refused: external entities (XXE, a file read or a
request to another host), entity expansion (billion laughs, quadratic
blow-up), a declaration hidden after a long comment, XML in UTF-16.  No
local file is read, no request leaves, memory stays bounded."""

from __future__ import annotations

import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from etl.open311 import open311_source
from etl.readers import open_source
from sesizari.errors import ValidationError
from tests.etl_helpers import QuietHandler, http_server
from tests.test_etl_sheet_reader import ODS_HEAD, ODS_TAIL, _cell, _ods, _xlsx

CANARY = "canary-7f3e9b2c-never-read"
#: Memory a refused parse may take (the blow-ups would take gigabytes).
BOUND = 32 * 1024 * 1024


def _declarations(kind: str, canary: Path, base: str) -> tuple[str, str]:
    """The document type declaration of an attack, and the entity reference
    that would fire it inside a text node."""
    if kind == "xxe_file":
        return f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{canary}">]>', "&x;"
    if kind == "xxe_http":
        return f'<!DOCTYPE r [<!ENTITY x SYSTEM "{base}/steal">]>', "&x;"
    if kind == "external_dtd":
        return f'<!DOCTYPE r SYSTEM "{base}/evil.dtd">', ""
    if kind == "billion_laughs":
        lols = ['<!ENTITY lol0 "lol">'] + [
            f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
        return f"<!DOCTYPE r [{''.join(lols)}]>", "&lol9;"
    if kind == "quadratic":
        return f'<!DOCTYPE r [<!ENTITY a "{"A" * 50_000}">]>', "&a;" * 20_000
    if kind == "late_doctype":  # the declaration after 200 KB of comment
        return (f"<!-- {'x' * 200_000} -->"
                f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{canary}">]>', "&x;")
    raise AssertionError(kind)


KINDS = ["xxe_file", "xxe_http", "external_dtd", "billion_laughs", "quadratic", "late_doctype",
         "utf16"]


def _document(kind: str, canary: Path, base: str, root: str, text_node: str) -> bytes:
    """A hostile document: ``root`` (the XML after the prolog) with
    ``text_node`` replaced by the attack's entity reference."""
    attack = "xxe_file" if kind == "utf16" else kind
    doctype, ref = _declarations(attack, canary, base)
    xml = '<?xml version="1.0"?>' + doctype + root.replace(text_node, ref)
    if kind == "utf16":
        return xml.replace('<?xml version="1.0"?>',
                           '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")
    return xml.encode()


class _Server(QuietHandler):
    """Answers from ``answers`` (path -> body); records every path asked for."""

    answers: ClassVar[dict[str, bytes]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.seen.append(path)
        body = self.answers.get(path)
        if body is None:
            # What an attacker's host would answer: the steal worked if this shows.
            self.answer(200, "text/xml", f'<!ENTITY y "{CANARY}">'.encode())
            return
        self.answer(200, "text/xml", body)


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Server]]]:
    class Handler(_Server):
        answers: ClassVar[dict[str, bytes]] = {}
        seen: ClassVar[list[str]] = []

    with http_server(Handler) as base:
        yield base, Handler


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(CANARY, "utf-8")
    return path


def _refused(run, match: str) -> ValidationError:
    """Run ``run``; it must fail with a ValidationError matching ``match``,
    holding no canary, within BOUND bytes of memory."""
    tracemalloc.start()
    try:
        with pytest.raises(ValidationError, match=match) as err:
            run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert CANARY not in str(err.value)
    assert peak < BOUND, f"{peak / 2**20:.0f} MiB"
    return err.value


SERVICES = ("<services><service><service_code>pothole</service_code>"
            "<service_name>Gropi</service_name></service></services>")
REQUESTS = ("<service_requests><request><service_request_id>1</service_request_id>"
            "<status>open</status><service_code>pothole</service_code>"
            "<description>TEXT</description><requested_datetime>2026-05-04T10:15:00+03:00"
            "</requested_datetime><lat>45.69</lat><long>21.9</long></request>"
            "</service_requests>")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("part", ["services", "requests"])
def test_open311_answers(server, canary, kind, part):
    base, handler = server
    api = f"{base}/v2"
    services = SERVICES.replace("Gropi", "TEXT")
    handler.answers = {
        "/v2/services.xml": (_document(kind, canary, base, services, "TEXT")
                             if part == "services" else SERVICES.encode()),
        "/v2/requests.xml": _document(kind, canary, base, REQUESTS, "TEXT"),
    }
    if part == "services":
        _refused(lambda: open311_source(api, fmt="xml"), "did not answer plain XML")
    else:
        source = open311_source(api, fmt="xml")
        _refused(lambda: list(source.rows), "did not answer plain XML")
    # Only the GeoReport paths were asked for: no entity or DTD was fetched.
    assert set(handler.seen) <= {"/v2/services.xml", "/v2/requests.xml"}


def _replace_part(path: Path, name: str, data: bytes) -> Path:
    """The zip at ``path`` with part ``name`` holding ``data`` instead."""
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    assert name in parts
    parts[name] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, body in parts.items():
            zf.writestr(part, body)
    return path


X_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _xlsx_with(tmp_path: Path, attack: bytes) -> Path:
    return _replace_part(_xlsx(tmp_path / "a.xlsx", {"S": ""}), "xl/worksheets/s1.xml", attack)


def _ods_with(tmp_path: Path, attack: bytes) -> Path:
    return _replace_part(_ods(tmp_path / "a.ods", {"S": ""}), "content.xml", attack)


#: A spreadsheet's part that holds the rows, with TEXT where a cell's text goes.
SHEETS = {
    "xlsx": (_xlsx_with, f'<worksheet xmlns="{X_NS}"><sheetData><row r="1"><c r="A1"'
             ' t="inlineStr"><is><t>TEXT</t></is></c></row></sheetData></worksheet>'),
    "ods": (_ods_with, ODS_HEAD.split("?>", 1)[1] + '<table:table table:name="S">'
            "<table:table-row>" + _cell("<text:p>TEXT</text:p>")
            + "</table:table-row></table:table>" + ODS_TAIL),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", sorted(SHEETS))
def test_spreadsheet_parts(tmp_path, server, canary, fmt, kind):
    base, handler = server
    build, part = SHEETS[fmt]
    path = build(tmp_path, _document(kind, canary, base, part, "TEXT"))

    def read() -> None:
        for _ in open_source(path).batches(10):
            pass

    _refused(read, "not UTF-8" if kind == "utf16" else "declares a document type")
    assert handler.seen == []


def test_a_long_prolog_of_comments_is_refused_past_a_mebibyte(tmp_path):
    content = (ODS_HEAD.replace("<office:document-content",
                                f"<!-- {'x' * 2 * 1024 * 1024} --><office:document-content")
               + '<table:table table:name="S"></table:table>' + ODS_TAIL)
    path = _replace_part(_ods(tmp_path / "a.ods", {"S": ""}), "content.xml", content.encode())
    with pytest.raises(ValidationError, match="over 1 MiB of comments"):
        for _ in open_source(path).batches(10):
            pass
    # Comments and instructions that end in time are fine.
    ok = (ODS_HEAD.replace("<office:document-content", "<!-- a -->\n<?pi x?>"
                           "<office:document-content")
          + '<table:table table:name="S"><table:table-row>' + _cell("<text:p>v</text:p>")
          + "</table:table-row></table:table>" + ODS_TAIL)
    path = _replace_part(_ods(tmp_path / "b.ods", {"S": ""}), "content.xml", ok.encode())
    assert [b.rows for b in open_source(path).batches(10)] == []  # a header row only

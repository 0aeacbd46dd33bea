"""Open311 responses as JSON or XML, and the spec's error documents.

XML is built with :mod:`xml.etree.ElementTree`, which escapes text; characters
XML 1.0 cannot carry at all (control characters a client may have sent) are
replaced, so every response parses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from fastapi import Response

JSON_TYPE = "application/json"
XML_TYPE = "application/xml"

#: Characters outside the XML 1.0 ``Char`` production.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Format(StrEnum):
    """Response formats of the Open311 endpoints (the URL's extension)."""

    JSON = "json"
    XML = "xml"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    child = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(child, key, item)
    elif isinstance(value, list):
        for item in value:
            _append(child, tag[:-1] if tag.endswith("s") else "item", item)
    else:
        child.text = _text(value)


def to_xml(root: str, item_tag: str | None, payload: Sequence[Mapping] | Mapping) -> bytes:
    """``<root><item_tag>fields</item_tag>...</root>``, or ``<root>fields</root>``."""
    top = ET.Element(root)
    if item_tag is None:
        assert isinstance(payload, Mapping)
        for key, value in payload.items():
            if isinstance(value, list):
                for item in value:
                    _append(top, key[:-1] if key.endswith("s") else key, item)
            else:
                _append(top, key, value)
    else:
        for item in payload:
            element = ET.SubElement(top, item_tag)
            for key, value in item.items():
                _append(element, key, value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def respond(
    fmt: Format,
    payload: Sequence[Mapping] | Mapping,
    xml_root: str,
    xml_item: str | None,
    status_code: int = 200,
) -> Response:
    """The payload in the requested format."""
    if fmt is Format.XML:
        body = to_xml(xml_root, xml_item, payload)
        return Response(body, status_code, media_type=XML_TYPE)
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(body, status_code, media_type=JSON_TYPE)


def errors(fmt: Format, status_code: int, descriptions: Sequence[str]) -> Response:
    """The spec's error document: a list of ``{code, description}``."""
    items = [{"code": status_code, "description": d} for d in descriptions]
    return respond(fmt, items, "errors", "error", status_code)

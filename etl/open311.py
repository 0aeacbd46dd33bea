"""Open311 GeoReport v2: service requests fetched over HTTP, loaded like a file.

Both formats of the spec: JSON (``.json``, what most servers answer best)
or XML (``.xml``, the one every server must offer); by default JSON is
tried first and XML if the server does not answer JSON.

First ``GET {base}/services.{json,xml}``: the server's service list.  It
proves the endpoint answers GeoReport v2 before anything is loaded, names
the services a request gives only by code, and tells the operator which of
the server's services the mapping does not map (see ``python -m etl
open311``).

Then ``GET {base}/requests.{json,xml}`` by date window: the spec lets a
query span at most 90 days of ``requested_datetime`` (and a server answers
the last 90 days when given no dates), so a run from a start date walks
windows of ``window_days`` up to now, each page by page.  The start is
``--since``, or else the watermark of the last successful run less
``--revisit-days`` (a scheduled run reads again the recent requests whose
status may have changed, and what is new).  The rows then go through the same load path as
files: same checks, rejects, idempotency and counters.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from etl.download import is_web_page
from etl.readers import RowsSource
from sesizari.errors import ValidationError

#: GeoReport v2 request fields, plus ``closed_datetime`` (see :func:`_row`).
FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url", "closed_datetime",
]
TIMEOUT = 60
#: The largest answer read for one page or service list.  A GeoReport v2 page
#: is a few hundred requests (well under a megabyte); a server answering
#: without end (a misconfigured proxy, an endpoint that is not GeoReport)
#: stops the run with a message instead of filling the machine's memory.
MAX_ANSWER_BYTES = 64 * 1024 * 1024
#: The widest range of requested_datetime the GeoReport v2 spec lets one query span.
WINDOW_DAYS = 90
FORMATS = ("auto", "json", "xml")


@dataclass(frozen=True)
class Service:
    """One entry of the server's service list."""

    code: str
    name: str
    group: str | None = None


#: What PostgreSQL text cannot hold and JSON can (``\u0000``, a lone
#: ``\ud800``): one such request would fail its whole batch.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _text(value: object) -> str | None:
    """A JSON value as the text a file would hold (numbers as written, no
    empties); NUL characters dropped and lone surrogates replaced (U+FFFD),
    as the CSV reader does with what it cannot store."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _UNSTORABLE.search(text):
        text = _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)
    return text.strip() or None


def _row(request: ET.Element | dict, names: dict[str, str]) -> dict[str, str | None]:
    """One request (an XML <request> or a JSON object) as a row.  GeoReport
    v2 has no closing time: a closed request's ``updated_datetime`` is the
    best one it gives, so it becomes ``closed_datetime``.  A request without
    a ``service_name`` gets its service's name from the service list."""
    if isinstance(request, dict):
        row = {f: _text(request.get(f)) for f in FIELDS[:-1]}
    else:
        row = {f: ((request.findtext(f) or "").strip() or None) for f in FIELDS[:-1]}
    closed = (row.get("status") or "").lower() == "closed"
    row["closed_datetime"] = row["updated_datetime"] if closed else None
    if not row["service_name"] and row["service_code"]:
        row["service_name"] = names.get(row["service_code"])
    return row


#: What to check after an HTTP error, by its first digit or code (en, ro).
_HTTP_ADVICE = {
    "4": ("check the base URL, jurisdiction and API key",
          "verificați adresa de bază, jurisdicția și cheia API"),
    "404": ("check the base URL: it ends before /services.json, e.g."
            " https://city.example/open311/v2; and the jurisdiction",
            "verificați adresa de bază: se termină înainte de /services.json, de exemplu"
            " https://oras.example/open311/v2; și jurisdicția"),
    "5": ("the server failed; try again later, or ask its operator",
          "serverul a eșuat; încercați din nou mai târziu sau întrebați-i pe cei care îl"
          " administrează"),
}


def _get(url: str) -> bytes:
    try:
        # Callers build URLs from a base checked to be http(s): no file:// or other scheme.
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            body = resp.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raw = exc.read(2000)
        text = raw.decode("utf-8", "replace")
        try:
            detail = _error_text(json.loads(text))
        except ValueError:
            detail = None
        if detail is None and is_web_page(raw):  # its text is no message
            detail = "a web page, not a GeoReport v2 error"
        detail = " ".join((detail or (
            text.split("<error>")[-1].split("</error>")[0].strip() if "<error>" in text
            else text.strip())).split())
        en, ro = _HTTP_ADVICE.get(str(exc.code)) or _HTTP_ADVICE.get(
            str(exc.code)[0], _HTTP_ADVICE["4"])
        raise ValidationError(
            "open311", f"{url.split('?')[0]} answered HTTP {exc.code}: {detail[:200]} ({en})",
            ro=f"{url.split('?')[0]} a răspuns HTTP {exc.code}: {detail[:200]} ({ro})",
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise ValidationError(
            "open311", f"cannot reach {url.split('?')[0]} ({exc}); check the base URL, and"
            " that this machine can reach the server (proxy, firewall)",
            ro=f"{url.split('?')[0]} nu poate fi accesat ({exc}); verificați adresa de bază"
            " și că acest calculator ajunge la server (proxy, firewall)",
        ) from None
    if len(body) > MAX_ANSWER_BYTES:
        raise ValidationError(
            "open311", f"{url.split('?')[0]} answered more than"
            f" {MAX_ANSWER_BYTES // (1024 * 1024)} MiB for one page; check that the base URL"
            " is a GeoReport v2 endpoint",
            ro=f"{url.split('?')[0]} a răspuns mai mult de"
            f" {MAX_ANSWER_BYTES // (1024 * 1024)} MiB pentru o pagină; verificați că adresa"
            " de bază este un punct de acces GeoReport v2",
        )
    return body


def _error_text(doc: object) -> str | None:
    """The descriptions of a JSON error answer (``[{"code": 403, "description": ...}]``)."""
    if isinstance(doc, dict):
        doc = doc.get("errors", [doc])
    if isinstance(doc, list) and doc and all(
        isinstance(e, dict) and "description" in e and "service_code" not in e
        and "service_request_id" not in e for e in doc
    ):
        return "; ".join(str(e.get("description")) for e in doc)
    return None


def _not_a_web_page(shown: str, body: bytes, fmt: str) -> bytes:
    """``body``, unless it is a web page (a base URL that names a site's page,
    a login or a proxy's page): then what to check instead."""
    if is_web_page(body):
        raise ValidationError(
            "open311", f"{shown} answered a web page, not GeoReport v2 {fmt.upper()}: check the"
            f" base URL (it ends before /services.{fmt}, e.g. https://city.example/open311/v2)",
            ro=f"{shown} a răspuns o pagină web, nu {fmt.upper()} GeoReport v2: verificați"
            f" adresa de bază (se termină înainte de /services.{fmt}, de exemplu"
            " https://oras.example/open311/v2)",
        )
    return body


def _json(url: str) -> list[dict]:
    """The answer's JSON list; an error answer or another body is an error."""
    shown = url.split("?")[0]
    body = _not_a_web_page(shown, _get(url), "json")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            "open311", f"{shown} did not answer JSON ({exc})",
            ro=f"{shown} nu a răspuns JSON ({exc})",
        ) from None
    errors = _error_text(doc)
    if errors:
        raise ValidationError(
            "open311", f"{shown} answered an error: {errors[:300]}",
            ro=f"{shown} a răspuns cu o eroare: {errors[:300]}",
        )
    if not isinstance(doc, list) or not all(isinstance(x, dict) for x in doc):
        raise ValidationError(
            "open311", f"{shown} did not answer a GeoReport v2 list; check the base URL",
            ro=f"{shown} nu a răspuns o listă GeoReport v2; verificați adresa de bază",
        )
    return doc


def _xml(url: str) -> ET.Element:
    """The answer's XML root; an <error> answer or a body that is not XML is an error.
    Parsed with defusedxml: the server is not ours, and entities or a DTD (even
    one with no entities, naming an outside file) are refused."""
    shown = url.split("?")[0]
    body = _not_a_web_page(shown, _get(url), "xml")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise ValidationError(
            "open311", f"{shown} did not answer plain XML ({exc})",
            ro=f"{shown} nu a răspuns XML simplu ({exc})",
        ) from None
    if root.tag == "errors" or root.tag == "error" or root.find("error") is not None:
        text = " ".join(t.strip() for t in root.itertext() if t.strip())
        raise ValidationError(
            "open311", f"{shown} answered an error: {text[:300]}",
            ro=f"{shown} a răspuns cu o eroare: {text[:300]}",
        )
    return root


def _check_base(base_url: str) -> str:
    if not base_url.startswith(("http://", "https://")):
        raise ValidationError("base_url", "give an http:// or https:// URL")
    return base_url.rstrip("/")


def _services(base: str, query: str, fmt: str) -> list[Service]:
    url = f"{base}/services.{fmt}{query}"
    if fmt == "json":
        items = [(_text(x.get("service_code")), _text(x.get("service_name")),
                  _text(x.get("group"))) for x in _json(url)]
    else:
        root = _xml(url)
        if root.tag != "services":
            raise ValidationError(
                "open311", f"{base}/services.xml is not a GeoReport v2 service list"
                f" (its root is <{root.tag}>); check the base URL"
            )
        items = [((e.findtext("service_code") or "").strip() or None,
                  (e.findtext("service_name") or "").strip() or None,
                  (e.findtext("group") or "").strip() or None) for e in root.iter("service")]
    return [Service(code, name or code, group) for code, name, group in items if code]


def fetch_services(base_url: str, jurisdiction: str | None = None,
                   fmt: str = "auto") -> tuple[list[Service], str]:
    """The server's service list and the format it answered in (``json`` or
    ``xml``).  ``auto`` asks for JSON first, then XML if JSON fails."""
    base = _check_base(base_url)
    if fmt not in FORMATS:
        raise ValidationError("format", f"use one of {', '.join(FORMATS)}")
    query = f"?{urllib.parse.urlencode({'jurisdiction_id': jurisdiction})}" if jurisdiction \
        else ""
    if fmt == "auto":
        try:
            return _services(base, query, "json"), "json"
        except ValidationError:
            fmt = "xml"  # a server without JSON, or not a GeoReport server: XML tells
    return _services(base, query, fmt), fmt


def windows(since: datetime | None, until: datetime,
            days: int = WINDOW_DAYS) -> list[tuple[datetime, datetime] | None]:
    """The date windows a run asks for, oldest first; ``[None]`` (no dates:
    the server's default range) without a start."""
    if since is None:
        return [None]
    if days < 1:
        raise ValidationError("window_days", "must be at least 1")
    # A little overlap: requests of the last second are matched, not lost.
    # In UTC: a local window over a clock change would be an hour longer than
    # its days (90 days + 1 hour, past the spec's limit) or shorter.
    # Each bound is then written in the start's own zone, as it was given.
    zone = since.tzinfo
    start = since.astimezone(UTC) - timedelta(seconds=1)
    until = until.astimezone(UTC)
    out: list[tuple[datetime, datetime] | None] = []
    while True:
        end = min(start + timedelta(days=days), until)
        out.append((start.astimezone(zone), end.astimezone(zone)))
        if end >= until:
            return out
        start = end


def fetch(
    base_url: str,
    *,
    since: datetime | None = None,
    jurisdiction: str | None = None,
    max_pages: int = 100,
    window_days: int = WINDOW_DAYS,
    until: datetime | None = None,
    names: dict[str, str] | None = None,
    fmt: str = "xml",
) -> Iterator[dict[str, str | None]]:
    """Service requests from ``base_url``, window by window and page by page,
    each id once (streamed: one page in memory at a time, plus the ids met).

    A window with more than ``max_pages`` pages is an error, not a silent
    cut: its requests after that page would be missing.
    """
    base = _check_base(base_url)
    until = until or datetime.now(UTC)
    if since is not None:
        since = min(since, until)  # a start in the future still asks for the latest window
    seen: set[str] = set()
    for window in windows(since, until, window_days):
        in_window: set[str] = set()
        for page in range(1, max_pages + 2):
            params: dict[str, str] = {"page": str(page)}
            if window is not None:
                params["start_date"] = window[0].isoformat()
                params["end_date"] = window[1].isoformat()
            if jurisdiction:
                params["jurisdiction_id"] = jurisdiction
            url = f"{base}/requests.{fmt}?{urllib.parse.urlencode(params)}"
            found = _json(url) if fmt == "json" else list(_xml(url).iter("request"))
            rows = [_row(r, names or {}) for r in found]
            keys = {row.get("service_request_id") or "" for row in rows}
            # An empty page ends the window, and so does a page with no id new
            # to it (a server that ignores `page` answers page 1 again).  Ids
            # already met in an earlier window (windows share their edges)
            # are skipped but do not end this one.
            if not rows or keys <= in_window:
                break
            in_window |= keys
            for row in rows:
                # A request without its id (rejected by the load) is known by
                # all its values: one met again at a window's edge is one row.
                key = row.get("service_request_id") or repr(sorted(row.items()))
                if key in seen:
                    continue
                seen.add(key)
                yield row
            if page > max_pages:
                span = f" ({window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d})" if window else ""
                raise ValidationError(
                    "open311", f"{base} still had requests after {max_pages} pages{span};"
                    " give a larger --max-pages or a smaller --window-days",
                    ro=f"{base} avea încă cereri după {max_pages} pagini{span};"
                    " dați un --max-pages mai mare sau un --window-days mai mic",
                )


class Open311Source(RowsSource):
    """A GeoReport v2 server's requests as a load source; ``services`` is its
    service list, ``format`` the one it answers in (json or xml)."""

    rows_by_id = True

    def __init__(self, services: list[Service], fmt: str,
                 rows: Iterator[dict[str, str | None]]) -> None:
        super().__init__(FIELDS, rows)
        self.services = services
        self.format = fmt


def open311_source(
    base_url: str, *, since: datetime | None = None, jurisdiction: str | None = None,
    max_pages: int = 100, window_days: int = WINDOW_DAYS, until: datetime | None = None,
    fmt: str = "auto",
) -> Open311Source:
    """The service list now (an unreachable or wrong endpoint fails here, before
    any run is recorded), then the requests, in the same format, as the load
    reads them."""
    services, fmt = fetch_services(base_url, jurisdiction, fmt)
    names = {s.code: s.name for s in services}
    rows = fetch(base_url, since=since, jurisdiction=jurisdiction, max_pages=max_pages,
                 window_days=window_days, until=until, names=names, fmt=fmt)
    return Open311Source(services, fmt, rows)

"""Open311 GeoReport v2: service requests fetched over HTTP, loaded like a file.

First ``GET {base}/services.xml``: the server's service list.  It proves the
endpoint answers GeoReport v2 before anything is loaded, names the services
a request gives only by code, and tells the operator which of the server's
services the mapping does not map (see ``python -m etl open311``).

Then ``GET {base}/requests.xml`` (the format every GeoReport v2 server must
offer) by date window: the spec lets a query span at most 90 days of
``requested_datetime`` (and a server answers the last 90 days when given no
dates), so a run from a start date walks windows of ``window_days`` up to
now, each page by page.  The start is the watermark of the last successful
run (a scheduled run only fetches what is new), or ``--since``.  The rows
then go through the same load path as files: same checks, rejects,
idempotency and counters.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

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
#: The widest range of requested_datetime the GeoReport v2 spec lets one query span.
WINDOW_DAYS = 90


@dataclass(frozen=True)
class Service:
    """One entry of the server's service list."""

    code: str
    name: str
    group: str | None = None


def _row(element: ET.Element, names: dict[str, str]) -> dict[str, str | None]:
    """One <request> as a row.  GeoReport v2 has no closing time: a closed
    request's ``updated_datetime`` is the best one it gives, so it becomes
    ``closed_datetime``.  A request without a ``service_name`` gets its
    service's name from the service list."""
    row: dict[str, str | None] = {
        f: ((element.findtext(f) or "").strip() or None) for f in FIELDS[:-1]
    }
    closed = (row.get("status") or "").lower() == "closed"
    row["closed_datetime"] = row["updated_datetime"] if closed else None
    if not row["service_name"] and row["service_code"]:
        row["service_name"] = names.get(row["service_code"])
    return row


def _get(url: str) -> bytes:
    try:
        # Callers build URLs from a base checked to be http(s): no file:// or other scheme.
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()[:500].decode("utf-8", "replace")
        detail = body.split("<error>")[-1].split("</error>")[0].strip() if "<error>" in body \
            else body.strip()
        raise ValidationError(
            "open311", f"{url.split('?')[0]} answered HTTP {exc.code}: {detail[:200]}"
            " (check the base URL, jurisdiction and API key)"
        ) from None
    except (urllib.error.URLError, TimeoutError) as exc:
        raise ValidationError("open311", f"cannot reach {url.split('?')[0]} ({exc})") from None


def _xml(url: str) -> ET.Element:
    """The answer's XML root; an <error> answer or a body that is not XML is an error.
    Parsed with defusedxml: the server is not ours, and entities or a DTD are refused."""
    shown = url.split("?")[0]
    try:
        root = SafeET.fromstring(_get(url))
    except (ET.ParseError, DefusedXmlException) as exc:
        raise ValidationError("open311", f"{shown} did not answer plain XML ({exc})") from None
    if root.tag == "errors" or root.tag == "error" or root.find("error") is not None:
        text = " ".join(t.strip() for t in root.itertext() if t.strip())
        raise ValidationError("open311", f"{shown} answered an error: {text[:300]}")
    return root


def _check_base(base_url: str) -> str:
    if not base_url.startswith(("http://", "https://")):
        raise ValidationError("base_url", "give an http:// or https:// URL")
    return base_url.rstrip("/")


def fetch_services(base_url: str, jurisdiction: str | None = None) -> list[Service]:
    """The server's service list (``services.xml``)."""
    base = _check_base(base_url)
    query = f"?{urllib.parse.urlencode({'jurisdiction_id': jurisdiction})}" if jurisdiction \
        else ""
    root = _xml(f"{base}/services.xml{query}")
    if root.tag != "services":
        raise ValidationError(
            "open311", f"{base}/services.xml is not a GeoReport v2 service list"
            f" (its root is <{root.tag}>); check the base URL"
        )
    out = []
    for element in root.iter("service"):
        code = (element.findtext("service_code") or "").strip()
        if code:
            out.append(Service(code, (element.findtext("service_name") or "").strip() or code,
                               (element.findtext("group") or "").strip() or None))
    return out


def windows(since: datetime | None, until: datetime,
            days: int = WINDOW_DAYS) -> list[tuple[datetime, datetime] | None]:
    """The date windows a run asks for, oldest first; ``[None]`` (no dates:
    the server's default range) without a start."""
    if since is None:
        return [None]
    if days < 1:
        raise ValidationError("window_days", "must be at least 1")
    # A little overlap: requests of the last second are matched, not lost.
    start = since - timedelta(seconds=1)
    out: list[tuple[datetime, datetime] | None] = []
    while True:
        end = min(start + timedelta(days=days), until)
        out.append((start, end))
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
) -> Iterator[dict[str, str | None]]:
    """Service requests from ``base_url``, window by window and page by page,
    each id once (streamed: one page in memory at a time, plus the ids met).

    A window with more than ``max_pages`` pages is an error, not a silent
    cut: its requests after that page would be missing.
    """
    base = _check_base(base_url)
    until = until or datetime.now(UTC)
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
            url = f"{base}/requests.xml?{urllib.parse.urlencode(params)}"
            rows = [_row(e, names or {}) for e in _xml(url).iter("request")]
            keys = {row.get("service_request_id") or "" for row in rows}
            # An empty page ends the window, and so does a page with no id new
            # to it (a server that ignores `page` answers page 1 again).  Ids
            # already met in an earlier window (windows share their edges)
            # are skipped but do not end this one.
            if not rows or keys <= in_window:
                break
            in_window |= keys
            for row in rows:
                key = row.get("service_request_id") or ""
                if key and key in seen:
                    continue
                seen.add(key)
                yield row
            if page > max_pages:
                span = f" ({window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d})" if window else ""
                raise ValidationError(
                    "open311", f"{base} still had requests after {max_pages} pages{span};"
                    " give a larger --max-pages or a smaller --window-days"
                )


class Open311Source(RowsSource):
    """A GeoReport v2 server's requests as a load source; ``services`` is its service list."""

    def __init__(self, services: list[Service], rows: Iterator[dict[str, str | None]]) -> None:
        super().__init__(FIELDS, rows)
        self.services = services


def open311_source(
    base_url: str, *, since: datetime | None = None, jurisdiction: str | None = None,
    max_pages: int = 100, window_days: int = WINDOW_DAYS, until: datetime | None = None,
) -> Open311Source:
    """The service list now (an unreachable or wrong endpoint fails here, before
    any run is recorded), then the requests as the load reads them."""
    services = fetch_services(base_url, jurisdiction)
    names = {s.code: s.name for s in services}
    rows = fetch(base_url, since=since, jurisdiction=jurisdiction, max_pages=max_pages,
                 window_days=window_days, until=until, names=names)
    return Open311Source(services, rows)

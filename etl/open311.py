"""Open311 GeoReport v2: service requests fetched over HTTP, loaded like a file.

``GET {base}/requests.xml`` (the format every GeoReport v2 server must
offer), page by page, from the watermark of the last successful run, so a
scheduled run only fetches what changed.  The rows then go through the same
load path as files: same checks, rejects, idempotency and counters.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta

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


def _row(element: ET.Element) -> dict[str, str | None]:
    """One <request> as a row.  GeoReport v2 has no closing time: a closed
    request's ``updated_datetime`` is the best one it gives, so it becomes
    ``closed_datetime``."""
    row: dict[str, str | None] = {
        f: ((element.findtext(f) or "").strip() or None) for f in FIELDS[:-1]
    }
    closed = (row.get("status") or "").lower() == "closed"
    row["closed_datetime"] = row["updated_datetime"] if closed else None
    return row


def _get(url: str) -> bytes:
    try:
        # fetch() accepts only http(s) URLs, so no file:// or other scheme reaches here.
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


def fetch(
    base_url: str,
    *,
    since: datetime | None = None,
    jurisdiction: str | None = None,
    max_pages: int = 100,
) -> Iterator[dict[str, str | None]]:
    """Service requests from ``base_url`` (streamed page by page, each id once)."""
    if not base_url.startswith(("http://", "https://")):
        raise ValidationError("base_url", "give an http:// or https:// URL")
    seen: set[str] = set()
    for page in range(1, max_pages + 1):
        params: dict[str, str] = {"page": str(page)}
        if since is not None:
            # A little overlap: rows of the last second are matched, not lost.
            params["start_date"] = (since - timedelta(seconds=1)).isoformat()
        if jurisdiction:
            params["jurisdiction_id"] = jurisdiction
        url = f"{base_url.rstrip('/')}/requests.xml?{urllib.parse.urlencode(params)}"
        try:
            root = ET.fromstring(_get(url))
        except ET.ParseError as exc:
            raise ValidationError("open311", f"{base_url} did not answer XML ({exc})") from None
        if root.tag == "error" or root.find("error") is not None:
            raise ValidationError("open311", f"{base_url} answered an error: {root.findtext('.')}")
        fresh = 0
        for element in root.iter("request"):
            row = _row(element)
            key = row.get("service_request_id") or ""
            if key and key in seen:
                continue
            seen.add(key)
            fresh += 1
            yield row
        if fresh == 0:
            return  # an empty page, or a server that ignores `page`


def open311_source(
    base_url: str, *, since: datetime | None = None, jurisdiction: str | None = None,
    max_pages: int = 100,
) -> RowsSource:
    return RowsSource(
        FIELDS, fetch(base_url, since=since, jurisdiction=jurisdiction, max_pages=max_pages)
    )

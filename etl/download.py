"""A file to load, given by URL: fetched to a temporary file, then loaded as a file.

Why download first instead of parsing the HTTP stream: every reader works
unchanged (a GeoPackage needs random access; a CSV's encoding and delimiter
are sniffed from its head), the load's batches stay as quick as from disk,
and a load killed half-way is completed by running it again, like a file's.
The body is copied in 1 MiB chunks, so memory stays flat whatever its size.
"""

from __future__ import annotations

import base64
import email.message
import http.client
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from sesizari.errors import ValidationError

TIMEOUT = 60
CHUNK = 1 << 20
#: A body without a usable file name gets the suffix its type calls for.
SUFFIX_OF_TYPE = {
    "text/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "text/plain": ".csv",
    "application/geo+json": ".geojson",
    "application/json": ".geojson",
    "application/geopackage+sqlite3": ".gpkg",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
KNOWN_SUFFIXES = {".csv", ".tsv", ".txt", ".geojson", ".json", ".gpkg", ".zip", ".fgb",
                  ".gml", ".kml", ".xlsx", ".ods"}

#: (bytes so far, total bytes or None)
DownloadProgress = Callable[[int, int | None], None]


def is_url(text: str) -> bool:
    """Whether ``text`` names a URL rather than a path (``scheme://...``)."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def display_name(url: str) -> str:
    """The URL as recorded in ``feed_runs`` and printed: no user, password or
    query string (they may hold an access token)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))[:500]


def _request(url: str) -> urllib.request.Request:
    """The request for ``url``; a user and password written in it
    (``https://user:pw@host/...``, as many export links are) go as HTTP Basic
    authentication, which urllib does not do by itself (it took them for
    part of the host name: "Name or service not known")."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return urllib.request.Request(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    bare = urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    said = urllib.parse.unquote(parts.username) + ":" + urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(said.encode()).decode()
    request = urllib.request.Request(bare)
    # Unredirected: urllib copies ordinary headers onto a redirect, whatever
    # its host (a CDN, http:// after https://); _SameSiteAuth puts it back
    # only for the same scheme and host.
    request.add_unredirected_header("Authorization", f"Basic {token}")
    return request


def _site(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.netloc.rpartition("@")[2]).lower()


class _SameSiteAuth(urllib.request.HTTPRedirectHandler):
    """Follows redirects; the Basic authentication goes with one only to the
    same scheme and host, never to another server or over plain http."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        auth = req.unredirected_hdrs.get("Authorization")
        if new is not None and auth and _site(newurl) == _site(req.full_url):
            new.add_unredirected_header("Authorization", auth)
        return new


_OPENER = urllib.request.build_opener(_SameSiteAuth)


def _file_name(url: str, content_type: str, disposition: str | None) -> str:
    """A safe local name whose suffix tells the reader the format."""
    name = ""
    if disposition:
        msg = email.message.Message()
        msg["content-disposition"] = disposition
        name = msg.get_filename() or ""
    if not name:
        name = urllib.parse.unquote(PurePosixPath(urllib.parse.urlsplit(url).path).name)
    name = re.sub(r"[^\w.-]", "_", PurePosixPath(name).name).lstrip(".")[:120] or "download"
    if PurePosixPath(name).suffix.lower() not in KNOWN_SUFFIXES:
        name += SUFFIX_OF_TYPE.get(content_type, ".csv")
    return name


_HTML_TYPES = {"text/html", "application/xhtml+xml"}


def is_web_page(head: bytes) -> bool:
    """Whether ``head`` (a body's first bytes) starts as an HTML document: a
    sign-in page, a proxy's or server's error page, or a site's page where
    a data file or a feed was expected."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _looks_like_html(path: Path) -> bool:
    """Whether the body starts as an HTML document does.  Only an HTML content
    type leads here (so a leading comment counts too): a data file served
    under the wrong type still loads."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    return is_web_page(head) or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<!--")


@contextmanager
def downloaded(url: str, on_progress: DownloadProgress | None = None) -> Iterator[Path]:
    """Fetch ``url`` to a temporary file, yield its path, delete it afterwards.

    Raises :class:`ValidationError` with what to check when the URL is not
    http(s), the server cannot be reached or answers with an error.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise ValidationError("file", "give a file path, or an http:// or https:// URL")
    shown = display_name(url)
    with tempfile.TemporaryDirectory(prefix="sesizari-etl-") as tmp:
        try:
            # Only http(s) reaches urlopen (checked above): no file:// or ftp://.
            with _OPENER.open(_request(url), timeout=TIMEOUT) as resp:
                content_type = resp.headers.get_content_type()
                path = Path(tmp) / _file_name(
                    resp.url or url, content_type, resp.headers.get("Content-Disposition")
                )
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                with path.open("wb") as out:
                    while chunk := resp.read(CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        if on_progress:
                            on_progress(done, total)
        except urllib.error.HTTPError as exc:
            raise ValidationError(
                "file", f"{shown} answered HTTP {exc.code} {exc.reason}; check the URL"
                " (and that the file is public, or give a download link that is)"
            ) from None
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError,
                ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ValidationError(
                "file", f"cannot download {shown} ({reason}); check the URL and the network,"
                " or download the file and give its path"
            ) from None
        if total is not None and done != total:
            raise ValidationError(
                "file", f"{shown} ended after {done:,} of {total:,} bytes; try again"
            )
        if content_type in _HTML_TYPES and _looks_like_html(path):
            raise ValidationError(
                "file", f"{shown} answered a web page, not a data file (a sign-in or"
                " preview page?); give the file's direct download link, or download it"
                " and give its path"
            )
        yield path


__all__ = ["display_name", "downloaded", "is_url", "is_web_page"]

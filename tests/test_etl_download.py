"""`load URL`: the file comes from a real local HTTP server, then loads as a file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import ClassVar

import pytest

from etl.download import display_name, downloaded, is_url
from etl.runs import list_runs
from sesizari.errors import ValidationError
from tests.etl_helpers import GOOD, HEADER, QuietHandler, http_server, incidents, row, write_csv
from tests.test_etl_cli import MAPPING_TOML, _run


class _Files(QuietHandler):
    """path (without query) -> (status, content type, body, declared length or None)."""

    files: ClassVar[dict[str, tuple[int, str, bytes, int | None]]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.answer(*self.files.get(
            self.path.partition("?")[0], (404, "text/plain", b"no such file", None)
        ))


@pytest.fixture
def files() -> Iterator[tuple[str, type[_Files]]]:
    class Handler(_Files):
        files: ClassVar[dict[str, tuple[int, str, bytes, int | None]]] = {}
        seen: ClassVar[list[str]] = []

    with http_server(Handler) as base:
        yield base, Handler


def test_load_from_a_url_records_it_without_its_token(engine, city, tmp_path, files):
    base, handler = files
    body = write_csv(tmp_path / "src.csv", [GOOD, row(id="A2"), row(id="A3", lat="")])
    handler.files["/exports/sesizari.csv"] = (200, "text/csv", body.read_bytes(), None)
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    url = f"{base}/exports/sesizari.csv?token=s3cret"
    out = _run(["load", url, "--city", "testville", "--mapping", str(mapping)], engine,
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "read 3 = inserted 2 + updated 0 + unchanged 0 + rejected 1" in out.stdout
    assert handler.seen == ["/exports/sesizari.csv?token=s3cret"]
    (run,) = list_runs(engine, "testville")
    assert run["file_name"] == f"{base}/exports/sesizari.csv"
    assert "s3cret" not in out.stdout + out.stderr
    assert (tmp_path / "rejects-testville-run1.csv").exists()
    # Loaded again from the URL: matched by external id, nothing added.
    again = _run(["load", url, "--city", "testville", "--mapping", str(mapping)], engine,
                 cwd=tmp_path)
    assert "read 3 = inserted 0 + updated 0 + unchanged 2 + rejected 1" in again.stdout
    assert len(incidents(engine)) == 2


def test_an_error_answer_or_a_cut_body_loads_nothing_and_says_what_to_check(
    engine, city, tmp_path, files
):
    base, handler = files
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING_TOML, "utf-8")
    out = _run(["load", f"{base}/missing.csv", "--city", "testville", "--mapping",
                str(mapping)], engine, cwd=tmp_path)
    assert out.returncode == 1
    assert "answered HTTP 404" in out.stderr and "check the URL" in out.stderr
    body = write_csv(tmp_path / "src.csv", [GOOD]).read_bytes()
    handler.files["/cut.csv"] = (200, "text/csv", body, len(body) + 1000)
    out = _run(["load", f"{base}/cut.csv", "--city", "testville", "--mapping", str(mapping)],
               engine, cwd=tmp_path)
    assert out.returncode == 1
    assert "ended after" in out.stderr and "try again" in out.stderr
    out = _run(["load", "ftp://example.org/a.csv", "--city", "testville", "--mapping",
                str(mapping)], engine, cwd=tmp_path)
    assert out.returncode == 1 and "http:// or https:// URL" in out.stderr
    assert incidents(engine) == [] and list_runs(engine) == []


def test_the_format_comes_from_the_name_or_else_the_content_type(files, tmp_path):
    base, handler = files
    feature = {"type": "Feature", "properties": {"id": "G1"},
               "geometry": {"type": "Point", "coordinates": [21.9, 45.69]}}
    geojson = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    handler.files["/api/reports"] = (200, "application/geo+json", geojson, None)
    handler.files["/data/export.gpkg"] = (200, "application/octet-stream", b"x", None)
    handler.files["/plain"] = (200, "text/plain", b",".join(h.encode() for h in HEADER), None)
    seen = []
    with downloaded(f"{base}/api/reports", lambda done, total: seen.append((done, total))) as p:
        assert p.suffix == ".geojson" and p.read_bytes() == geojson
        kept = p
    assert not kept.exists()  # the temporary copy goes with the load
    assert seen[-1] == (len(geojson), len(geojson))
    with downloaded(f"{base}/data/export.gpkg") as p:
        assert p.name == "export.gpkg"
    with downloaded(f"{base}/plain") as p:
        assert p.suffix == ".csv"


def test_url_helpers():
    assert is_url("https://x.ro/a.csv") and is_url("ftp://x/a") and not is_url("C:/data/a.csv")
    assert not is_url("exports/a.csv")
    assert display_name("https://user:pw@data.ro:8443/a/b.csv?key=1#f") == (
        "https://data.ro:8443/a/b.csv"
    )
    with pytest.raises(ValidationError, match="file path, or an http"), downloaded(
        "file:///etc/passwd"
    ):
        pass


def test_a_web_page_instead_of_the_file_is_refused_with_advice(files, tmp_path):
    """A shared-drive link often answers its sign-in or preview page (HTML,
    status 200): refused as such, instead of a CSV whose header is HTML."""
    base, handler = files
    page = b"\n  <!DOCTYPE html><html><head><title>Sign in</title></head></html>"
    handler.files["/share/export.csv"] = (200, "text/html", page, None)
    with pytest.raises(ValidationError, match="answered a web page, not a data file"), \
            downloaded(f"{base}/share/export.csv"):
        pass
    # A data file served with the wrong type still loads.
    csv_body = ",".join(HEADER).encode() + b"\n"
    handler.files["/share/export.csv"] = (200, "text/html", csv_body, None)
    with downloaded(f"{base}/share/export.csv") as p:
        assert p.read_bytes() == csv_body


def test_a_user_and_password_in_the_url_are_sent_as_basic_authentication(tmp_path):
    """`https://user:pw@host/export.csv`, as export links are given: urllib took
    the user and password for part of the host ("Name or service not known").
    They go to that site only: a redirect to another host (a CDN) does not
    carry them, one on the same site does."""
    import base64

    from tests.etl_helpers import QuietHandler

    seen: list[tuple[str, str | None]] = []
    elsewhere: list[str] = []

    class Site(QuietHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path.startswith("/moved"):
                self.send_response(302)
                self.send_header("Location", "/x.csv" if "here" in self.path else elsewhere[0])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.answer(200, "text/csv", b"id\n1\n")

    with http_server(Site) as site, http_server(Site) as other:
        # Another server (another port): what a CDN or a storage link is.
        elsewhere.append(f"{other}/x.csv")
        url = site.replace("http://", "http://ana%40primarie:p%3Ass@")
        for path in ("/x.csv?t=1", "/moved-here", "/moved-away"):
            with downloaded(url + path) as got:
                assert got.read_bytes() == b"id\n1\n"
    token = "Basic " + base64.b64encode(b"ana@primarie:p:ss").decode()
    assert seen == [("/x.csv?t=1", token), ("/moved-here", token), ("/x.csv", token),
                    ("/moved-away", token), ("/x.csv", None)]
    assert display_name(url + "/x.csv") == f"{site}/x.csv"  # neither shown nor recorded

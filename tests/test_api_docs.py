"""The API's documentation pages work without the internet and call nobody else.

FastAPI's defaults loaded Swagger UI and ReDoc from a CDN: on a closed network
``/docs`` was a blank page.  Here the pages, their files and, in Chromium, the
rendered operations, with every request the browser makes kept on the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.api_support import client, live_server


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_use_only_the_server_s_own_files(engine, page):
    api = client(engine)
    html = api.get(page)
    assert html.status_code == 200, html.text
    links = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html.text)
    assert links, html.text
    outside = [u for u in links if urlparse(u).scheme or u.startswith("//")]
    assert not outside, outside
    for link in links:
        got = api.get(link)
        assert got.status_code == 200, (link, got.status_code)
        assert len(got.content) > 1000 or link.endswith("openapi.json"), link


@pytest.fixture
def live_api(engine) -> Iterator[str]:
    with live_server(engine) as url:
        yield url


@pytest.mark.browser
def test_swagger_ui_draws_the_operations_offline(live_api, browser):
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_api}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=60_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/requests" in p for p in paths), paths
    outside = [u for u in requested if urlparse(u).hostname not in ("127.0.0.1", "localhost")
               and not u.startswith("data:")]  # fmt: skip
    assert not outside, outside
    assert not errors, errors
    page.close()

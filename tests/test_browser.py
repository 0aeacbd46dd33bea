"""A real browser (Debian's Chromium driven by Playwright) against a running dashboard.

Waits for the map canvas, fails on browser console errors or requests to
outside hosts (the app must work offline), and saves a screenshot of each
page in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.conftest import ARTIFACTS, REPO, _free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(pg_cluster, demo_database) -> Iterator[str]:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: run `make test` (it installs Debian's chromium)")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": pg_cluster.url(demo_database)}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "dashboard" / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not start; see test-artifacts/streamlit.log")
    yield base
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


#: (artifact name, path): every page a visitor can open without signing in.
PAGES = [
    ("live-map", "?lang=ro&city=lugoj"),
    ("live-map-en", "?lang=en&city=alba-iulia"),
    ("live-map-clusters", "?city=lugoj&layer=clusters"),
    ("live-map-hotspots", "?city=lugoj&layer=hotspots"),
    ("live-map-points", "?city=lugoj&layer=points&cat=pothole"),
    ("resolution", "resolution?city=lugoj"),
    ("departments", "departments?city=lugoj"),
    ("report", "report?city=lugoj"),
    ("open-data", "open_data?city=lugoj&cat=pothole"),
    ("track", "track?id=LUG-2026-000001"),
]
#: On a deep link (``/resolution``) Streamlit probes ``/resolution/_stcore/...`` to find
#: its base path before falling back to ``/_stcore/...``: those two 404s are expected.
PROBES = ("/_stcore/health", "/_stcore/host-config")


def _watch(page) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    outside: list[str] = []

    def on_console(msg) -> None:
        url = (msg.location or {}).get("url", "")
        if msg.type == "error" and not url.endswith(PROBES):
            errors.append(f"{msg.text} ({url})")

    def on_request(req) -> None:
        host = urlparse(req.url).hostname
        if req.url.startswith("http") and host not in ("127.0.0.1", "localhost"):
            outside.append(req.url)

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", on_request)
    return errors, outside


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_page_renders_without_errors(app_url, browser, name, path):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors, outside = _watch(page)
    page.goto(f"{app_url}/{path}")
    selector = '[data-testid="stDeckGlJsonChart"] canvas'
    if name == "report":
        selector = 'iframe[title*="streamlit_folium"], iframe'
    elif name == "track":
        selector = '[data-testid="stMetric"]'
    page.wait_for_selector(selector, timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.close()
    assert not errors, errors
    assert not outside, outside

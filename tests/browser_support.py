"""Running the dashboard for a real browser, and the page helpers the browser tests share.

The ``browser`` fixture (Debian's Chromium through Playwright, never a
downloaded browser) lives in ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
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
@contextlib.contextmanager
def serve(database_url: str, name: str, **env_extra: str) -> Iterator[str]:
    """Run the dashboard on ``database_url`` on a free port; yield its base URL."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: run `make test` (it installs Debian's chromium)")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, **env_extra}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"{name}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "dashboard" / "server.py"),
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
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"streamlit did not start; see test-artifacts/{name}.log")
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


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


def _fill(page, label: str, value: str) -> None:
    _settle(page)
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Tab")
    page.wait_for_timeout(600)


def _settle(page) -> None:
    """Wait until the app has finished its current run (a rerun closes open dropdowns)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(300)


def _choose(page, label: str, option: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        _settle(page)
        page.get_by_role("combobox", name=label, exact=True).click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            if attempt == 2:
                raise
    page.wait_for_timeout(600)

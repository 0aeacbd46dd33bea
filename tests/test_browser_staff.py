"""Staff pages in a real browser: what each login can download, and what a photo is as served.

R12: each department head and a department's staff member sign in, open the
work queue and download its CSV; the file holds exactly their department's
open incidents, never a row of another department.

R8: photos uploaded with metadata canaries (EXIF with GPS, XMP, IPTC, a JPEG
comment, PNG text) are fetched as the browser receives them, on the public
tracking page and the staff incident page: not one canary byte and no
metadata block reaches the browser.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from dashboard.i18n import MESSAGES
from sesizari import db, staff_sessions
from sesizari.incidents import Actor
from sesizari.photos import attach_photo
from tests import raw_tables as raw
from tests.browser_support import _fill, _settle, _watch, serve
from tests.test_photos import CANARIES, _leaky_jpeg, _leaky_png, _leaky_webp

pytestmark = pytest.mark.browser

OPEN = ("new", "acknowledged", "in_progress")
QUEUE_LIMIT = 500  # SESIZARI_QUEUE_ROWS, the rows the queue page shows at most
PASSWORD = "sesizari-demo"  # the demo's staff password


@pytest.fixture(scope="module")
def staff_app(pg_cluster, demo_template, tmp_path_factory) -> Iterator[tuple[str, str, Path]]:
    """The dashboard on a private demo copy, with leaky photos attached to one incident."""
    from tests.conftest import clone_database

    name = clone_database(pg_cluster, demo_template)
    url = pg_cluster.url(name)
    photos = tmp_path_factory.mktemp("photos")
    engine = db.make_engine(url)
    try:
        resolved = raw.incidents(engine, "lugoj").query("status == 'resolved'")
        number, department = resolved.sort_values("registry_number").iloc[0][
            ["registry_number", "department_code"]]  # fmt: skip
        clerk = Actor("agent1", None, "staff")
        for data in (_leaky_png(), _leaky_webp()):
            attach_photo(engine, "lugoj", number, data, "report", clerk, root=photos)
        attach_photo(engine, "lugoj", number, _leaky_jpeg(), "resolution", clerk,
                     public=True, root=photos)  # fmt: skip
    finally:
        engine.dispose()
    with serve(url, "staff", SESIZARI_PHOTO_DIR=str(photos)) as base:
        yield base, url, (number, department)
    pg_cluster.psql(f'DROP DATABASE "{name}" WITH (FORCE)')


def _login(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    page.goto(f"{base}/login?city=lugoj")
    _fill(page, "Utilizator", username)
    _fill(page, "Parolă", PASSWORD)
    page.get_by_role("button", name="Intră").click()
    page.get_by_text("Conectat ca").wait_for(timeout=60_000)
    return context, page


def _column(url: str, sql: str, **params: object) -> list[str]:
    """The first column of ``sql``'s rows, read on a short-lived engine."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).scalars())
    finally:
        engine.dispose()


def _departments(url: str) -> list[str]:
    return _column(url, "SELECT d.code FROM departments d JOIN cities c USING (city_id)"
                        " WHERE c.slug = 'lugoj' ORDER BY d.code")  # fmt: skip


def _open_in(url: str, department: str) -> set[str]:
    return set(_column(
        url,
        "SELECT i.registry_number FROM incidents i"
        " JOIN departments d USING (city_id, department_id) JOIN cities c USING (city_id)"
        " WHERE c.slug = 'lugoj' AND d.code = :d AND i.status = ANY(:s)",
        d=department, s=list(OPEN),
    ))  # fmt: skip


def _all_of_city(url: str) -> set[str]:
    return set(_column(url, "SELECT registry_number FROM incidents JOIN cities USING (city_id)"
                            " WHERE slug = 'lugoj'"))  # fmt: skip


def _queue_csv(page) -> list[dict[str, str]]:
    page.get_by_role("link", name=MESSAGES["ro"]["nav.queue"]).click()
    button = page.get_by_role("button", name=MESSAGES["ro"]["queue.download"])
    button.wait_for(timeout=60_000)
    _settle(page)
    with page.expect_download(timeout=60_000) as download:
        button.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_each_login_downloads_only_its_department(staff_app, browser):
    base, url, _ = staff_app
    column = MESSAGES["ro"]["col.registry_number"]
    logins = [(f"sef.{code}", code) for code in _departments(url)] + [
        ("agent1.lighting", "lighting")
    ]
    assert len(logins) >= 4
    city = _all_of_city(url)
    for username, department in logins:
        context, page = _login(browser, base, username)
        errors, outside = _watch(page)
        rows = _queue_csv(page)
        context.close()
        got = {row[column] for row in rows}
        expected = _open_in(url, department)
        assert len(got) == len(rows), username  # no row twice
        assert got <= city, username
        if len(expected) <= QUEUE_LIMIT:
            assert got == expected, username
        else:
            assert got < expected and len(got) == QUEUE_LIMIT, username
        for other in {d for _, d in logins} - {department}:
            assert not got & _open_in(url, other), (username, other)
        assert not errors, errors
        assert not outside, outside


def _served_images(page, action) -> list[bytes]:
    """Bodies of the images the browser receives while ``action`` runs."""
    bodies: list = []
    page.on("response", lambda r: bodies.append(r) if r.request.resource_type == "image" else None)
    action()
    page.wait_for_timeout(1500)
    return [r.body() for r in bodies if r.ok and "/media/" in r.url]


def _assert_clean(images: list[bytes], expected: int) -> None:
    assert len(images) >= expected, f"{len(images)} images served, expected {expected}"
    for data in images:
        for canary in CANARIES:
            assert canary not in data
        for marker in (b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"Photoshop 3.0", b"8BIM"):
            assert marker not in data
        img = Image.open(io.BytesIO(data))
        assert not img.getexif()
        assert not {"exif", "xmp", "comment", "icc_profile", "XML:com.adobe.xmp"} & set(img.info)


def test_photos_as_served_carry_no_metadata(staff_app, browser):
    base, _, (number, department) = staff_app
    page = browser.new_page(viewport={"width": 1400, "height": 1300})

    def track() -> None:
        page.goto(f"{base}/track?id={number}")
        page.wait_for_selector('[data-testid="stImage"] img', timeout=60_000)

    _assert_clean(_served_images(page, track), expected=1)  # the public fix photo
    page.close()

    context, page = _login(browser, base, f"sef.{department}")

    def detail() -> None:
        page.get_by_role("link", name=MESSAGES["ro"]["nav.incident"]).click()
        _fill(page, "Numărul sesizării", number)
        page.get_by_text(f"Sesizarea {number}").wait_for(timeout=60_000)
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 3",
            timeout=60_000,
        )

    _assert_clean(_served_images(page, detail), expected=3)  # every photo, as staff see them
    context.close()


def _follow_signed_out(browser, base: str, path: str, username: str, then: str):
    """Open ``path`` signed out, sign in on the form it shows, wait for ``then``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    page.goto(f"{base}/{path}")
    page.get_by_role("button", name="Intră").wait_for(timeout=60_000)
    _settle(page)
    city = page.url
    _fill(page, "Utilizator", username)
    _fill(page, "Parolă", PASSWORD)
    page.get_by_role("button", name="Intră").click()
    page.get_by_text(then).first.wait_for(timeout=60_000)
    _settle(page)
    return context, page, city


def test_a_link_to_a_staff_page_signs_in_then_opens_it(staff_app, browser):
    """A colleague sends ``incident?id=LUG-...``: signed out, the link shows the
    sign-in form with the number's city chosen, and signing in opens the
    incident itself (it was "Page not found"). A department head following a
    link to the work queue stays there instead of landing on the scorecard,
    and a link to a page the role does not open says so, in Romanian."""
    base, _url, (number, department) = staff_app
    context, page, form_url = _follow_signed_out(
        browser, base, f"incident?id={number}", "admin", f"Sesizarea {number}"
    )
    assert "city=lugoj" in form_url, form_url  # the city of LUG-..., chosen for the form
    assert page.url.split("?")[0].endswith("/incident"), page.url
    context.close()

    context, page, _ = _follow_signed_out(
        browser, base, "queue?city=lugoj", f"sef.{department}", "Conectat ca"
    )
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    assert page.url.split("?")[0].endswith("/queue"), page.url
    # the queue's own download button: the page is the queue, not the scorecard
    page.get_by_role("button", name=MESSAGES["ro"]["queue.download"]).wait_for(timeout=60_000)
    context.close()

    context, page, _ = _follow_signed_out(
        browser, base, "admin?city=lugoj", f"sef.{department}",
        "Pagina aceasta nu este deschisă rolului",
    )
    assert page.url.split("?")[0].endswith("/admin"), page.url
    context.close()


def _session_cookie(context, present: bool = True) -> dict | None:
    """The browser's session cookie, once it is there (or gone, ``present=False``)."""
    for _ in range(100):
        found = [c for c in context.cookies() if c["name"] == staff_sessions.COOKIE]
        if bool(found) == present:
            return found[0] if found else None
        time.sleep(0.1)
    raise AssertionError(f"session cookie {'never set' if present else 'still there'}")


def test_a_reload_keeps_the_sign_in_until_sign_out(staff_app, browser):
    """A clerk who reloads the page, or opens a second tab, stays signed in
    (it was the sign-in form again): the server sets a cookie that no script
    on the page can read.  Signing out ends it in every tab, and the cookie's
    old value signs nobody in; a tab still holding the ended session leaves
    a newer sign-in of the same browser alone."""
    base, url, (number, department) = staff_app
    first, page, _ = _follow_signed_out(
        browser, base, "queue?city=lugoj", f"sef.{department}", "Conectat ca"
    )
    cookie = _session_cookie(first)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
    assert staff_sessions.COOKIE not in page.evaluate("document.cookie")

    page.reload()
    page.get_by_role("button", name=MESSAGES["ro"]["queue.download"]).wait_for(timeout=60_000)
    assert page.url.split("?")[0].endswith("/queue"), page.url

    second = first.new_page()
    second.goto(f"{base}/incident?id={number}")
    second.get_by_text(f"Sesizarea {number}").wait_for(timeout=60_000)
    _settle(second)
    second.get_by_role("button", name=MESSAGES["ro"]["nav.logout"]).click()
    _session_cookie(first, present=False)  # expired by the server
    second.goto(f"{base}/incident?id={number}")
    _fill(second, "Utilizator", f"sef.{department}")
    _fill(second, "Parolă", PASSWORD)
    second.get_by_role("button", name="Intră").click()
    second.get_by_text(f"Sesizarea {number}").wait_for(timeout=60_000)
    newer = _session_cookie(first)
    assert newer["value"] != cookie["value"]

    # The first tab still holds the ended session: its next click signs it
    # out, and the browser keeps the second tab's newer sign-in.
    _settle(page)
    page.get_by_role("link", name=MESSAGES["ro"]["nav.incident"]).click()
    page.get_by_role("button", name="Intră").wait_for(timeout=60_000)
    page.wait_for_timeout(2000)  # the first tab's request to drop a cookie
    assert _session_cookie(first)["value"] == newer["value"]
    second.reload()
    second.get_by_text(f"Sesizarea {number}").wait_for(timeout=60_000)
    first.close()

    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            assert staff_sessions.restore(conn, cookie["value"]) is None
            assert staff_sessions.restore(conn, newer["value"]) is not None
    finally:
        engine.dispose()


def test_english_stays_english_from_sign_in_to_an_incident(staff_app, browser):
    """An English-speaking department head signs in on the English page and
    lands on the English scorecard (it was Romanian: the landing page's
    address had no ``lang``); the page list keeps English; a row picked in
    the work queue opens the incident at an address that names it."""
    base, _url, (_number, department) = staff_app
    en = MESSAGES["en"]
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    errors, outside = _watch(page)
    page.goto(f"{base}/login?city=lugoj&lang=en")
    _fill(page, en["login.username"], f"sef.{department}")
    _fill(page, en["login.password"], PASSWORD)
    page.get_by_role("button", name=en["login.submit"]).click()
    page.get_by_text("Signed in as").wait_for(timeout=60_000)
    page.get_by_text(en["dep.title"].split(" (")[0]).first.wait_for(timeout=60_000)
    page.wait_for_url(re.compile(r"/departments\?.*lang=en"), timeout=30_000)

    page.get_by_role("link", name=en["nav.queue"]).click()
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=60_000)
    page.wait_for_url(re.compile(r"/queue\?.*lang=en"), timeout=30_000)
    _settle(page)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 18)  # the first row's selection box
    page.wait_for_url(re.compile(r"/incident\?.*id=[A-Z]+-\d{4}-\d{6}"), timeout=60_000)
    number = re.search(r"id=([A-Z]+-\d{4}-\d{6})", page.url)[1]
    page.get_by_text(en["incident.title"].format(number=number)).wait_for(timeout=60_000)
    assert "lang=en" in page.url, page.url
    _session_cookie(context)  # handed to the browser, however the landing page's run went
    page.reload()  # the address alone opens the same incident, in English
    page.get_by_text(en["incident.title"].format(number=number)).wait_for(timeout=60_000)
    context.close()
    assert not errors, errors
    assert not outside, outside

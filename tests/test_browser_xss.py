"""RELIABILITY R5 in a real browser: 55 hostile payloads in every text a
citizen, a feed or a city's staff can write (descriptions, addresses,
resolutions, public updates, category, department and district names, a
staff member's name, a feed's file name, error and reject messages), then
every page that shows them, public and staff.

Passes when no payload runs (``window.__xss`` stays unset, no dialog
opens), no request leaves 127.0.0.1 (a payload's image, style or link
would fetch from evil.example), and the payloads show as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from sesizari import db
from tests.browser_support import _fill, _settle, _watch, serve
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

#: Each sets window.__xss, opens a dialog or fetches from evil.example if
#: it is ever treated as HTML, Markdown, a template or a URL.
PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    "<svg onload=window.__xss=3>",
    "<svg/onload=window.__xss=4>",
    '<iframe src="javascript:parent.__xss=5"></iframe>',
    '"><script>window.__xss=6</script>',
    "'><img src=x onerror=window.__xss=7>",
    "<body onload=window.__xss=8>",
    "<details open ontoggle=window.__xss=9>",
    '<video><source onerror="window.__xss=10"></video>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=11>",
    "[link](javascript:window.__xss=12)",
    "![image](http://evil.example/md.png)",
    '<img src="http://evil.example/img.png">',
    '{{constructor.constructor("window.__xss=13")()}}',
    "${window.__xss=14}",
    '<style>@import "http://evil.example/x.css";</style>',
    "<link rel=stylesheet href=http://evil.example/link.css>",
    '<object data="javascript:window.__xss=15"></object>',
    '<embed src="javascript:window.__xss=16">',
    "<input autofocus onfocus=window.__xss=17>",
    "<marquee onstart=window.__xss=18>x</marquee>",
    "<select autofocus onfocus=window.__xss=19></select>",
    "<textarea autofocus onfocus=window.__xss=20></textarea>",
    "<form><button formaction=javascript:window.__xss=21>x</button></form>",
    "<img src=x:alert(1) onerror=eval(src)>",
    "<svg><script>window.__xss=22</script></svg>",
    "<scr<script>ipt>window.__xss=23</scr</script>ipt>",
    "%3Cscript%3Ewindow.__xss=24%3C/script%3E",
    "&lt;script&gt;window.__xss=25&lt;/script&gt;",
    "<IMG SRC=JaVaScRiPt:window.__xss=26>",
    '<img """><script>window.__xss=27</script>">',
    "<img src=`x` onerror=window.__xss=28>",
    '<div style="background:url(http://evil.example/bg.png)">x</div>',
    '<meta http-equiv="refresh" content="0;url=http://evil.example/">',
    '<base href="http://evil.example/">',
    "<img src=1 onerror=alert(1)>",
    "<script>alert(document.domain)</script>",
    "javascript:alert(1)",
    '"-alert(1)-"',
    "'-alert(1)-'",
    "</textarea><script>window.__xss=29</script>",
    "</title><script>window.__xss=30</script>",
    '<!--<img src="--><img src=x onerror=window.__xss=31//">',
    '<noscript><p title="</noscript><img src=x onerror=window.__xss=32>">',
    '<a href="http://evil.example/">click me</a>',
    "**bold** _em_ <u>u</u> `code` # heading",
    ":red[coloured] :material/warning: :streamlit:",
    "$$\\href{javascript:window.__xss=33}{x}$$",
    "<a href=# onmouseover=window.__xss=34>hover</a>",
    "<svg><animate onbegin=window.__xss=35 attributeName=x dur=1s>",
    "<audio src=x onerror=window.__xss=36>",
    "<x onclick=window.__xss=37>click</x>",
    "\u202e<script>window.__xss=38</script>",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
]
assert len(PAYLOADS) >= 50


def _inject(url: str) -> tuple[str, str, str]:
    """Put the payloads in every kind of text of Lugoj's data; return the
    registry number of the incident that holds most of them, and the names
    of its category and department (each with a payload)."""
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            city = conn.execute(sa.text("SELECT city_id FROM cities WHERE slug = 'lugoj'")
                                ).scalar_one()
            ids = conn.execute(sa.text(
                "SELECT incident_id FROM incidents WHERE city_id = :c"
                " ORDER BY created_at DESC LIMIT :n"), {"c": city, "n": len(PAYLOADS)}
            ).scalars().all()
            for k, incident in enumerate(ids):
                conn.execute(sa.text(
                    "UPDATE incidents SET description = :d, address = :a,"
                    " description_public = true,"
                    " resolution_text = CASE WHEN resolution_text IS NOT NULL THEN :r END"
                    " WHERE city_id = :c AND incident_id = :i"),
                    {"c": city, "i": incident, "d": PAYLOADS[k],
                     "a": PAYLOADS[(k + 1) % len(PAYLOADS)],
                     "r": PAYLOADS[(k + 2) % len(PAYLOADS)]})
            target = ids[0]
            # The one incident opened on the staff page carries the Markdown
            # payloads in the texts its captions and boxes show: the address,
            # and the institution it was forwarded to.
            markdown = " ".join(p for p in PAYLOADS if p.startswith(("[", "!", "*", ":", "$")))
            conn.execute(sa.text(
                "UPDATE incidents SET address = left(:a, 500), forwarded_to = left(:f, 200),"
                " forwarded_at = created_at + interval '1 day'"
                " WHERE city_id = :c AND incident_id = :i"),
                {"c": city, "i": target, "a": markdown, "f": PAYLOADS[12] + " " + PAYLOADS[11]})
            for body in PAYLOADS[:8]:
                conn.execute(sa.text(
                    "INSERT INTO incident_events (city_id, incident_id, kind, actor_label,"
                    " channel, is_public, body) VALUES (:c, :i, 'public_update', :who,"
                    " 'staff', true, :b)"), {"c": city, "i": target, "b": body,
                                             "who": PAYLOADS[9]})
            for table, column, key in (("categories", "name_ro", "category_id"),
                                       ("departments", "name_ro", "department_id"),
                                       ("districts", "name", "district_id")):
                rows = conn.execute(sa.text(
                    f"SELECT {key} FROM {table} WHERE city_id = :c ORDER BY {key}"),
                    {"c": city}).scalars().all()
                for k, row in enumerate(rows):
                    conn.execute(sa.text(
                        f"UPDATE {table} SET {column} = left({column} || ' ' || :p, 200)"
                        f" WHERE city_id = :c AND {key} = :k"),
                        {"c": city, "k": row, "p": PAYLOADS[(k * 7) % len(PAYLOADS)]})
            conn.execute(sa.text(
                "UPDATE users SET full_name = :p WHERE city_id = :c AND role = 'staff'"),
                {"c": city, "p": PAYLOADS[1]})
            run = conn.execute(sa.text(
                "INSERT INTO feed_runs (city_id, source, file_name, status, finished_at,"
                " rows_read, rows_rejected, error) VALUES (:c, 'registru', :f, 'failed', now(),"
                " 3, 3, :e) RETURNING run_id"),
                {"c": city, "f": PAYLOADS[2], "e": PAYLOADS[3]}).scalar_one()
            for row in range(1, 4):
                conn.execute(sa.text(
                    "INSERT INTO feed_rejects (city_id, run_id, source_row, reason, message,"
                    " message_ro, raw)"
                    " VALUES (:c, :r, :n, 'bad_date', :m, :m, CAST(:raw AS jsonb))"),
                    {"c": city, "r": run, "n": row, "m": f"'creat' {PAYLOADS[row + 10]!r}",
                     "raw": json.dumps({"creat": PAYLOADS[row + 10]})})
            return conn.execute(sa.text(
                "SELECT i.registry_number, c.name_ro, d.name_ro FROM incidents i"
                " JOIN categories c USING (city_id, category_id)"
                " JOIN departments d ON d.city_id = i.city_id"
                " AND d.department_id = i.department_id"
                " WHERE i.city_id = :c AND i.incident_id = :i"),
                {"c": city, "i": target}).one()
    finally:
        engine.dispose()


@pytest.fixture
def hostile(pg_cluster, demo_copy) -> Iterator[tuple[str, tuple[str, str, str]]]:
    target = _inject(demo_copy)
    with serve(demo_copy, "xss") as base:
        yield base, target


PUBLIC = [
    ("xss-points", "?city=lugoj&layer=points", '[data-testid="stDeckGlJsonChart"] canvas'),
    ("xss-clusters", "?city=lugoj&layer=clusters", '[data-testid="stDataFrame"]'),
    ("xss-resolution", "resolution?city=lugoj", '[data-testid="stVegaLiteChart"]'),
    ("xss-departments", "departments?city=lugoj", '[data-testid="stDataFrame"]'),
    ("xss-accountability", "accountability?city=lugoj", '[data-testid="stHeading"]'),
    ("xss-open-data", "open_data?city=lugoj", '[data-testid="stDataFrame"]'),
]


def test_hostile_text_never_runs_in_any_page(hostile, browser):
    base, (number, category, department) = hostile
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    errors, outside = _watch(page)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url)
            if urlparse(r.url).hostname == "evil.example" else None)

    def check(name: str) -> None:
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        assert page.evaluate("window.__xss") is None, name
        assert not dialogs, (name, dialogs)

    for name, path, selector in PUBLIC:
        page.goto(f"{base}/{path}")
        page.wait_for_selector(selector, timeout=60_000)
        _settle(page)
        # Hover the map: the points' tooltips carry descriptions and addresses.
        if name == "xss-points":
            box = page.locator(selector).first.bounding_box()
            for dx in range(0, 400, 40):
                page.mouse.move(box["x"] + box["width"] / 2 - 200 + dx,
                                box["y"] + box["height"] / 2)
                page.wait_for_timeout(50)
        check(name)

    # The tracking page shows the category and department names as text
    # (and the public updates in its table, drawn on a canvas).
    page.goto(f"{base}/track?id={number}")
    page.get_by_text(category, exact=True).first.wait_for(timeout=60_000)
    # (waited for too: the page draws its facts one after another)
    page.get_by_text(department, exact=True).first.wait_for(timeout=60_000)
    page.get_by_text(PAYLOADS[12], exact=False).first.wait_for(timeout=60_000)  # the institution
    check("xss-track")

    # Staff pages, signed in as the city's administrator (every page).
    page.goto(f"{base}/login?city=lugoj")
    _fill(page, "Utilizator", "admin")
    _fill(page, "Parolă", "sesizari-demo")
    page.get_by_role("button", name="Intră").click()
    page.get_by_text("Conectat ca").wait_for(timeout=60_000)
    for link, name in [("Lucrări de făcut", "xss-queue"), ("Importuri de date", "xss-feeds"),
                       ("Administrare", "xss-admin"), ("Dispecerat", "xss-dispatch")]:
        _settle(page)
        page.get_by_role("link", name=link).click()
        _settle(page)
        check(name)
    _settle(page)
    page.get_by_role("link", name="Fișa sesizării").click()
    _fill(page, "Numărul sesizării", number)
    page.get_by_text(f"Sesizarea {number}").wait_for(timeout=60_000)
    _settle(page)
    page.get_by_text(PAYLOADS[12], exact=False).first.wait_for(timeout=60_000)
    main = page.inner_text('[data-testid="stMain"]')
    assert PAYLOADS[0] in main  # the description, as text
    assert main.count(PAYLOADS[12]) == 2  # the address and the institution, as typed
    check("xss-incident")
    # An error quotes what was typed: a number that is a Markdown image.
    _fill(page, "Numărul sesizării", PAYLOADS[12])
    page.get_by_text(PAYLOADS[12], exact=False).last.wait_for(timeout=60_000)
    _settle(page)
    check("xss-incident-error")
    page.close()
    assert not fetched, fetched
    assert not outside, outside
    assert not errors, errors

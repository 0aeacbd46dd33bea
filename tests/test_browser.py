"""A real browser (Debian's Chromium driven by Playwright) against a running dashboard.

Waits for the map canvas, fails on browser console errors or requests to
outside hosts (the app must work offline), and saves a screenshot of each
page in ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser_support import _choose, _fill, _watch, serve
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(pg_cluster, demo_database) -> Iterator[str]:
    with serve(pg_cluster.url(demo_database), "streamlit") as base:
        yield base


#: (artifact name, path): every page a visitor can open without signing in.
PAGES = [
    ("live-map", "?lang=ro&city=lugoj"),
    ("live-map-en", "?lang=en&city=alba-iulia"),
    ("live-map-clusters", "?city=lugoj&layer=clusters"),
    ("live-map-hotspots", "?city=lugoj&layer=hotspots"),
    ("live-map-points", "?city=lugoj&layer=points&cat=pothole"),
    ("resolution", "resolution?city=lugoj"),
    ("departments", "departments?city=lugoj"),
    ("accountability", "accountability?city=lugoj"),
    ("report", "report?city=lugoj"),
    ("open-data", "open_data?city=lugoj&cat=pothole"),
    ("track", "track?id=LUG-2026-000001"),
]
#: The chart labels Vega-Lite shortened to fit (it ends them with an ellipsis).
_CUT_LABELS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"] svg text')]
    .map(e => e.textContent).filter(t => t.endsWith('…'))"""

#: The texts of the page that do not fit their box (shown cut, with an ellipsis).
_CUT_TEXT = """() => [...document.querySelectorAll('[data-testid="stMain"] *')]
    .filter(e => getComputedStyle(e).textOverflow === 'ellipsis'
                 && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText)"""


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
        selector = '[data-testid="stText"]'
    page.wait_for_selector(selector, timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if name == "resolution":
        # Category and department names are as long as the city made them.
        page.wait_for_selector('[data-testid="stVegaLiteChart"] svg text', timeout=30_000)
        assert not page.evaluate(_CUT_LABELS)
    if name == "track":
        # The category of LUG-2026-000001 is longer than a third of the page:
        # it must wrap, not end in an ellipsis.
        page.get_by_text("Avarie la rețeaua de apă", exact=True).wait_for()
        assert not page.evaluate(_CUT_TEXT)
    page.close()
    assert not errors, errors
    assert not outside, outside


#: What a reader sees of the photo uploader's button and limit: Streamlit's
#: own text (hidden when ours is shown: no size) and what is drawn after it.
_UPLOADER_WORDS = """() => {
    const box = document.querySelector('.st-key-photos [data-testid="stFileUploaderDropzone"]');
    const said = (e) => [getComputedStyle(e).fontSize,
                         getComputedStyle(e, '::after').content];
    return [said(box.querySelector('button p')),
            said(box.querySelector('[data-testid="stFileUploaderDropzoneInstructions"] span'))];
}"""


@pytest.mark.parametrize(("lang", "button", "limit"), [
    ("ro", "Încărcați", "cel mult 10 MB pe fișier • JPG, PNG, WEBP"),
    ("en", "Upload", "10 MB per file • JPG, PNG, WEBP"),
])  # fmt: skip
def test_the_photo_uploader_speaks_the_page_s_language(app_url, browser, lang, button, limit):
    """Streamlit writes "Upload" and "10MB per file • JPG" in English on a
    Romanian page; the citizen's form shows the page's words instead."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/report?city=lugoj&lang={lang}")
    page.wait_for_selector('.st-key-photos [data-testid="stFileUploaderDropzone"] button p',
                           timeout=60_000)  # fmt: skip
    page.wait_for_timeout(500)
    assert page.evaluate(_UPLOADER_WORDS) == [["0px", f'"{button}"'], ["0px", f'"{limit}"']]
    page.close()


#: The hint under the field being typed in: Streamlit's (hidden: no size) and ours.
_HINT = """() => [...document.querySelectorAll(
    '[data-testid=InputInstructions] > span:first-child')].map(
    e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content])"""


@pytest.mark.parametrize(("lang", "said"), [
    ("ro", ["Enter: aplică", "Enter: trimite formularul", "Ctrl/⌘+Enter: trimite formularul"]),
    ("en", ["Enter: apply", "Enter: submit the form", "Ctrl/⌘+Enter: submit the form"]),
])  # fmt: skip
def test_the_hint_under_a_field_speaks_the_page_s_language(app_url, browser, lang, said):
    """Streamlit writes "Press Enter to submit form" under a field being typed
    in, in English on a Romanian page; the hint says what the key does in the
    page's language, inside a form and outside one."""
    page = browser.new_page(viewport={"width": 390, "height": 1200})
    errors, outside = _watch(page)

    def typed(field: str, text: str) -> list:
        page.locator(f".st-key-{field} textarea, .st-key-{field} input").first.click()
        page.keyboard.type(text)
        # (ours has no size: Playwright calls Streamlit's text hidden)
        page.wait_for_selector(f".st-key-{field} [data-testid=InputInstructions] > span",
                               state="attached", timeout=10_000)  # fmt: skip
        page.wait_for_timeout(300)
        return page.evaluate(_HINT)

    page.goto(f"{app_url}/track?lang={lang}")
    page.wait_for_selector(".st-key-track_id input", timeout=60_000)
    assert typed("track_id", "LUG") == [["0px", f'"{said[0]}"']]  # not in a form
    page.goto(f"{app_url}/report?city=lugoj&lang={lang}")
    page.wait_for_selector(".st-key-address input", timeout=60_000)
    assert typed("address", "Strada Mare 1") == [["0px", f'"{said[1]}"']]
    assert typed("description", "Groapă") == [["0px", f'"{said[2]}"']]
    page.close()
    assert not errors, errors
    assert not outside, outside


XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 160, 90)).save(buf, "JPEG")
    return buf.getvalue()


def test_report_track_resolve_with_photos(pg_cluster, demo_copy, browser, tmp_path):
    """The whole flow: a citizen reports with a photo and gets a number, tracks it, staff
    resolve it with a photo, and the citizen sees the fix; user text never executes."""
    photo = tmp_path / "groapa.jpg"
    photo.write_bytes(_jpeg())
    with serve(demo_copy, "flow", SESIZARI_PHOTO_DIR=str(tmp_path / "photos")) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        errors, outside = _watch(page)
        page.goto(f"{base}/report?city=lugoj")
        page.wait_for_selector("iframe", timeout=60_000)
        _fill(page, "Latitudine", "45.6887")
        _fill(page, "Longitudine", "21.9035")
        _choose(page, "Categorie", "Groapă în carosabil")
        page.get_by_label("Descriere (obligatorie)").fill("Groapă mare " + XSS)
        # The uploader announces the photo limit, not Streamlit's 200 MB.
        assert "10MB per file" in page.locator('[data-testid="stFileUploader"]').inner_text()
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            str(photo)
        )
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Trimite sesizarea").click()
        done = page.get_by_text("a fost înregistrată cu numărul")
        done.wait_for(timeout=60_000)
        number = done.inner_text().split("numărul ")[1].split()[0]
        assert number.startswith("LUG-2026-") or number.startswith("LUG-")
        page.screenshot(path=str(ARTIFACTS / "flow-1-reported.png"), full_page=True)

        page.goto(f"{base}/track?id={number}")
        page.get_by_text("Nouă").filter(visible=True).first.wait_for(timeout=60_000)
        page.get_by_text("Drumuri și poduri").filter(visible=True).first.wait_for()

        page.goto(f"{base}/login?city=lugoj")
        _fill(page, "Utilizator", "agent1.roads")
        _fill(page, "Parolă", "sesizari-demo")
        page.get_by_role("button", name="Intră").click()
        page.get_by_text("Conectat ca").wait_for(timeout=60_000)
        page.get_by_role("link", name="Fișa sesizării").click()
        _fill(page, "Numărul sesizării", number)
        page.get_by_text(f"Sesizarea {number}").wait_for(timeout=60_000)
        assert page.evaluate("window.__xss") is None
        _choose(page, "Acțiune", "Rezolvă")
        page.get_by_label("Text (obligatoriu la rezolvare, respingere, redeschidere)").fill(
            "Plombat cu asfalt"
        )
        page.locator('[data-testid="stFileUploader"] input[type="file"]').last.set_input_files(
            str(photo)
        )
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Aplică").click()
        page.get_by_text("Rezolvată").filter(visible=True).first.wait_for(timeout=60_000)

        # The history table also holds the text, in cells the data grid keeps
        # hidden for screen readers: wait for the text the citizen sees.
        page.goto(f"{base}/track?id={number}")
        page.get_by_text("Plombat cu asfalt").filter(visible=True).first.wait_for(timeout=60_000)
        page.wait_for_selector('[data-testid="stImage"] img', timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "flow-2-resolved.png"), full_page=True)
        assert page.evaluate("window.__xss") is None
        page.close()
    assert not errors, errors
    assert not outside, outside
    stored = list((tmp_path / "photos").rglob("*.jpg"))
    assert stored, "the photos were not stored"


def test_a_photo_that_says_where_it_was_taken_places_the_report(pg_cluster, demo_copy, browser,
                                                                tmp_path):  # fmt: skip
    """A citizen reporting from home, later, did not find the place on the map:
    the phone's picture knew it. Sent without a place, the form puts the
    picture's on the map, says so, and the second press files it there."""
    import sqlalchemy as sa

    from sesizari import db
    from tests.test_inbox import _gps_jpeg

    photo = tmp_path / "groapa.jpg"
    photo.write_bytes(_gps_jpeg(45.68765, 21.90385))
    with serve(demo_copy, "photo-place", SESIZARI_PHOTO_DIR=str(tmp_path / "photos")) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        errors, outside = _watch(page)
        page.goto(f"{base}/report?city=lugoj")
        page.wait_for_selector("iframe", timeout=60_000)
        _choose(page, "Categorie", "Groapă în carosabil")
        page.get_by_label("Descriere (obligatorie)").fill("Groapă lângă bancă")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            str(photo)
        )
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Trimite sesizarea").click()
        page.get_by_text("locul în care a fost făcută fotografia").wait_for(timeout=60_000)
        # The coordinate boxes are drawn anew (new keys) with the photo's place.
        for label, value in (("Latitudine", "45.687650"), ("Longitudine", "21.903850")):
            boxes = f"[...document.querySelectorAll('input[aria-label=\"{label}\"]')]"
            page.wait_for_function(
                f"() => {{ const a = {boxes};"
                f" return a.length === 1 && a[0].value === '{value}'; }}",
                timeout=30_000,
            )
        page.get_by_role("button", name="Trimite sesizarea").click()
        done = page.get_by_text("a fost înregistrată cu numărul")
        done.wait_for(timeout=60_000)
        number = done.inner_text().split("numărul ")[1].split()[0]
        page.close()
    assert not errors, errors
    assert not outside, outside
    engine = db.make_engine(demo_copy)
    try:
        with engine.connect() as conn:
            place = conn.execute(sa.text(
                "SELECT round(ST_Y(geom)::numeric, 5), round(ST_X(geom)::numeric, 5),"
                " (SELECT count(*) FROM photos p WHERE p.city_id = i.city_id"
                "  AND p.incident_id = i.incident_id)"
                " FROM incidents i WHERE registry_number = :n"), {"n": number}).one()
    finally:
        engine.dispose()
    assert tuple(map(float, place)) == (45.68765, 21.90385, 1.0)  # and the photo went with it


def test_point_from_geolocation_and_from_a_map_click(app_url, browser):
    context = browser.new_context(
        geolocation={"latitude": 45.6901, "longitude": 21.9012},
        permissions=["geolocation"],
        viewport={"width": 1400, "height": 1200},
    )
    page = context.new_page()
    errors, outside = _watch(page)
    page.goto(f"{app_url}/report?city=lugoj")
    page.wait_for_selector("iframe", timeout=60_000)  # the page has settled
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Folosește locația mea").click()
    lat_js = "[...document.querySelectorAll('input[aria-label=\"Latitudine\"]')]"
    page.wait_for_function(
        f"() => {{ const a = {lat_js}; return a.length === 1 && a[0].value === '45.690100'; }}",
        timeout=30_000,
    )
    lon = page.get_by_label("Longitudine", exact=True)
    assert lon.input_value() == "21.901200"

    leaflet = page.frame_locator("iframe").first.locator(".leaflet-container")
    scale = page.frame_locator("iframe").first.locator(".leaflet-control-scale-line")
    scale.first.wait_for(timeout=30_000)  # metres only, no feet beside them
    assert re.fullmatch(r"\d+ k?m", " | ".join(scale.all_inner_texts())), scale.all_inner_texts()
    leaflet.click(position={"x": 120, "y": 100})
    page.wait_for_function(
        f"() => {{ const a = {lat_js}; return a.length === 1 && a[0].value"
        " && a[0].value !== '45.690100'; }",
        timeout=30_000,
    )
    clicked = float(page.get_by_label("Latitudine", exact=True).input_value())
    assert 45.6 < clicked < 45.8
    page.screenshot(path=str(ARTIFACTS / "report-located.png"), full_page=True)
    context.close()
    assert not errors, errors
    assert not outside, outside

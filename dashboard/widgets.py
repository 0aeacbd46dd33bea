"""Widgets shared by several pages: city selector, point picker, labels.

The point picker is a Leaflet map (streamlit-folium) whose script and style
are served from ``dashboard/static`` and whose tiles come only from the
configured ``SESIZARI_TILE_URL``: with none, the city outline is drawn on a
plain background and nothing is fetched from the internet.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import folium
import pandas as pd
import psycopg
import sqlalchemy as sa
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile
from streamlit_folium import st_folium

from dashboard import charts, data
from dashboard.i18n import DEFAULT, collation_key, current_language, escape_markdown, t, t_md
from sesizari import opendata, photos
from sesizari.errors import SesizariError
from sesizari.queries import EXACT_PERCENTILE_LIMIT, SAMPLE_RATE
from sesizari.vocab import ro_count

folium.Map.default_js = [("leaflet", "/app/static/leaflet/leaflet.js")]
folium.Map.default_css = [("leaflet_css", "/app/static/leaflet/leaflet.css")]


def city_names() -> dict[str, str]:
    """Each city's name in the page's language, by slug."""
    cities = data.cities()
    return dict(zip(cities["slug"], cities[f"name_{current_language()}"], strict=True))


def city_name(slug: str) -> str:
    """The city's name as people write it ("Alba Iulia"), not its slug."""
    return city_names().get(slug, slug)


def linked_city() -> str | None:
    """The city of the registration number in a link (``?id=LUG-2026-000123``)."""
    prefix = st.query_params.get("id", "").split("-", 1)[0].strip().upper()
    cities = data.cities()
    found = cities.loc[cities["registry_prefix"] == prefix, "slug"]
    return found.iloc[0] if prefix and len(found) else None


def city_selector(sidebar: bool = True) -> str | None:
    """Pick a city (kept in ``?city=``, else the city of the link's number, else
    the signed-in user's, else the first); None when the database has none.

    The user's city matters where a page is opened without ``?city=``: a
    department head signing in lands on the scorecard with their own city
    chosen, not the first in the list (another city's department of the
    same name).
    """
    names = city_names()
    if not names:
        st.info(t("city.none"))
        return None
    slugs = list(names)
    user = st.session_state.get("user")
    wanted = (
        st.query_params.get("city")
        or linked_city()
        or (user.city if user is not None else None)
        or slugs[0]
    )
    where = st.sidebar if sidebar else st
    city = where.selectbox(
        t("city.label"),
        slugs,
        index=slugs.index(wanted) if wanted in slugs else 0,
        format_func=names.get,
        key="city",
    )
    st.query_params["city"] = city
    return city


#: What a database that cannot be reached raises (a server down, a network cut),
#: among other failures: :func:`sesizari.db.unreachable` tells them apart.
DATABASE_DOWN = (sa.exc.OperationalError, psycopg.OperationalError)


def database_unavailable(exc: BaseException) -> None:
    """Say that the database is not answering, in the page's language, and
    stop the run: instead of Streamlit's error page with a traceback.  An
    error of the work itself (a timeout) is not hidden behind it: raised."""
    from sesizari.db import unreachable

    if not unreachable(exc):
        raise exc
    st.error(t("db.unavailable"), icon=":material/cloud_off:")
    st.stop()


def show_error(exc: SesizariError) -> None:
    """A refusal of the domain, in the page's language (its Romanian text where
    the raise wrote one, see :class:`sesizari.errors.SesizariError`)."""
    st.error(t_md("error", message=exc.says(current_language())))


def md_link(text: str, page: str, **params: str) -> str:
    """A Markdown link to one of the app's pages: its text escaped, its query
    encoded, with the page's language (a link opens a new session, which
    knows only its address)."""
    lang = current_language()
    if lang != DEFAULT:
        params = {**params, "lang": lang}
    return f"[{escape_markdown(text)}]({page}?{urlencode(params)})"


def city_today(zone: ZoneInfo, now: datetime | None = None) -> date:
    """Today on the city's calendar, not the server's: the server's day (UTC
    on most servers) ends two or three hours after Bucharest's, and a date
    range ending "today" left out the reports of the city's new day."""
    return (now or datetime.now(UTC)).astimezone(zone).date()


def local_time(at: datetime, zone: ZoneInfo) -> str:
    """A moment as people in the city read it: their clock, day first (27.11.2026 14:05)."""
    return at.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def last_day(due: datetime, zone: ZoneInfo) -> str:
    """A term that ends at local midnight, as people count days: its last minute."""
    return local_time(due - timedelta(minutes=1), zone)


#: The labels the system writes for who acted, when no staff member did.
_ACTORS = {"citizen", "reporter", "registratura", "retention"}


def mail_state(status: str | None, sent_at: object, zone: ZoneInfo | None) -> str:
    """Whether the reporter was told of an event by e-mail, in words ("Trimis
    la 28.11.2026 14:05"); empty when no message was due.  Staff answer a
    petitioner who asks "why did nobody tell me?" from the history."""
    if not isinstance(status, str):
        return ""
    if status == "sent" and isinstance(sent_at, datetime):
        moment = sent_at.astimezone(zone) if zone else sent_at
        return t("mail_state.sent", at=moment.strftime("%d.%m.%Y %H:%M"))
    return t(f"mail_state.{status}")


def actor(label: str, full_name: str | None = None) -> str:
    """Who acted on an incident, in words: a staff member's name, "Cetățean",
    "Import registru" for a feed (``etl:registru``), an Open311 client by its
    key's name, or the label as stored (an account's user name)."""
    if full_name:
        return full_name
    kind, _, name = label.partition(":")
    if name and kind in ("etl", "open311"):
        return t(f"actor.{kind}", name=name)
    return t(f"actor.{label}") if label in _ACTORS else label


def person(full_name: str | None, active: bool | None = True) -> str | None:
    """A colleague by name, marked when their account is disabled: work still
    given to someone who left must be seen as nobody's.  None for nobody."""
    if not full_name:
        return None
    return full_name if active is not False else t("person.inactive", name=full_name)


def flash(key: str, **values: object) -> None:
    """Keep the text ``key`` (with ``values``) to show as a success on the
    page's next run: one said just before ``st.rerun()`` is wiped by that
    rerun before anyone reads it."""
    st.session_state["flash"] = (key, values)


def show_flash() -> None:
    """The text kept by :func:`flash`, once, its values escaped (:func:`t_md`)."""
    kept = st.session_state.pop("flash", None)
    if kept:
        key, values = kept
        st.success(t_md(key, **values))


def status_of(status: str, forwarded_to: str | None) -> str:
    """An incident's status in words.  A forward is stored as ``rejected``
    (:mod:`sesizari.accountability`); citizens and staff read it as a report
    sent on to another institution ("Redirecționată"), not one turned down."""
    return t("track.status_forwarded") if forwarded_to else label("status", status)


def label(kind: str, value: str | None) -> str:
    """Translated label of a status/event/channel value (``label("status", "new")``)."""
    return t(f"{kind}.{value}") if value else ""


#: The thousands separator of each language: 1.234 in Romanian, 1,234 in English.
_THOUSANDS = {"ro": ".", "en": ","}


def number(value: float, signed: bool = False) -> str:
    """A whole number as the page's language writes it, optionally with its sign."""
    text = f"{value:+,.0f}" if signed else f"{value:,.0f}"
    return text.replace(",", _THOUSANDS.get(current_language(), ","))


def count(n: int) -> str:
    """``n`` incidents as the page's language writes it: "1 sesizare",
    "17 sesizări", "3.067 de sesizări"; "1 incident", "3,067 incidents"."""
    one, many = t("count.incident"), t("count.incidents")
    if current_language() == "ro":
        return ro_count(n, many, one)
    return f"{number(n)} {one if n == 1 else many}"


def facts(items: Sequence[tuple[str, str]]) -> None:
    """Label and value pairs side by side, each value shown in full.

    Not ``st.metric``: it cuts a value longer than its column with an
    ellipsis ("Avarie la rețeaua …"), and category and department names are
    as long as the city made them.  ``st.text`` wraps them and parses no
    Markdown or HTML, so a name typed by an administrator shows as typed.
    """
    for col, (name, value) in zip(st.columns(len(items)), items, strict=True):
        col.caption(escape_markdown(name))
        col.text(value)


def day(value: date) -> str:
    """A date as the sidebar's date range writes it (30.05.2026), in both languages."""
    return value.strftime("%d.%m.%Y")


def download_csv(frame: pd.DataFrame, name: str, label: str = "download.csv") -> None:
    """A button, its text ``label`` (a key of the texts), that downloads
    ``frame`` as ``<name>.csv``.

    Through :func:`sesizari.opendata.frame_to_csv`: a cell a spreadsheet would
    run as a formula (a name or description starting with ``=``) is written
    as text.
    """
    st.download_button(
        t(label),
        opendata.frame_to_csv(frame),
        f"{name}.csv",
        "text/csv",
        key=f"csv_{name}",
    )


#: What a table shows for a missing value (an unassigned incident, a change
#: without a previous period): Streamlit's own is the English word "None".
MISSING = "—"


#: How a table writes a moment (Streamlit's date format): day first, to the minute.
TIME_FORMAT = "DD.MM.YYYY HH:mm"


def _moments(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]


def in_zone(frame: pd.DataFrame, zone: ZoneInfo | None) -> pd.DataFrame:
    """``frame`` with its moments (``timestamptz`` columns) on the city's clock.

    The database hands them over in UTC; a table would show them so, two or
    three hours off what the city's staff read on a wall clock.  A frame with
    moments and no zone is a page's mistake, refused here rather than shown.
    """
    moments = _moments(frame)
    if moments and zone is None:
        raise ValueError(f"columns {moments} hold moments: pass the city's zone")
    return frame.assign(**{c: frame[c].dt.tz_convert(zone) for c in moments})


#: The largest file any form of the dashboard takes, in megabytes: the size of
#: photo the photos module accepts.  The server refuses a larger upload too
#: (``server.maxUploadSize`` in ``.streamlit/config.toml``, checked by a test),
#: so a 200 MB file is neither held in memory nor announced as allowed.
UPLOAD_MB = photos.MAX_UPLOAD_BYTES // (1024 * 1024)


def _css_string(text: str) -> str:
    """``text`` as a CSS string: every character but letters, digits and
    spaces written as an escape, so no quote or ``</style>`` ends it."""
    return '"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text) + '"'


def words_style(words: dict[str, str], size: str) -> str:
    """A style rule that writes each text of ``words`` in place of the text
    of the elements its selector picks (hidden: no size), at ``size``.

    For Streamlit's own English words, which it offers no way to change:
    the texts, from the dictionary, are escaped as CSS strings; a browser
    without the style still shows Streamlit's."""
    return "<style>" + "".join(
        f"{where} {{font-size: 0}} {where}::after {{font-size: {size};"
        f" content: {_css_string(text)}}}"
        for where, text in words.items()
    ) + "</style>"


def uploader_style(key: str, button: str, limit: str) -> str:
    """The words of the uploader keyed ``key`` (Streamlit marks its element
    ``st-key-<key>``): its button's and its limit's."""
    if not re.fullmatch(r"[a-z0-9_]+", key):
        raise ValueError(f"an uploader's key is lowercase letters, digits and _, not {key!r}")
    scope = f".st-key-{key} [data-testid=stFileUploaderDropzone]"
    return words_style({
        f"{scope} button [data-testid=stMarkdownContainer] p": button,
        f"{scope} [data-testid=stFileUploaderDropzoneInstructions] span": limit,
    }, "0.875rem")  # fmt: skip


def input_hints_style() -> str:
    """The hint under a field being typed in, in the page's language.

    Streamlit writes "Press Enter to submit form" (a form's line), "Press
    Ctrl+Enter to apply" (a text area outside a form), ... in English; the
    hint is the first text of the field's instructions (the characters'
    count, when there is one, comes after it)."""
    hint = "[data-testid=InputInstructions] > span:first-child"
    fields = {  # the fields that show a hint, and its words
        "stTextInput": "hint.enter", "stNumberInput": "hint.enter",
        "stTextArea": "hint.ctrl_enter",
    }  # fmt: skip
    words = {}
    # Inside a form (the more specific selector wins) the key sends the form.
    for form, done in (("", "hint.apply"), ("[data-testid=stForm] ", "hint.submit")):
        for field, key in fields.items():
            words[f"{form}[data-testid={field}] {hint}"] = t(key, done=t(done))
    return words_style(words, "0.75rem")


def uploader(
    label_key: str, types: Sequence[str], *, key: str, multiple: bool = False
) -> UploadedFile | list[UploadedFile] | None:
    """A file uploader labelled with the text ``label_key``, that takes at
    most :data:`UPLOAD_MB`, with its words in the page's language.

    Streamlit writes its button ("Upload") and its limit ("10MB per file •
    JPG, PNG") in English whatever the page's language, and offers no way to
    change them.  A style scoped to this uploader hides those two texts and
    shows ours in their place (:func:`uploader_style`); a browser without
    the style still shows Streamlit's.
    """
    shown = [x.upper() for x in dict.fromkeys(types) if not (x == "jpeg" and "jpg" in types)]
    limit = t("upload.limit", mb=UPLOAD_MB, types=", ".join(shown))
    st.html(uploader_style(key, t("upload.button"), limit))
    return st.file_uploader(
        t(label_key), type=list(types), accept_multiple_files=multiple,
        max_upload_size=UPLOAD_MB, key=key,
    )  # fmt: skip


#: The photos one report takes (the uploader's label says so).
MAX_PHOTOS = 5


@dataclasses.dataclass(frozen=True)
class Picture:
    """A picture that did not come through an uploader (an e-mail's), with
    what :func:`attach_photos` reads of one."""

    name: str
    data: bytes = dataclasses.field(repr=False)

    def getvalue(self) -> bytes:
        return self.data


def attach_photos(
    uploads: Sequence[UploadedFile | Picture] | None, attach: Callable[[bytes], object]
) -> list[tuple[str, dict]]:
    """Attach the first :data:`MAX_PHOTOS` of ``uploads`` with ``attach``,
    after the report is stored: a photo refused (its reason in the page's
    language) or one too many costs a warning, never the report.  Returns
    the warnings as (text key, values), to show after the page redraws."""
    warnings: list[tuple[str, dict]] = []
    for upload in (uploads or [])[:MAX_PHOTOS]:
        try:
            attach(upload.getvalue())
        except SesizariError as exc:
            why = exc.says(current_language())
            warnings.append(("report.photo_rejected", {"name": upload.name, "reason": why}))
    if uploads and len(uploads) > MAX_PHOTOS:
        warnings.append(("report.too_many_photos", {}))
    return warnings


def nearby_reports(
    nearby: pd.DataFrame, intro: str, button: str, done: str, support: Callable[[str], int]
) -> None:
    """Open reports of the same kind near the chosen place
    (:func:`sesizari.intake.nearby_open`), said with ``intro``, one line each
    with a ``button`` that adds this report to it: ``support(number)``
    returns how many more times it was reported, said with ``done``.  A
    report closed meanwhile is refused with its reason, nothing written."""
    if nearby.empty:
        return
    st.info(t(intro))
    for row in nearby.itertuples():
        c1, c2 = st.columns([3, 1])
        said = row.description[:120] if row.description else t("report.not_published")
        c1.text(f"{row.registry_number} · {row.distance_m:.0f} m · {said}")
        if c2.button(t_md(button, number=row.registry_number), key=f"sup_{row.registry_number}"):
            try:
                count = support(row.registry_number)
            except SesizariError as exc:
                show_error(exc)
            else:
                st.success(t_md(done, number=row.registry_number, count=count))


def grid(frame: pd.DataFrame, zone: ZoneInfo | None = None) -> bool:
    """``frame`` as a table as wide as the page; returns whether it had rows.

    Moments are shown on the city's clock (``zone``, see :func:`in_zone`),
    day first.  A table without rows is said in words instead: Streamlit
    would draw an empty grid with its own English "empty".
    """
    frame = in_zone(frame, zone)
    if frame.empty:
        st.caption(t("table.empty"))
        return False
    wall = {c: frame[c].dt.tz_localize(None) for c in _moments(frame)}
    st.dataframe(
        frame.assign(**wall),
        hide_index=True,
        width="stretch",
        placeholder=MISSING,
        column_config={
            **decimal_columns(frame),
            **{c: st.column_config.DatetimeColumn(format=TIME_FORMAT) for c in wall},
        },
    )
    return True


def decimal_columns(frame: pd.DataFrame) -> dict[str, object]:
    """How a table writes its decimal numbers: on a Romanian page, the way
    the reader's browser writes numbers ("85,3", "4.315,4" in a Romanian
    one); Streamlit's grid otherwise writes "85.3" whatever the page.

    The grid draws in the browser and takes the browser's locale, not the
    page's language, so an English page keeps the grid's own writing (a
    Romanian browser would otherwise show it commas).  Whole numbers keep
    theirs: a count needs no mark, and a year must not read "2.026".
    """
    if current_language() != "ro":
        return {}
    return {
        c: st.column_config.NumberColumn(format="localized")
        for c in frame.columns
        if pd.api.types.is_float_dtype(frame[c])
    }


def table(frame: pd.DataFrame, name: str, zone: ZoneInfo | None = None) -> None:
    """``frame`` as a table on the page (:func:`grid`), with its download as
    ``<name>.csv`` (:func:`download_csv`): every table of the analytics pages
    has both, except an empty one, whose CSV of headers would answer nothing.
    The CSV keeps each moment's offset (``2026-03-29 04:30:00+03:00``)."""
    if grid(frame, zone):
        download_csv(in_zone(frame, zone), name)


#: How a chart writes numbers, by the page's language, when Vega's own
#: (1,500.5) is not the language's: axis labels and tooltips read 1.500,5.
_CHART_NUMBERS = {"ro": {"decimal": ",", "thousands": ".", "grouping": [3],
                         "currency": ["", " lei"]}}  # fmt: skip


def chart(figure: charts.Chart) -> None:
    """A chart of :mod:`dashboard.charts`, as wide as the page, its numbers
    written in the page's language (Vega's ``config.locale``)."""
    spec = figure.spec
    if numbers := _CHART_NUMBERS.get(current_language()):
        spec = {**spec, "config": {**spec.get("config", {}), "locale": {"number": numbers}}}
    if figure.height is None:
        st.vega_lite_chart(figure.data, spec, width="stretch")
    else:
        st.vega_lite_chart(figure.data, spec, width="stretch", height=figure.height)


def headers(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its column names written in the page's language (``col.<name>``)."""
    return frame.rename(columns={c: t(f"col.{c}") for c in frame.columns})


def in_name_order(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """The rows in dictionary order of the names shown in ``columns`` (the
    queries order by code, which reads as no order at all on the page)."""
    return frame.sort_values(
        list(columns), key=lambda names: names.map(collation_key), kind="stable"
    ).reset_index(drop=True)


#: The decimal mark of each language: 3,5 in Romanian, 3.5 in English.
_DECIMAL = {"ro": ",", "en": "."}


def duration(hours: float | None) -> str:
    """Hours as people say them: "18 ore", "24 de ore" under two days, else "3,5 zile"."""
    if hours is None:
        return MISSING
    if hours < 1:
        return t("hours.under_one")
    if hours < 48:
        whole = round(hours)
        if whole == 1:
            return t("hours.one")
        # Romanian puts "de" between a number from 20 up and its noun: "24 de ore".
        return t("hours.de" if whole >= 20 else "hours", h=whole)
    days = f"{hours / 24:.1f}".replace(".", _DECIMAL.get(current_language(), "."))
    return t("days", d=days)


def sampled_note(frame: pd.DataFrame) -> None:
    """Say, under a table or map, that some of its medians come from the fixed sample."""
    if "sampled" in frame and bool(frame["sampled"].any()):
        limit = f"{EXACT_PERCENTILE_LIMIT:,}".replace(",", "\u202f")  # 20 000 in both languages
        st.caption(t_md("res.sampled", limit=limit, rate=SAMPLE_RATE))


def department_names(city: str) -> dict[str, str]:
    """Each active department's name in the page's language, by code: pages
    show "Drumuri și poduri", the database keys by ``roads``."""
    deps = data.choices(city)["departments"]
    return dict(zip(deps["code"], deps[name_column()], strict=True))


def category_names(city: str) -> dict[str, str]:
    """Each category that takes reports, its name in the page's language, by code."""
    cats = data.choices(city)["categories"]
    return dict(zip(cats["code"], cats[name_column()], strict=True))


def category_picker(city: str, key: str) -> str | None:
    """The category of a new report, chosen by the person filing it.

    Nothing is chosen at first: a report sent without a look at the list
    would go, as the first category, to a department it is not for.
    """
    names = category_names(city)
    return st.selectbox(
        t("report.category"), list(names), index=None, format_func=names.get,
        placeholder=t("report.choose_category"), key=key,
    )  # fmt: skip


def name_column() -> str:
    return f"name_{current_language()}"


_GEOLOCATE_JS = """
export default function (component) {
  const { setTriggerValue, parentElement, data } = component;
  const button = parentElement.querySelector("button");
  button.textContent = data.label;
  button.onclick = () => {
    if (!navigator.geolocation) {
      setTriggerValue("failed", "unavailable");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => setTriggerValue("position", { lat: p.coords.latitude, lon: p.coords.longitude }),
      (e) => setTriggerValue("failed", String(e.code)),
      { enableHighAccuracy: true, timeout: 15000 },
    );
  };
}
"""
#: A button that asks the browser for the device's position (works on https or localhost).
_geolocate = st.components.v2.component(
    "sesizari_geolocate",
    html='<button type="button" class="geolocate"></button>',
    css=".geolocate {padding: 0.35rem 0.8rem; border-radius: 0.5rem; border: 1px solid #bbb;"
    " background: white; cursor: pointer; font: inherit;}",
    js=_GEOLOCATE_JS,
)


def _version(state_key: str) -> str:
    """Suffix of the coordinate inputs' keys: new inputs (showing the new point) after
    each map click or geolocation, since a rendered input keeps its own value."""
    n = st.session_state.get(f"{state_key}_moves", 0)
    return f"_{n}" if n else ""


def _move(state_key: str, point: tuple[float, float]) -> None:
    st.session_state[state_key] = point
    st.session_state[f"{state_key}_moves"] = st.session_state.get(f"{state_key}_moves", 0) + 1
    st.rerun()


def forget_point(key: str) -> None:
    """Clear the place chosen with :func:`pick_point` (``key``) for the next
    report: the point, the map's last click (which would set it again) and,
    through new keys, the coordinate inputs."""
    st.session_state.pop(f"{key}_point", None)
    st.session_state.pop(f"{key}_map", None)
    moves = f"{key}_point_moves"
    st.session_state[moves] = st.session_state.get(moves, 0) + 1


def propose_point(key: str, point: tuple[float, float]) -> None:
    """Put ``point`` on the map of :func:`pick_point` (``key``) as if clicked,
    for the person at the screen to check (a place a report brought with it)."""
    forget_point(key)
    st.session_state[f"{key}_point"] = point


def pick_point(city: str, key: str, locate: bool = True) -> tuple[float, float] | None:
    """A map to click on, a "my location" button and coordinate inputs; returns (lat, lon).

    ``locate=False`` leaves the button out: where the person at the screen is
    not where the problem is (a dispatcher taking a call).
    """
    state_key = f"{key}_point"
    located = None
    if locate:
        located = _geolocate(
            key=f"{key}_geo",
            data={"label": t("report.locate")},
            on_position_change=lambda: None,
            on_failed_change=lambda: None,
        )
    position = getattr(located, "position", None) if located is not None else None
    if position and (position["lat"], position["lon"]) != st.session_state.get(state_key):
        _move(state_key, (float(position["lat"]), float(position["lon"])))
    if located is not None and getattr(located, "failed", None):
        st.warning(t("report.locate_failed"))
    view = data.view(city)
    point = st.session_state.get(state_key)
    centre = point or (view["latitude"], view["longitude"])
    fmap = folium.Map(location=list(centre), zoom_start=14, tiles=None)
    # A scale in metres only: Leaflet's default adds feet, which no one here
    # reads.  (No ``position``: folium 0.20 then passes the list of positions
    # to Leaflet as the control's options, and ``imperial`` is lost.)
    folium.features.Control("Scale", imperial=False).add_to(fmap)
    tile_url = data.settings().tile_url
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr="© OpenStreetMap contributors").add_to(fmap)
    folium.GeoJson(
        data.outline(city),
        style_function=lambda f: {
            "color": "#333" if f["properties"]["kind"] == "boundary" else "#888",
            "weight": 2 if f["properties"]["kind"] == "boundary" else 1,
            "fillOpacity": 0.03,
        },
    ).add_to(fmap)
    if point:
        folium.Marker(list(point)).add_to(fmap)
    out = st_folium(
        fmap,
        key=f"{key}_map",
        height=380,
        use_container_width=True,
        returned_objects=["last_clicked"],
    )
    clicked = (out or {}).get("last_clicked")
    if clicked and (clicked["lat"], clicked["lng"]) != point:
        _move(state_key, (clicked["lat"], clicked["lng"]))
    c1, c2 = st.columns(2)
    lat = c1.number_input(
        t("report.lat"),
        value=point[0] if point else None,
        format="%.6f",
        min_value=-90.0,
        max_value=90.0,
        key=f"{key}_lat{_version(state_key)}",
    )
    lon = c2.number_input(
        t("report.lon"),
        value=point[1] if point else None,
        format="%.6f",
        min_value=-180.0,
        max_value=180.0,
        key=f"{key}_lon{_version(state_key)}",
    )
    if lat is None or lon is None:
        return None
    if point != (lat, lon):
        st.session_state[state_key] = (lat, lon)
    return lat, lon


def client_key() -> str:
    """Who is submitting, for rate limiting: the proxy's X-Forwarded-For client when the
    app runs behind one (as in production), else the socket address, else "local"."""
    forwarded = st.context.headers.get("X-Forwarded-For") if st.context.headers else None
    if forwarded:
        return forwarded.split(",")[0].strip()
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "local"

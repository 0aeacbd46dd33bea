"""Legal deadlines, forwarding, the reporter's verdict, resolution evidence, field
samples, recurrences and estimates: the accountability rules of the domain."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image
from pyproj import Transformer

from sesizari import accountability, auth, catalog, tracking, workspace
from sesizari.commitments import MIN_HISTORY
from sesizari.errors import PermissionDeniedError, TransitionError, ValidationError
from sesizari.incidents import Actor, Contact, NewIncident, create_incident, perform
from sesizari.vocab import Action
from tests.conftest import TEST_LAT, TEST_LON

TZ = ZoneInfo("Europe/Bucharest")
STAFF = Actor("tester")
MARIA = Contact(name="Maria Pop", phone="0711111111", consent=True)


def _new(engine, category="pothole", *, lat=TEST_LAT, lon=TEST_LON, **kw):
    return create_incident(
        engine, NewIncident("testville", category, lat, lon, kw.pop("description", "Groapă"), **kw)
    )


def _term_end(created: datetime, days: int) -> datetime:
    """Independent: end of the local day ``days`` after the local registration day."""
    local_day = created.astimezone(TZ).date()
    return datetime.combine(local_day + timedelta(days=days + 1), time(0), tzinfo=TZ)


@pytest.fixture
def people(engine, city):
    cid = city["city_id"]
    with engine.begin() as conn:
        catalog.create_user(
            conn, cid, username="sef", full_name="Șef", role="dept_head", department_code="roads"
        )
        catalog.create_user(conn, cid, username="boss", full_name="Boss", role="manager")
        catalog.create_user(conn, cid, username="root", full_name="Root", role="admin")
    with engine.connect() as conn:
        return {
            n: auth.load_user(conn, "testville", n) for n in ("ana", "ion", "sef", "boss", "root")
        }


@pytest.mark.parametrize(
    "created",
    [
        datetime(2026, 3, 10, 10, 0, tzinfo=UTC),  # spring forward (29 March) inside the term
        datetime(2026, 10, 10, 9, 0, tzinfo=UTC),  # fall back (25 October) inside the term
        datetime(2026, 12, 15, 21, 30, tzinfo=UTC),  # 23:30 local: the term crosses the year
        datetime(2026, 12, 31, 22, 30, tzinfo=UTC),  # already 1 January 2027 locally
        datetime(2026, 3, 28, 22, 30, tzinfo=UTC),  # 00:30 local on the DST night
    ],
)
def test_legal_deadline_in_local_calendar_days(engine, city, created):
    made = _new(engine, created_at=created, contact=MARIA)
    assert made.legal_due_at == _term_end(created, 30)
    assert made.legal_due_at.astimezone(TZ).time() == time(0)
    assert made.owes_reply is True
    assert made.pin is not None and len(made.pin) == 6 and made.pin.isdigit()
    public = tracking.track(engine, made.registry_number)
    assert public["legal_due_at"] == made.legal_due_at and public["owes_reply"] is True


def test_anonymous_owes_no_reply_and_days_are_a_city_setting(engine, city):
    anonymous = _new(engine)
    assert anonymous.owes_reply is False and anonymous.pin is None
    asked = _new(engine, want_pin=True)
    assert asked.owes_reply is False and asked.pin is not None
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE cities SET settings = '{\"legal_reply_days\": 10}'"))
    created = datetime(2026, 5, 4, 10, tzinfo=UTC)
    assert _new(engine, created_at=created).legal_due_at == _term_end(created, 10)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT pin_hash FROM incidents WHERE pin_hash IS NOT NULL"))
        assert all(asked.pin not in h for (h,) in stored)


def test_extension_once_by_department_head_with_a_reason(engine, people):
    created = datetime(2026, 9, 20, 8, tzinfo=UTC)
    made = _new(engine, created_at=created, contact=MARIA)
    at = created + timedelta(days=2)
    with pytest.raises(PermissionDeniedError):
        accountability.extend_deadline(engine, people["ana"], made.registry_number, "x", at=at)
    with pytest.raises(PermissionDeniedError):  # a head of another department: scope
        with engine.begin() as conn:
            catalog.create_user(
                conn,
                people["sef"].city_id,
                username="sefl",
                full_name="L",
                role="dept_head",
                department_code="lighting",
            )
        with engine.connect() as conn:
            other = auth.load_user(conn, "testville", "sefl")
        accountability.extend_deadline(engine, other, made.registry_number, "x", at=at)
    with pytest.raises(ValidationError) as err:
        accountability.extend_deadline(engine, people["sef"], made.registry_number, "  ", at=at)
    assert err.value.field == "reason"
    due = accountability.extend_deadline(
        engine, people["sef"], made.registry_number, "Lucrare în licitație", at=at
    )
    # 15 calendar days later, still local midnight, across the October DST change
    local = made.legal_due_at.astimezone(TZ)
    assert due == datetime.combine(local.date() + timedelta(days=15), time(0), tzinfo=TZ)
    assert due.astimezone(TZ).date() == date(2026, 11, 5)
    with pytest.raises(ValidationError, match="already extended"):
        accountability.extend_deadline(engine, people["root"], made.registry_number, "y", at=at)
    public = tracking.track(engine, made.registry_number)
    assert public["legal_due_at"] == due and public["legal_extended_at"] is not None
    assert [e["text"] for e in public["timeline"] if e["kind"] == "extended"] == [
        "Lucrare în licitație"
    ]


def test_extension_refused_after_the_term(engine, people):
    made = _new(engine, created_at=datetime(2026, 1, 5, 10, tzinfo=UTC))
    with pytest.raises(ValidationError, match="ran out"):
        accountability.extend_deadline(engine, people["sef"], made.registry_number, "late")


def test_forward_records_institution_time_and_lateness(engine, people):
    created = datetime(2026, 5, 4, 10, tzinfo=UTC)  # 13:00 local; 5-day term ends 9 May 24:00
    ontime = _new(engine, created_at=created, contact=MARIA)
    late = _new(engine, created_at=created)
    limit = _term_end(created, 5)
    assert limit == datetime(2026, 5, 9, 21, 0, tzinfo=UTC)
    with pytest.raises(ValidationError) as err:
        accountability.forward(engine, people["ana"], ontime.registry_number, " ")
    assert err.value.field == "forwarded_to"
    sent = accountability.forward(
        engine,
        people["ana"],
        ontime.registry_number,
        "Compania de Apă",
        at=limit - timedelta(minutes=1),
    )
    assert (sent.status, sent.late) == ("rejected", False)
    assert accountability.forward(
        engine, people["ana"], late.registry_number, "Enel", at=limit
    ).late
    with pytest.raises(TransitionError):
        accountability.forward(engine, people["ana"], late.registry_number, "Enel")
    public = tracking.track(engine, ontime.registry_number)
    assert public["forwarded_to"] == "Compania de Apă"
    assert public["forwarded_at"] == limit - timedelta(minutes=1)
    assert public["answered_at"] == public["forwarded_at"]
    assert public["timeline"][-1]["kind"] == "forwarded"


def test_reporter_confirms_or_disputes_within_the_window(engine, city):
    fixed = _new(engine, contact=MARIA)
    with pytest.raises(ValidationError) as err:
        accountability.confirm_fix(engine, fixed.registry_number, fixed.pin)
    assert err.value.field == "status"
    perform(engine, "testville", fixed.registry_number, Action.RESOLVE, STAFF, text="Plombat")
    wrong = "000000" if fixed.pin != "000000" else "111111"
    with pytest.raises(ValidationError) as err:
        accountability.confirm_fix(engine, fixed.registry_number, wrong)
    assert err.value.field == "pin"
    accountability.confirm_fix(engine, fixed.registry_number, fixed.pin)
    with pytest.raises(ValidationError, match="already confirmed"):
        accountability.dispute_fix(engine, fixed.registry_number, fixed.pin, "nu")

    broken = _new(engine, contact=MARIA)
    perform(engine, "testville", broken.registry_number, Action.RESOLVE, STAFF, text="Gata")
    with pytest.raises(ValidationError) as err:
        accountability.dispute_fix(engine, broken.registry_number, broken.pin, " ")
    assert err.value.field == "text"
    status = accountability.dispute_fix(
        engine, broken.registry_number, broken.pin, "Groapa e tot acolo"
    )
    assert status == "acknowledged"
    timeline = tracking.track(engine, broken.registry_number)["timeline"]
    assert [e["kind"] for e in timeline[-2:]] == ["disputed", "reopened"]
    # the public reason in the registry's language; the reporter's words stay private
    assert timeline[-1]["text"] == "Reclamantul spune că problema nu este rezolvată."
    assert timeline[-2]["text"] is None

    old = _new(engine, contact=MARIA, created_at=datetime.now(UTC) - timedelta(days=40))
    perform(
        engine,
        "testville",
        old.registry_number,
        Action.RESOLVE,
        STAFF,
        text="Gata",
        at=datetime.now(UTC) - timedelta(days=15),
    )
    with pytest.raises(ValidationError) as err:
        accountability.confirm_fix(engine, old.registry_number, old.pin)
    assert err.value.field == "verification_days"

    anonymous = _new(engine)
    perform(engine, "testville", anonymous.registry_number, Action.RESOLVE, STAFF, text="Gata")
    with pytest.raises(ValidationError, match="no PIN"):
        accountability.confirm_fix(engine, anonymous.registry_number, "123456")


def test_wrong_pins_are_limited(engine, city):
    made = _new(engine, contact=MARIA)
    perform(engine, "testville", made.registry_number, Action.RESOLVE, STAFF, text="Gata")
    wrong = "000000" if made.pin != "000000" else "111111"
    for _ in range(accountability.MAX_PIN_FAILURES):
        with pytest.raises(ValidationError, match="wrong PIN"):
            accountability.confirm_fix(engine, made.registry_number, wrong)
    with pytest.raises(ValidationError, match="too many"):
        accountability.confirm_fix(engine, made.registry_number, made.pin)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 80, 40)).save(out, "JPEG")
    return out.getvalue()


def test_staff_resolution_needs_an_after_photo(engine, people, tmp_path, monkeypatch):
    monkeypatch.setenv("SESIZARI_PHOTO_DIR", str(tmp_path / "photos"))
    ana = people["ana"]
    number = _new(engine, contact=MARIA).registry_number
    with pytest.raises(ValidationError) as err:
        workspace.resolve(engine, ana, number, "Plombat", [])
    assert err.value.field == "photo"
    with pytest.raises(ValidationError):
        workspace.act(engine, ana, number, Action.RESOLVE, text="Plombat")
    assert workspace.resolve(engine, ana, number, "Plombat", [_jpeg()]) == "resolved"
    # reopened: the photo of the failed fix is no evidence for the next one
    perform(engine, "testville", number, Action.REOPEN, STAFF, text="Nu e reparat")
    with pytest.raises(ValidationError):
        workspace.act(engine, ana, number, Action.RESOLVE, text="Plombat iar")
    # the domain API itself stays permissive (feeds, imports)
    assert perform(engine, "testville", number, Action.RESOLVE, STAFF, text="Feed") == "resolved"


def test_field_sample_is_reproducible_and_records_outcomes(engine, people):
    numbers = []
    for k in range(20):
        made = _new(engine, description=f"Groapa {k}", lon=TEST_LON + k * 0.001)
        perform(engine, "testville", made.registry_number, Action.RESOLVE, STAFF, text="Gata")
        numbers.append(made.registry_number)
    _new(engine, description="deschis")  # open: never drawn
    with pytest.raises(PermissionDeniedError):
        accountability.draw_sample(engine, people["ana"])
    with pytest.raises(ValidationError) as err:
        accountability.draw_sample(engine, people["boss"], share=1.5)
    assert err.value.field == "share"
    first = accountability.draw_sample(engine, people["boss"], share=0.1, seed=7)
    again = accountability.draw_sample(engine, people["boss"], share=0.1, seed=7)
    assert first.population == 20 and len(first.numbers) == 2
    assert first.numbers == again.numbers and set(first.numbers) <= set(numbers)
    bad, good = first.numbers
    assert (
        accountability.record_check(engine, people["boss"], first.sample_id, bad, "not_fixed")
        == "acknowledged"
    )
    assert tracking.track(engine, bad)["timeline"][-1]["text"].startswith("Verificarea pe teren")
    assert (
        accountability.record_check(engine, people["boss"], first.sample_id, good, "fixed", "ok")
        == "resolved"
    )
    with pytest.raises(ValidationError, match="already recorded"):
        accountability.record_check(engine, people["boss"], first.sample_id, good, "fixed")
    outside = next(n for n in numbers if n not in first.numbers)
    with pytest.raises(ValidationError, match="not in sample"):
        accountability.record_check(engine, people["boss"], first.sample_id, outside, "fixed")
    with pytest.raises(ValidationError) as err:
        accountability.record_check(engine, people["boss"], again.sample_id, bad, "maybe")
    assert err.value.field == "outcome"


def _offset(lon: float, lat: float, east_m: float) -> tuple[float, float]:
    """A point ``east_m`` metres east in EPSG:3844, back in longitude/latitude."""
    to_m = Transformer.from_crs(4326, 3844, always_xy=True)
    back = Transformer.from_crs(3844, 4326, always_xy=True)
    x, y = to_m.transform(lon, lat)
    return back.transform(x + east_m, y)


def test_recurrence_links_the_nearest_recent_fix_in_metres(engine, city):
    now = datetime.now(UTC)
    old = _new(engine, created_at=now - timedelta(days=200))
    perform(
        engine, "testville", old.registry_number, Action.RESOLVE, STAFF, text="x",
        at=now - timedelta(days=150),
    )  # fmt: skip
    first = _new(engine, created_at=now - timedelta(days=30))
    assert first.recurrence_of is None  # the old fix is 120 days before it: outside 90
    perform(
        engine, "testville", first.registry_number, Action.RESOLVE, STAFF, text="x",
        at=now - timedelta(days=20),
    )  # fmt: skip
    lon20, lat20 = _offset(TEST_LON, TEST_LAT, 20)
    lon30, lat30 = _offset(TEST_LON, TEST_LAT, 30)
    near = _new(engine, lon=lon20, lat=lat20)
    far = _new(engine, lon=lon30, lat=lat30)
    other_kind = _new(engine, "street_light", lon=lon20, lat=lat20)
    assert near.recurrence_of == first.registry_number
    assert far.recurrence_of is None and other_kind.recurrence_of is None
    assert tracking.track(engine, near.registry_number)["recurrence_of"] == first.registry_number


def test_recurrence_window_is_a_city_setting(engine, city):
    now = datetime.now(UTC)
    before = _new(engine, created_at=now - timedelta(days=50))
    perform(
        engine, "testville", before.registry_number, Action.RESOLVE, STAFF, text="x",
        at=now - timedelta(days=40),
    )  # fmt: skip
    assert _new(engine).recurrence_of == before.registry_number
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE cities SET settings = '{\"recurrence_days\": 30}'"))
    assert _new(engine).recurrence_of is None


def test_estimate_from_history_and_backlog(engine, city):
    at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    hours = [5, 8, 13, 21, 30, 34, 40, 55, 61, 72, 90, 120]
    assert len(hours) >= MIN_HISTORY
    for k, h in enumerate(hours):
        start = at - timedelta(days=60 - k)
        made = _new(engine, created_at=start, lon=TEST_LON + 0.002 * (k + 1))
        perform(
            engine, "testville", made.registry_number, Action.RESOLVE, STAFF, text="x",
            at=start + timedelta(hours=h),
        )  # fmt: skip
    # an old one outside the 90-day window: ignored
    gone = _new(engine, created_at=at - timedelta(days=200), lon=TEST_LON - 0.01)
    perform(
        engine, "testville", gone.registry_number, Action.RESOLVE, STAFF, text="x",
        at=at - timedelta(days=150),
    )  # fmt: skip
    for k in range(6):  # the current backlog of the roads department
        _new(engine, created_at=at - timedelta(days=k + 1), lon=TEST_LON - 0.002 * (k + 1))
    made = _new(engine, created_at=at, lat=TEST_LAT + 0.01)
    usual = len(hours) / (90 * 24) * float(np.mean(hours))
    factor = min(3.0, max(1.0, 6 / usual))
    assert factor > 1
    assert made.expected_basis == "history"
    assert made.expected_hours_p50 == pytest.approx(np.percentile(hours, 50) * factor, abs=0.011)
    assert made.expected_hours_p80 == pytest.approx(np.percentile(hours, 80) * factor, abs=0.011)
    public = tracking.track(engine, made.registry_number)
    assert public["expected_hours_p50"] == made.expected_hours_p50
    light = _new(engine, "street_light", created_at=at)
    assert (light.expected_basis, light.expected_hours_p50, light.expected_hours_p80) == (
        "target",
        48.0,
        48.0,
    )

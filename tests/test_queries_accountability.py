"""Accountability figures, each checked against an independent pandas computation
on incidents created through the domain API."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from pyproj import Transformer

from sesizari import accountability, auth, catalog, queries
from sesizari.incidents import Actor, Contact, NewIncident, create_incident, perform
from sesizari.queries import Filters
from sesizari.vocab import Action
from tests.conftest import TEST_LAT, TEST_LON

TZ = ZoneInfo("Europe/Bucharest")
STAFF = Actor("tester")
MARIA = Contact(name="Maria Pop", email="maria@example.ro", consent=True)
F = Filters(city="testville")


@pytest.fixture
def data(engine, city):
    """Incidents over the last 60 days: open, resolved early and late, forwarded on time
    and late, confirmed, disputed, field-checked, and repeats of recent fixes."""
    with engine.begin() as conn:
        catalog.create_user(conn, city["city_id"], username="boss", full_name="B", role="manager")
    with engine.connect() as conn:
        boss = auth.load_user(conn, "testville", "boss")
    now = datetime.now(UTC).replace(microsecond=0)
    spots = []
    for k in range(32):
        category = ("pothole", "street_light")[k % 2]
        created = now - timedelta(days=(k * 7) % 60, hours=k)
        lon, lat = TEST_LON + 0.003 * (k % 10), TEST_LAT + 0.003 * (k // 10)
        made = create_incident(
            engine,
            NewIncident(
                "testville",
                category,
                lat,
                lon,
                f"Sesizare {k}",
                contact=MARIA if k % 3 else None,
                created_at=created,
            ),
        )
        number = made.registry_number
        kind = k % 4
        if kind == 0:  # resolved after (k + 1) * 5 hours, at most now
            at = min(created + timedelta(hours=(k + 1) * 5), now)
            perform(engine, "testville", number, Action.RESOLVE, STAFF, text="Gata", at=at)
            spots.append((category, lon, lat))
        elif kind == 2:
            at = min(created + timedelta(days=k % 9), now)
            accountability.forward(engine, boss, number, "Enel", at=at)
        elif kind == 3:  # resolved late: 35 days, when that is already past
            at = created + timedelta(days=35)
            if at <= now:
                perform(engine, "testville", number, Action.RESOLVE, STAFF, text="Gata", at=at)
    # recent fixes the reporters judge (PIN window runs from the real resolution time)
    judged = []
    for k in range(6):
        made = create_incident(
            engine,
            NewIncident(
                "testville", "pothole", TEST_LAT - 0.01, TEST_LON + 0.004 * k, "x", contact=MARIA
            ),
        )
        perform(engine, "testville", made.registry_number, Action.RESOLVE, STAFF, text="Gata")
        judged.append(made)
    accountability.confirm_fix(engine, judged[0].registry_number, judged[0].pin)
    accountability.confirm_fix(engine, judged[1].registry_number, judged[1].pin)
    accountability.dispute_fix(engine, judged[2].registry_number, judged[2].pin, "nu e gata")
    sample = accountability.draw_sample(engine, boss, share=1.0, seed=1)
    accountability.record_check(engine, boss, sample.sample_id, judged[3].registry_number, "fixed")
    accountability.record_check(
        engine, boss, sample.sample_id, judged[4].registry_number, "not_fixed"
    )
    # repeats of fixes: on the same spot and 10 m away
    to_m = Transformer.from_crs(4326, 3844, always_xy=True)
    back = Transformer.from_crs(3844, 4326, always_xy=True)
    for category, lon, lat in spots[:4]:
        x, y = to_m.transform(lon, lat)
        lon10, lat10 = back.transform(x + 10, y)
        for plon, plat in ((lon, lat), (lon10, lat10)):
            create_incident(engine, NewIncident("testville", category, plat, plon, "iar"))
    return now


def _frame(engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn)


def _incidents(engine) -> pd.DataFrame:
    return _frame(
        engine,
        "SELECT i.incident_id, i.status, i.created_at, i.resolved_at, i.answered_at,"
        " i.forwarded_at, i.owes_reply, i.recurrence_of, CAST(i.expected_hours_p50 AS float8)"
        " AS p50, CAST(i.expected_hours_p80 AS float8) AS p80, ST_X(i.geom) AS lon,"
        " ST_Y(i.geom) AS lat, c.code AS category, d.code AS department FROM incidents i"
        " JOIN categories c USING (city_id, category_id)"
        " JOIN departments d ON d.city_id = i.city_id AND d.department_id = i.department_id",
    )


def _term_end(created: pd.Timestamp, days: int) -> pd.Timestamp:
    local_day = created.to_pydatetime().astimezone(TZ).date()
    return pd.Timestamp(
        datetime.combine(local_day + timedelta(days=days + 1), time(0), tzinfo=TZ)
    ).tz_convert(UTC)


def test_legal_deadlines_match_pandas(engine, data):
    now = data
    got = queries.legal_deadlines(engine, F, now=now).set_index("department")
    df = _incidents(engine)
    df["due"] = df["created_at"].map(lambda t: _term_end(t, 30))
    df["fwd_end"] = df["created_at"].map(lambda t: _term_end(t, 5))
    now_ts = pd.Timestamp(now)
    owed = df[df["owes_reply"]]
    unanswered = owed["answered_at"].isna()
    expected = pd.DataFrame(
        {
            "owed": owed.groupby("department").size(),
            "overdue_now": owed[unanswered & (owed["due"] <= now_ts)].groupby("department").size(),
            "due_next_7d": owed[
                unanswered & (owed["due"] > now_ts) & (owed["due"] <= now_ts + timedelta(days=7))
            ]
            .groupby("department")
            .size(),
            "forwarded": df[df["forwarded_at"].notna()].groupby("department").size(),
            "forwarded_late": df[df["forwarded_at"] >= df["fwd_end"]].groupby("department").size(),
            "answered_in_term": owed[owed["answered_at"] < owed["due"]]
            .groupby("department")
            .size(),
            "term_ended_or_answered": owed[~unanswered | (owed["due"] <= now_ts)]
            .groupby("department")
            .size(),
        }
    )
    expected = expected.reindex(got.index).fillna(0).astype("int64")
    for column in expected.columns:
        assert list(got[column]) == list(expected[column]), column
    assert expected["forwarded_late"].sum() > 0 and expected["overdue_now"].sum() > 0
    share = expected["answered_in_term"] / expected["term_ended_or_answered"]
    assert np.allclose(got["share_answered_in_term"], share, equal_nan=True)
    # a department head sees their department only
    scoped = queries.legal_deadlines(engine, Filters("testville", department="roads"), now=now)
    assert list(scoped["department"]) == ["roads"]


def test_verification_breakdown_matches_pandas(engine, data):
    got = queries.verification_breakdown(engine, F).set_index(["department", "category"])
    df = _incidents(engine)
    events = _frame(engine, "SELECT incident_id, kind FROM incident_events")
    checks = _frame(engine, "SELECT incident_id, outcome FROM verification_checks")
    disputed = set(events.loc[events["kind"] == "disputed", "incident_id"]) | set(
        checks.loc[checks["outcome"] == "not_fixed", "incident_id"]
    )
    confirmed = set(events.loc[events["kind"] == "confirmed", "incident_id"]) | set(
        checks.loc[checks["outcome"] == "fixed", "incident_id"]
    )
    df["done"] = df["status"].isin(["resolved", "closed"])
    df["disputed"] = df["incident_id"].isin(disputed)
    df["confirmed"] = df["incident_id"].isin(confirmed) & ~df["disputed"] & df["done"]
    df["unverified"] = df["done"] & ~df["disputed"] & ~df["incident_id"].isin(confirmed)
    grouped = df.groupby(["department", "category"])[
        ["done", "confirmed", "disputed", "unverified"]
    ].sum()
    grouped = grouped[(grouped["done"] + grouped["disputed"]) > 0].rename(
        columns={"done": "closed"}
    )
    assert sorted(got.index) == sorted(grouped.index)
    for column in ("closed", "confirmed", "disputed", "unverified"):
        assert list(got.loc[grouped.index, column]) == list(grouped[column]), column
    pothole = got.loc[("roads", "pothole")]
    assert pothole["disputed"] == 2 and pothole["confirmed"] == 3
    assert pothole["confirmed_share"] == pytest.approx(pothole["confirmed"] / pothole["closed"])


def test_recurrence_rates_and_places_match_pandas(engine, data):
    got = queries.recurrence_rates(engine, F).set_index(["department", "category"])
    df = _incidents(engine)
    expected = df.groupby(["department", "category"]).agg(
        incidents=("incident_id", "size"), recurrences=("recurrence_of", "count")
    )
    assert list(got.loc[expected.index, "incidents"]) == list(expected["incidents"])
    assert list(got.loc[expected.index, "recurrences"]) == list(expected["recurrences"])
    assert expected["recurrences"].sum() == 8
    assert np.allclose(
        got.loc[expected.index, "recurrence_rate"], expected["recurrences"] / expected["incidents"]
    )
    places = queries.recurrence_places(engine, F, cell_m=50)
    originals = df.set_index("incident_id").loc[df["recurrence_of"].dropna().astype("int64")]
    to_m = Transformer.from_crs(4326, 3844, always_xy=True)
    x, y = to_m.transform(originals["lon"].to_numpy(), originals["lat"].to_numpy())
    cells = pd.Series(list(zip(np.round(x / 50) * 50, np.round(y / 50) * 50, strict=True)))
    assert sorted(places["recurrences"]) == sorted(cells.value_counts().tolist())
    assert places.crs.to_epsg() == 4326 and places["originals"].sum() == 4


def test_estimate_calibration_matches_pandas(engine, data):
    got = queries.estimate_calibration(engine, F).set_index(["department", "category"])
    df = _incidents(engine)
    done = df[df["resolved_at"].notna() & df["p50"].notna()].copy()
    done["hours"] = (done["resolved_at"] - done["created_at"]).dt.total_seconds() / 3600
    done["in50"] = done["hours"] <= done["p50"]
    done["in80"] = done["hours"] <= done["p80"]
    expected = done.groupby(["department", "category"]).agg(
        resolved=("hours", "size"), share50=("in50", "mean"), share80=("in80", "mean")
    )
    assert list(got.loc[expected.index, "resolved"]) == list(expected["resolved"])
    assert np.allclose(got.loc[expected.index, "share_within_p50"], expected["share50"])
    assert np.allclose(got.loc[expected.index, "share_within_p80"], expected["share80"])
    assert expected["resolved"].sum() > 10

"""KPIs and the daily trend against pandas recomputations, incl. DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from sesizari.errors import ValidationError
from sesizari.incidents import NewIncident, create_incident
from sesizari.queries import Filters, daily_trend, kpis, points, weekly_trend
from tests import raw_tables as raw
from tests.conftest import DEMO_AS_OF, TEST_LAT, TEST_LON


def _expected_kpis(engine, slug: str, now: datetime, categories=None) -> dict[str, tuple]:
    inc = raw.incidents(engine, slug)
    if categories:
        inc = inc[inc["category_code"].isin(categories)]
    events = raw.status_events(engine, slug)
    t = pd.Timestamp(now)
    local = t.tz_convert(raw.TZ)
    prev = (local - pd.DateOffset(days=1)).tz_convert("UTC")
    today0 = local.normalize()
    yday0 = local.normalize() - pd.DateOffset(days=1)
    out = {}
    opens = {}
    for key, moment in (("now", t), ("prev", prev)):
        st = inc["incident_id"].map(status_at := raw.status_at(events, moment))
        assert status_at is not None
        opens[key] = st.isin(raw.OPEN) & (inc["created_at"] <= moment)
    out["open"] = (opens["now"].sum(), opens["prev"].sum())
    out["new_today"] = (
        ((inc["local_created"] >= today0) & (inc["created_at"] <= t)).sum(),
        ((inc["local_created"] >= yday0) & (inc["created_at"] <= prev)).sum(),
    )
    age_now = (t - inc["created_at"]).dt.total_seconds() / 3600
    age_prev = (prev - inc["created_at"]).dt.total_seconds() / 3600
    out["overdue"] = (
        (opens["now"] & (age_now > inc["target_hours"])).sum(),
        (opens["prev"] & (age_prev > inc["target_hours"])).sum(),
    )
    d30 = pd.Timedelta(days=30)
    cur = inc[(inc["resolved_at"] > t - d30) & (inc["resolved_at"] <= t)]["resolve_h"]
    old = inc[(inc["resolved_at"] > t - 2 * d30) & (inc["resolved_at"] <= t - d30)]["resolve_h"]
    out["median_resolution_hours_30d"] = (cur.median(), old.median())
    return out


@pytest.mark.parametrize("slug", ["lugoj", "alba-iulia"])
@pytest.mark.parametrize(
    "now", [DEMO_AS_OF, datetime(2026, 6, 3, 9, 30, tzinfo=UTC)], ids=["as_of", "june"]
)
def test_kpis_match_pandas(demo_engine, slug, now):
    got = kpis(demo_engine, Filters(slug), now=now)
    expected = _expected_kpis(demo_engine, slug, now)
    assert list(got.index) == list(expected)
    for metric, (value, previous) in expected.items():
        assert got.loc[metric, "value"] == pytest.approx(value, rel=1e-9), metric
        assert got.loc[metric, "previous"] == pytest.approx(previous, rel=1e-9), metric
        assert got.loc[metric, "change"] == pytest.approx(value - previous, rel=1e-9, abs=1e-9)
    assert got.loc["open", "value"] > 0


def test_kpis_with_category_filter_and_dates_ignored(demo_engine):
    cats = ("pothole", "garbage")
    filters = Filters("lugoj", categories=cats, start=date(2026, 1, 1), end=date(2026, 2, 1))
    got = kpis(demo_engine, filters, now=DEMO_AS_OF)
    expected = _expected_kpis(demo_engine, "lugoj", DEMO_AS_OF, categories=cats)
    for metric, (value, previous) in expected.items():
        assert got.loc[metric, "value"] == pytest.approx(value, rel=1e-9)
        assert got.loc[metric, "previous"] == pytest.approx(previous, rel=1e-9)


def test_kpis_refuse_naive_now(demo_engine):
    with pytest.raises(ValidationError, match="aware"):
        kpis(demo_engine, Filters("lugoj"), now=datetime(2026, 1, 1))


def test_daily_trend_matches_pandas(demo_engine):
    filters = Filters("alba-iulia", start=date(2026, 3, 1), end=date(2026, 5, 1))
    got = daily_trend(demo_engine, filters)
    inc = raw.incidents(demo_engine, "alba-iulia")
    day = inc["local_created"].dt.date
    sel = inc[(day >= date(2026, 3, 1)) & (day < date(2026, 5, 1))]
    received = sel["local_created"].dt.date.value_counts()
    resolved = sel["resolved_at"].dropna().dt.tz_convert(raw.TZ).dt.date.value_counts()
    assert got["received"].sum() == len(sel)
    assert got["resolved"].sum() == sel["resolved_at"].notna().sum()
    for _, row in got.iterrows():
        assert row["received"] == received.get(row["day"], 0)
        assert row["resolved"] == resolved.get(row["day"], 0)
    assert got["day"].diff().dropna().map(lambda d: d.days).eq(1).all()


# Around the spring-forward night of 2026-03-29 (03:00 EET -> 04:00 EEST).
DST_TIMES = {
    datetime(2026, 3, 28, 21, 30, tzinfo=UTC): date(2026, 3, 28),  # 23:30 EET
    datetime(2026, 3, 28, 22, 30, tzinfo=UTC): date(2026, 3, 29),  # 00:30 EET
    datetime(2026, 3, 29, 20, 30, tzinfo=UTC): date(2026, 3, 29),  # 23:30 EEST
    datetime(2026, 3, 29, 21, 30, tzinfo=UTC): date(2026, 3, 30),  # 00:30 EEST
}


@pytest.fixture
def dst_city(engine, city):
    numbers = {}
    for at, local_day in DST_TIMES.items():
        new = NewIncident("testville", "pothole", TEST_LAT, TEST_LON, "Groapă", created_at=at)
        numbers[create_incident(engine, new).registry_number] = local_day
    return numbers


def test_local_day_bucketing_across_dst(engine, dst_city):
    got = daily_trend(engine, Filters("testville"))
    assert dict(zip(got["day"], got["received"], strict=True)) == {
        date(2026, 3, 28): 1,
        date(2026, 3, 29): 2,
        date(2026, 3, 30): 1,
    }
    one_day = Filters("testville", start=date(2026, 3, 29), end=date(2026, 3, 30))
    pts = points(engine, one_day, limit=10)
    assert sorted(pts["registry_number"]) == sorted(
        n for n, d in dst_city.items() if d == date(2026, 3, 29)
    )
    weeks = weekly_trend(engine, Filters("testville"))
    assert dict(zip(weeks["week"], weeks["received"], strict=True)) == {
        date(2026, 3, 23): 3,
        date(2026, 3, 30): 1,
    }


def test_new_today_on_the_dst_day(engine, dst_city):
    # 23:45 local on 29 March: that day had 23 hours; yesterday's cut is 23:45 EET.
    got = kpis(engine, Filters("testville"), now=datetime(2026, 3, 29, 20, 45, tzinfo=UTC))
    assert got.loc["new_today", "value"] == 2
    assert got.loc["new_today", "previous"] == 1
    assert got.loc["open", "value"] == 3
    assert got.loc["open", "previous"] == 1
    assert np.isnan(got.loc["median_resolution_hours_30d", "value"])


def test_trends_of_a_city_without_incidents_are_empty(engine, city):
    """No incidents, no span of days: empty frames with the right columns, no error."""
    daily = daily_trend(engine, Filters("testville"))
    weekly = weekly_trend(engine, Filters("testville"))
    assert daily.empty and list(daily.columns) == ["day", "received", "resolved"]
    assert weekly.empty and {"week", "received", "resolved"} <= set(weekly.columns)


def test_durations_across_clock_changes_are_utc_differences(engine, city):
    """RELIABILITY R13: a report resolved across a clock change took the
    hours that passed, not the wall-clock difference (spring: 00:30 to 04:30
    local is 3 hours; autumn: 02:30 summer time to 03:30 winter time is 2);
    local days are cut at local midnight across the autumn change and New
    Year."""
    from sesizari.incidents import Actor, perform
    from sesizari.queries import resolution_stats
    from sesizari.vocab import Action

    cases = [
        # created (UTC), resolved (UTC), hours, local day of creation
        (datetime(2026, 3, 28, 22, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
         3.0, date(2026, 3, 29)),  # 00:30 EET -> 04:30 EEST
        (datetime(2025, 10, 25, 23, 30, tzinfo=UTC), datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
         2.0, date(2025, 10, 26)),  # 02:30 EEST -> 03:30 EET
        (datetime(2025, 10, 26, 21, 59, tzinfo=UTC), datetime(2025, 10, 27, 4, 59, tzinfo=UTC),
         7.0, date(2025, 10, 26)),  # 23:59 EET, the 25-hour day's last minute
        (datetime(2025, 12, 31, 21, 59, tzinfo=UTC), datetime(2026, 1, 1, 9, 59, tzinfo=UTC),
         12.0, date(2025, 12, 31)),  # 23:59 on New Year's Eve
        (datetime(2025, 12, 31, 22, 0, tzinfo=UTC), datetime(2026, 1, 2, 22, 0, tzinfo=UTC),
         48.0, date(2026, 1, 1)),  # local midnight: already the new year
    ]
    for created, resolved, _hours, _day in cases:
        number = create_incident(engine, NewIncident(
            "testville", "pothole", TEST_LAT, TEST_LON, "Groapă", created_at=created
        )).registry_number
        perform(engine, "testville", number, Action.RESOLVE, Actor("tester"),
                text="Plombat", at=resolved)
    # Each local day's reports (the period filter cuts at local midnights).
    by_day: dict[date, list[float]] = {}
    for *_, hours, day in cases:
        by_day.setdefault(day, []).append(hours)
    for day, hours in by_day.items():
        period = Filters("testville", start=day, end=day + timedelta(days=1))
        (row,) = resolution_stats(engine, period, by="category").itertuples()
        assert row.n_resolved == len(hours), day
        assert row.resolve_mean_h == pytest.approx(sum(hours) / len(hours)), day
    days = daily_trend(engine, Filters("testville"))
    received = {d: n for d, n in zip(days["day"], days["received"], strict=True) if n}
    expected: dict[date, int] = {}
    for *_, day in cases:
        expected[day] = expected.get(day, 0) + 1
    assert received == expected

"""Department scorecards and overdue lists against pandas recomputations."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from sesizari.errors import ValidationError
from sesizari.queries import Filters, department_overdue, department_performance
from sesizari.queries.filters import SAMPLE_PREDICATE
from tests import raw_tables as raw
from tests.conftest import DEMO_AS_OF
from tests.plans import index_condition_on, plan_without_scans


def _local_midnight(d: date) -> pd.Timestamp:
    return pd.Timestamp(d).tz_localize(raw.TZ).tz_convert("UTC")


def _scorecard(inc: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    t0, t1 = _local_midnight(start), _local_midnight(end)
    cohort = inc[(inc["created_at"] >= t0) & (inc["created_at"] < t1)]
    resolved_in = inc[(inc["resolved_at"] >= t0) & (inc["resolved_at"] < t1)]
    g = cohort.groupby("department_code")
    done = cohort[cohort["resolve_h"].notna()]
    return pd.DataFrame(
        {
            "received": g.size(),
            "resolved": resolved_in.groupby("department_code").size(),
            "resolution_rate": g["resolve_h"].count() / g.size(),
            "ack_median_h": g["ack_h"].median(),
            "ack_p90_h": g["ack_h"].quantile(0.9),
            "resolve_median_h": g["resolve_h"].median(),
            "resolve_p90_h": g["resolve_h"].quantile(0.9),
            "within_target_pct": 100
            * (done["resolve_h"] <= done["target_hours"]).groupby(done["department_code"]).mean(),
        }
    )


def _assert_percentiles(engine, got: pd.DataFrame, limit: int, start: date, end: date) -> None:
    """Each department's percentiles equal pandas over the sample (when it
    received more than ``limit`` in that period) or over every incident."""
    prev_start = start - (end - start)
    inc = raw.incidents(engine, "alba-iulia")
    ids = raw.read(engine, f"SELECT incident_id FROM incidents i WHERE {SAMPLE_PREDICATE}")
    sample = inc[inc["incident_id"].isin(ids["incident_id"])]
    for dep, row in got.iterrows():
        cur = _scorecard(sample if row["received"] > limit else inc, start, end)
        prev = _scorecard(sample if row["prev_received"] > limit else inc, prev_start, start)
        for column in ("ack_median_h", "ack_p90_h", "resolve_median_h", "resolve_p90_h"):
            want = cur[column].get(dep, np.nan)
            assert np.isclose(row[column], want, rtol=1e-9, equal_nan=True), (dep, column)
        want = prev["resolve_median_h"].get(dep, np.nan)
        assert np.isclose(row["prev_resolve_median_h"], want, rtol=1e-9, equal_nan=True), dep


@pytest.mark.parametrize(
    "filters",
    [Filters("lugoj"), Filters("alba-iulia", start=date(2026, 3, 1), end=date(2026, 6, 1))],
    ids=["last-30-days", "spring"],
)
def test_department_performance_matches_pandas(demo_engine, filters):
    got = department_performance(demo_engine, filters, now=DEMO_AS_OF).set_index("department_code")
    inc = raw.incidents(demo_engine, filters.city)
    end = filters.end or date(2026, 11, 21)  # DEMO_AS_OF is 20 Nov, 14:00 local
    start = filters.start or date(2026, 10, 22)
    prev_start = start - (end - start)
    cur = _scorecard(inc, start, end)
    prev = _scorecard(inc, prev_start, start)
    deps = raw.read(
        demo_engine,
        "SELECT d.code FROM departments d JOIN cities c USING (city_id) WHERE c.slug = :s",
        s=filters.city,
    )["code"]
    assert sorted(got.index) == sorted(deps)
    cur = cur.reindex(got.index)
    cur[["received", "resolved"]] = cur[["received", "resolved"]].fillna(0)
    prev = prev.reindex(got.index)
    prev[["received", "resolved"]] = prev[["received", "resolved"]].fillna(0)
    for col in cur.columns:
        assert np.allclose(got[col], cur[col], equal_nan=True, rtol=1e-9), col
    assert np.allclose(got["prev_received"], prev["received"])
    assert np.allclose(got["prev_resolved"], prev["resolved"])
    assert np.allclose(got["prev_resolve_median_h"], prev["resolve_median_h"], equal_nan=True)
    assert np.allclose(
        got["within_target_change_pct"],
        cur["within_target_pct"] - prev["within_target_pct"],
        equal_nan=True,
    )
    open_now = inc[inc["status"].isin(raw.OPEN)].groupby("department_code").size()
    assert (got["open"] == open_now.reindex(got.index, fill_value=0)).all()
    ranked = got.sort_values("rank")
    scores = ranked["within_target_pct"].dropna()
    assert scores.is_monotonic_decreasing
    assert sorted(got["rank"]) == list(range(1, len(got) + 1))
    assert (got["period_start"] == start).all() and (got["period_end"] == end).all()


def test_department_scope_limits_the_scorecard(demo_engine):
    got = department_performance(demo_engine, Filters("lugoj", department="water"), DEMO_AS_OF)
    assert list(got["department_code"]) == ["water"]


def test_department_overdue_matches_pandas(demo_engine):
    got = department_overdue(demo_engine, Filters("lugoj"), "roads", limit=7, now=DEMO_AS_OF)
    inc = raw.incidents(demo_engine, "lugoj")
    age = (pd.Timestamp(DEMO_AS_OF) - inc["created_at"]).dt.total_seconds() / 3600
    overdue = inc[
        (inc["department_code"] == "roads")
        & inc["status"].isin(raw.OPEN)
        & (age > inc["target_hours"])
    ].sort_values(["created_at", "registry_number"])
    assert list(got["registry_number"]) == list(overdue["registry_number"].head(7))
    assert np.allclose(got["overdue_h"], (age - inc["target_hours"]).loc[overdue.index[:7]])
    assert "description" not in got.columns


def test_department_overdue_respects_access_scope(demo_engine):
    scoped = Filters("lugoj", department="water")
    with pytest.raises(ValidationError, match="limited to 'water'"):
        department_overdue(demo_engine, scoped, "roads")
    assert (department_overdue(demo_engine, scoped, "water", now=DEMO_AS_OF)["registry_number"]
            .str.startswith("LUG-").all())  # fmt: skip


def test_large_departments_take_their_percentiles_from_the_sample(demo_engine):
    start, end = date(2026, 3, 1), date(2026, 6, 1)
    filters = Filters("alba-iulia", start=start, end=end)
    exact = department_performance(demo_engine, filters, now=DEMO_AS_OF)
    assert not exact["sampled"].any()
    limit = int(exact["received"].median())
    got = department_performance(demo_engine, filters, now=DEMO_AS_OF, exact_limit=limit)
    assert got["sampled"].any() and not got["sampled"].all()
    exact, got = exact.set_index("department_code"), got.set_index("department_code")
    counts = ["received", "resolved", "open", "resolution_rate", "within_target_pct",
              "prev_received", "prev_resolved", "prev_within_target_pct"]  # fmt: skip
    pd.testing.assert_frame_equal(got[counts], exact[counts])
    _assert_percentiles(demo_engine, got, limit, start, end)


def test_few_exact_departments_are_read_by_their_categories(pg_cluster, demo_copy):
    """With fewer exact departments than sampled ones, the exact read is
    narrowed to the categories those departments received (from the daily
    rollup).  An incident of a small department filed under another
    department's category must still count: the category list comes from
    what was received, not from the routing rules."""
    import sqlalchemy as sa

    from sesizari import db

    engine = db.make_engine(demo_copy)
    try:
        start, end = date(2026, 3, 1), date(2026, 6, 1)
        filters = Filters("alba-iulia", start=start, end=end)
        before = department_performance(engine, filters, now=DEMO_AS_OF)
        small = before.sort_values(["received", "department_code"])["department_code"].iloc[0]
        big = before.sort_values(["received", "department_code"])["department_code"].iloc[-1]
        # Three of the big department's incidents of the period go to the small one.
        with engine.begin() as conn:
            moved = conn.execute(
                sa.text(
                    "UPDATE incidents SET department_id = s.department_id"
                    " FROM departments s, departments b, cities c"
                    " WHERE c.slug = 'alba-iulia' AND s.city_id = c.city_id AND s.code = :small"
                    "   AND b.city_id = c.city_id AND b.code = :big"
                    "   AND incidents.incident_id IN ("
                    "     SELECT i.incident_id FROM incidents i"
                    "     WHERE i.city_id = c.city_id AND i.department_id = b.department_id"
                    "       AND i.resolved_at IS NOT NULL"
                    "       AND i.created_at >= :t0 AND i.created_at < :t1"
                    "     ORDER BY i.incident_id LIMIT 3)"
                ),
                {
                    "small": small,
                    "big": big,
                    "t0": _local_midnight(start),
                    "t1": _local_midnight(end),
                },
            ).rowcount
        assert moved == 3
        exact = department_performance(engine, filters, now=DEMO_AS_OF)
        # The small department stays exact in both periods, most others are sampled.
        row = exact.set_index("department_code").loc[small]
        limit = int(max(row["received"], row["prev_received"]))
        got = department_performance(engine, filters, now=DEMO_AS_OF, exact_limit=limit)
        got = got.set_index("department_code")
        assert not got.loc[small, "sampled"] and got["sampled"].sum() > (~got["sampled"]).sum()
        _assert_percentiles(engine, got, limit, start, end)
    finally:
        engine.dispose()


def test_the_exact_departments_read_the_category_index(demo_engine):
    """The exact read of few small departments goes through
    incidents_category_idx with the categories in its index condition.  At
    3,000 demo incidents PostgreSQL would rather read the periods from the
    analytics index, so that index is dropped inside the transaction (rolled
    back) and scans of the whole city are priced out: without the direct
    condition on the categories, no index could serve the read by them."""
    from sesizari.queries.departments import _PERCENTILES

    params = Filters("alba-iulia").params() | {
        "p_start": date(2026, 3, 1), "p_end": date(2026, 6, 1), "q_start": date(2025, 12, 1),
        "sampled_cur": [], "sampled_prev": [], "exact_cur": [1], "exact_prev": [1],
        "direct": True,
    }  # fmt: skip
    plan = plan_without_scans(demo_engine, _PERCENTILES, params, drop=["incidents_analytics_idx"])
    assert index_condition_on(plan, "category_id", "incidents_category_idx"), plan

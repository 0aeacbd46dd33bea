"""Resolution figures against pandas recomputations on the demo data."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from sesizari.errors import ValidationError
from sesizari.queries import (
    Filters,
    backlog_ageing,
    district_medians,
    resolution_distribution,
    resolution_stats,
    share_within_target,
    weekly_trend,
)
from sesizari.queries.filters import SAMPLE_PREDICATE, SAMPLE_RATE
from sesizari.queries.resolution import DEFAULT_BINS
from tests import raw_tables as raw
from tests.conftest import DEMO_AS_OF
from tests.plans import index_condition_on, nodes, plan_tree, plan_without_scans

KEYS = {"category": "category_code", "department": "department_code", "district": "district"}
FILTERS = [
    Filters("lugoj"),
    Filters(
        "alba-iulia",
        start=date(2025, 12, 1),
        end=date(2026, 6, 1),
        statuses=("resolved", "closed", "in_progress"),
    ),
    # Dates inside months: the rollup sums whole months and the days around them.
    Filters("alba-iulia", start=date(2025, 12, 15), end=date(2026, 5, 10), districts=("Centru",)),
    Filters("lugoj", start=date(2026, 2, 10)),
    Filters("lugoj", end=date(2026, 3, 20)),
]
FILTER_IDS = ["lugoj", "alba-iulia-range", "mid-month-range", "from-mid-month", "to-mid-month"]


def _select(inc: pd.DataFrame, f: Filters) -> pd.DataFrame:
    day = inc["local_created"].dt.date
    keep = pd.Series(True, index=inc.index)
    if f.start:
        keep &= day >= f.start
    if f.end:
        keep &= day < f.end
    for attr, col in (("categories", "category_code"), ("departments", "department_code"),
                      ("statuses", "status"), ("districts", "district")):  # fmt: skip
        if getattr(f, attr):
            keep &= inc[col].isin(getattr(f, attr))
    if f.department:
        keep &= inc["department_code"] == f.department
    return inc[keep]


@pytest.mark.parametrize("filters", FILTERS, ids=FILTER_IDS)
@pytest.mark.parametrize("by", list(KEYS))
def test_resolution_stats_match_pandas(demo_engine, filters, by):
    got = resolution_stats(demo_engine, filters, by=by).set_index("key")
    inc = _select(raw.incidents(demo_engine, filters.city), filters)
    g = inc.groupby(KEYS[by], dropna=False)
    expected = pd.DataFrame(
        {
            "n": g.size(),
            "n_acknowledged": g["ack_h"].count(),
            "ack_median_h": g["ack_h"].median(),
            "ack_p90_h": g["ack_h"].quantile(0.9),
            "ack_mean_h": g["ack_h"].mean(),
            "n_resolved": g["resolve_h"].count(),
            "resolve_median_h": g["resolve_h"].median(),
            "resolve_p90_h": g["resolve_h"].quantile(0.9),
            "resolve_mean_h": g["resolve_h"].mean(),
        }
    )
    got.index = got.index.where(got.index.notna(), np.nan)
    assert sorted(map(str, got.index)) == sorted(map(str, expected.index))
    expected.index = expected.index.map(str)
    got.index = got.index.map(str)
    pd.testing.assert_frame_equal(
        got[expected.columns].sort_index(),
        expected.sort_index(),
        check_dtype=False,
        rtol=1e-9,
        check_names=False,
    )
    if by == "category":
        names = inc.groupby("category_code")["category_en"].first()
        assert (got.loc[names.index, "name_en"] == names).all()


def test_resolution_stats_rejects_unknown_grouping(demo_engine):
    with pytest.raises(ValidationError, match="group by"):
        resolution_stats(demo_engine, Filters("lugoj"), by="registry_number; DROP TABLE x")


@pytest.mark.parametrize("filters", FILTERS, ids=FILTER_IDS)
def test_weekly_trend_matches_pandas(demo_engine, filters):
    got = weekly_trend(demo_engine, filters).set_index("week")
    inc = _select(raw.incidents(demo_engine, filters.city), filters)

    def monday(ts: pd.Series) -> pd.Series:
        local = ts.dt.tz_convert(raw.TZ)
        return (local.dt.normalize() - pd.to_timedelta(local.dt.day_of_week, unit="D")).dt.date

    received = monday(inc["created_at"]).value_counts()
    res = inc[inc["resolved_at"].notna()]
    res_week = monday(res["resolved_at"])
    resolved = res_week.value_counts()
    medians = res.groupby(res_week)["resolve_h"].median()
    assert got["received"].sum() == len(inc)
    assert got["resolved"].sum() == len(res)
    for week, row in got.iterrows():
        assert week.weekday() == 0
        assert row["received"] == received.get(week, 0)
        assert row["resolved"] == resolved.get(week, 0)
        if week in medians.index:
            assert row["resolve_median_h"] == pytest.approx(medians[week], rel=1e-9)
        else:
            assert np.isnan(row["resolve_median_h"])


def test_resolution_distribution_matches_numpy(demo_engine):
    filters = Filters("lugoj", departments=("roads", "water"))
    bins = (0, 6, 24, 72, 240)
    got = resolution_distribution(demo_engine, filters, bins)
    inc = _select(raw.incidents(demo_engine, "lugoj"), filters)
    hours = inc["resolve_h"].dropna().to_numpy()
    counts, _ = np.histogram(hours, bins=[*bins, np.inf])
    assert list(got["n"]) == list(counts)
    assert got["share"].sum() == pytest.approx(1.0)
    assert list(got["label"]) == ["0-6 h", "6-24 h", "24-72 h", "72-240 h", ">240 h"]
    with pytest.raises(ValidationError, match="increase"):
        resolution_distribution(demo_engine, filters, (0, 5, 5))


@pytest.mark.parametrize("filters", FILTERS, ids=FILTER_IDS)
def test_the_default_distribution_from_the_rollup_matches_numpy(demo_engine, filters):
    got = resolution_distribution(demo_engine, filters)
    inc = _select(raw.incidents(demo_engine, filters.city), filters)
    hours = inc["resolve_h"].dropna().to_numpy()
    counts, _ = np.histogram(hours, bins=[*DEFAULT_BINS, np.inf])
    assert list(got["n"]) == list(counts)
    assert got["n"].sum() == len(hours) > 0


@pytest.mark.parametrize("filters", FILTERS, ids=FILTER_IDS)
@pytest.mark.parametrize("by", list(KEYS))
def test_share_within_target_matches_pandas(demo_engine, by, filters):
    got = share_within_target(demo_engine, filters, by=by)
    inc = _select(raw.incidents(demo_engine, filters.city), filters)
    res = inc[inc["resolve_h"].notna()]
    within = res["resolve_h"] <= res["target_hours"]
    g = within.groupby(res[KEYS[by]].astype(str))
    got.index = got["key"].astype(str)
    assert sorted(got.index) == sorted(g.size().index)
    assert (got["n_resolved"] == g.size().loc[got.index]).all()
    assert (got["n_within"] == g.sum().loc[got.index]).all()
    assert np.allclose(got["share_within"], g.mean().loc[got.index])


def test_backlog_ageing_matches_pandas(demo_engine):
    filters = Filters("lugoj")
    got = backlog_ageing(demo_engine, filters, now=DEMO_AS_OF).set_index("department_code")
    inc = raw.incidents(demo_engine, "lugoj")
    open_ = inc[inc["status"].isin(raw.OPEN)]
    age = (pd.Timestamp(DEMO_AS_OF) - open_["created_at"]).dt.total_seconds() / 86400
    bucket = pd.cut(age, [0, 1, 3, 7, 30, np.inf], right=False,
                    labels=["lt_1d", "d1_3", "d3_7", "d7_30", "gt_30d"])  # fmt: skip
    expected = pd.crosstab(open_["department_code"], bucket).reindex(
        columns=["lt_1d", "d1_3", "d3_7", "d7_30", "gt_30d"], fill_value=0
    )
    got_b = got[expected.columns].loc[expected.index]
    assert (got_b.to_numpy() == expected.to_numpy()).all()
    assert (got["total"] == got[expected.columns].sum(axis=1)).all()
    assert got["total"].sum() == len(open_)


@pytest.mark.parametrize(
    "filters",
    [Filters("alba-iulia", categories=("pothole", "water_fault", "garbage")), *FILTERS],
    ids=["categories", *FILTER_IDS],
)
def test_district_medians_match_pandas(demo_engine, filters):
    got = district_medians(demo_engine, filters).set_index("district")
    inc = _select(raw.incidents(demo_engine, filters.city), filters)
    inc = inc[inc["district"].notna()]
    g = inc.groupby("district")
    assert (got.loc[g.size().index, "n"] == g.size()).all()
    assert (got.loc[g.size().index, "n_open"] == g["status"].apply(
        lambda s: s.isin(raw.OPEN).sum())).all()  # fmt: skip
    assert np.allclose(
        got.loc[g.size().index, "resolve_median_h"], g["resolve_h"].median(), equal_nan=True
    )
    assert got.crs.to_epsg() == 4326
    only = district_medians(demo_engine, Filters("alba-iulia", districts=("Centru",)))
    assert list(only["district"]) == ["Centru"]


# -- percentiles of large groups from the fixed sample ---------------------------------


def _sample_ids(engine) -> set[int]:
    """The ids of the fixed sample, by the same predicate as the queries and the index."""
    frame = raw.read(engine, f"SELECT incident_id FROM incidents i WHERE {SAMPLE_PREDICATE}")
    return set(frame["incident_id"])


def test_the_sample_is_one_in_eight_of_every_category(demo_engine):
    inc = raw.incidents(demo_engine, "alba-iulia")
    inc["in_sample"] = inc["incident_id"].isin(_sample_ids(demo_engine))
    share = inc["in_sample"].mean()
    # 1/8 of the incidents, within four binomial standard deviations.
    assert abs(share - 1 / SAMPLE_RATE) < 4 * np.sqrt(share * (1 - share) / len(inc))
    per_category = inc.groupby("category_code")["in_sample"].agg(["size", "sum"])
    assert (per_category.loc[per_category["size"] >= 100, "sum"] > 0).all()


@pytest.mark.parametrize("by", list(KEYS))
@pytest.mark.parametrize("quantile", [0.5, 0.2], ids=["half-exact", "few-exact"])
def test_large_groups_take_their_percentiles_from_the_sample(demo_engine, by, quantile):
    filters = Filters("alba-iulia")
    exact = resolution_stats(demo_engine, filters, by=by).set_index("key", drop=False)
    # A group size as the limit: groups above it sampled, the rest exact.  With
    # few exact groups, those of a category are read by their own index.
    limit = int(exact["n"].quantile(quantile))
    got = resolution_stats(demo_engine, filters, by=by, exact_limit=limit)
    got = got.set_index("key", drop=False)
    assert got["sampled"].tolist() == (got["n"] > limit).tolist()
    assert got["sampled"].any() and not got["sampled"].all()
    counts = ["n", "n_acknowledged", "ack_mean_h", "n_resolved", "resolve_mean_h"]
    pd.testing.assert_frame_equal(got[counts], exact.loc[got.index, counts])

    inc = raw.incidents(demo_engine, "alba-iulia")
    sample = inc[inc["incident_id"].isin(_sample_ids(demo_engine))]
    for key, row in got.iterrows():
        source = sample if row["sampled"] else inc
        group = source[source[KEYS[by]].isna()] if pd.isna(key) else source[
            source[KEYS[by]] == key]  # fmt: skip
        for column, values, q in (
            ("ack_median_h", group["ack_h"], 0.5),
            ("ack_p90_h", group["ack_h"], 0.9),
            ("resolve_median_h", group["resolve_h"], 0.5),
            ("resolve_p90_h", group["resolve_h"], 0.9),
        ):
            want = values.quantile(q)
            assert np.isclose(row[column], want, rtol=1e-9, equal_nan=True), (key, column)


def test_the_sampled_percentiles_read_the_sample_index(demo_engine):
    from sesizari.queries.resolution import _PERCENTILES

    params = Filters("alba-iulia").params() | {
        "by": "category", "sampled_ids": [1, 2, 3], "exact_ids": [], "direct": False}  # fmt: skip
    with demo_engine.connect() as conn:
        plan = "\n".join(
            r[0] for r in conn.execute(sa.text("EXPLAIN " + str(_PERCENTILES)), params)
        )
    assert "incidents_sample_idx" in plan


def test_district_medians_say_when_they_are_sampled(demo_engine):
    filters = Filters("alba-iulia")
    assert not district_medians(demo_engine, filters)["sampled"].any()
    got = district_medians(demo_engine, filters, exact_limit=0).set_index("district")
    assert got["sampled"].all()
    inc = raw.incidents(demo_engine, "alba-iulia")
    sample = inc[inc["incident_id"].isin(_sample_ids(demo_engine))]
    want = sample.groupby("district")["resolve_h"].median()
    assert np.allclose(got.loc[want.index, "resolve_median_h"], want)
    assert (got["n"] == inc.groupby("district").size().loc[got.index]).all()


def test_the_exact_percentiles_of_a_category_read_its_own_index(demo_engine):
    """A small category's incidents come through incidents_category_idx
    (migration 0019), not a scan of the whole city.  At 3,000 demo incidents
    PostgreSQL would rather scan, so scans of the whole city are priced out
    here: without the direct condition on the category, no index could
    serve the read at all, whatever the prices."""
    from sesizari.queries.resolution import _PERCENTILES

    params = Filters("alba-iulia").params() | {
        "by": "category", "sampled_ids": [], "exact_ids": [1], "direct": True}  # fmt: skip
    plan = plan_without_scans(demo_engine, _PERCENTILES, params)
    assert index_condition_on(plan, "category_id", "incidents_category_idx"), plan


def test_the_open_incidents_percentiles_read_their_own_index_alone(demo_engine):
    """A selection of the open statuses reads its percentiles' times from
    incidents_open_idx without visiting the table (migration 0020 added
    acknowledged_at and resolved_at to it).  The other covering indexes are
    dropped inside the transaction (rolled back) and whole-table scans priced
    out, so only that index could serve the read: without the two columns,
    as an index scan that fetches every row from the table."""
    from sesizari.queries.resolution import _PERCENTILES

    params = Filters("alba-iulia", statuses=("new", "acknowledged", "in_progress")).params() | {
        "by": "district", "sampled_ids": [], "exact_ids": [1, 2, 3], "direct": False}  # fmt: skip
    others = ["incidents_analytics_idx", "incidents_category_idx"]
    plan = plan_without_scans(demo_engine, _PERCENTILES, params, drop=others)
    assert "Index Only Scan using incidents_open_idx" in plan, plan


def test_the_weekly_medians_take_the_hours_stored_in_the_resolved_index(demo_engine):
    """Each week's median sorts the hours to resolve that
    incidents_resolved_idx stores (migration 0021), read by an index-only
    scan straight into the median: not computed again from the two times
    (the index would not hold them), and not through a join with the city
    row (which passes on the times only, so the hours were computed again
    above it)."""
    from sesizari.queries.resolution import _WEEKLY

    params = Filters("alba-iulia").params() | {"unit": "week", "tz": "Europe/Bucharest"}
    tree = plan_tree(demo_engine, _WEEKLY, params)
    median = [
        n for n in nodes(tree)
        if n["Node Type"] == "Aggregate" and any("percentile_cont" in o for o in n["Output"])
    ]  # fmt: skip
    assert len(median) == 1, tree
    (scan,) = [n for n in median[0]["Plans"] if n["Parent Relationship"] == "Outer"]
    assert scan["Node Type"] == "Index Only Scan", scan
    assert scan["Index Name"] == "incidents_resolved_idx", scan
    assert any("date_part" in o for o in scan["Output"]), scan


def test_partial_weeks_are_those_the_dates_cut():
    """A range from a Wednesday to a Monday cuts its first and last week."""
    from sesizari.queries import partial_weeks

    trend = pd.DataFrame({"week": [date(2026, 6, 1) + timedelta(days=7 * k) for k in range(14)]})
    cut = Filters("lugoj", start=date(2026, 6, 3), end=date(2026, 9, 1))  # end exclusive
    assert partial_weeks(trend, cut) == [date(2026, 6, 1), date(2026, 8, 31)]
    # the weeks after the range hold later resolutions: whole weeks, not cut ones
    whole = Filters("lugoj", start=date(2026, 6, 1), end=date(2026, 8, 31))
    assert partial_weeks(trend, whole) == []
    assert partial_weeks(trend, Filters("lugoj")) == []
    assert partial_weeks(trend.iloc[:0], cut) == []

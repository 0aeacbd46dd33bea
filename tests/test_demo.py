"""The demo generator: deterministic by seed, realistic, and loaded consistently."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from sesizari.demo.generate import generate
from sesizari.demo.load import load_demo
from tests.conftest import DEMO_AS_OF, DEMO_INCIDENTS


def test_same_seed_same_data_other_seed_other_data():
    a = generate(2000, seed=1, as_of=DEMO_AS_OF)
    b = generate(2000, seed=1, as_of=DEMO_AS_OF)
    c = generate(2000, seed=2, as_of=DEMO_AS_OF)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x.incidents, y.incidents)
        pd.testing.assert_frame_equal(x.events, y.events)
        pd.testing.assert_frame_equal(x.contacts, y.contacts)
    assert not a[0].incidents["lon"].equals(c[0].incidents["lon"])


def test_generated_data_is_realistic():
    cities = generate(10_000, seed=3, as_of=DEMO_AS_OF)
    assert [c.spec.slug for c in cities] == ["lugoj", "alba-iulia"]
    assert sum(len(c.incidents) for c in cities) == 10_000
    inc = pd.concat([c.incidents for c in cities])
    # every point inside its city's real boundary
    import shapely

    for c in cities:
        assert shapely.contains_xy(c.boundary, c.incidents["lon"], c.incidents["lat"]).all()
    # weekday reports outnumber weekend ones per day
    local = inc["created_at"].dt.tz_convert("Europe/Bucharest")
    per_day = local.dt.day_of_week.value_counts()
    assert per_day[[0, 1, 2]].mean() > 1.3 * per_day[[5, 6]].mean()
    # departments differ in resolution time (police fast, urbanism slow)
    done = inc[inc["resolved_at"].notna()]
    hours = (done["resolved_at"] - done["created_at"]).dt.total_seconds() / 3600
    med = hours.groupby(done["department"]).median()
    assert med["police"] * 10 < med["urbanism"]
    # there is a backlog, and some of it is old
    open_ = inc[inc["status"].isin(["new", "acknowledged", "in_progress"])]
    assert len(open_) > 0.03 * len(inc)
    assert (pd.Timestamp(DEMO_AS_OF) - open_["created_at"]).dt.days.max() > 60
    # 18 months of history
    span = inc["created_at"].max() - inc["created_at"].min()
    assert 520 <= span.days <= 548


def test_loaded_demo_has_gapless_registry_numbers(demo_engine):
    with demo_engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()
        assert total == DEMO_INCIDENTS
        gaps = conn.execute(
            sa.text(
                "SELECT c.slug, split_part(i.registry_number, '-', 2) AS y,"
                " count(*) AS n, max(split_part(i.registry_number, '-', 3)::int) AS top"
                " FROM incidents i JOIN cities c USING (city_id) GROUP BY 1, 2"
            )
        ).all()
        counters = {
            (r.slug, str(r.year)): r.last_value
            for r in conn.execute(
                sa.text(
                    "SELECT c.slug, rc.year, rc.last_value FROM registry_counters rc"
                    " JOIN cities c USING (city_id)"
                )
            )
        }
        departments = conn.execute(
            sa.text("SELECT count(DISTINCT department_id) FROM incidents")
        ).scalar_one()
        no_district = conn.execute(
            sa.text("SELECT count(*) FROM incidents WHERE district_id IS NULL")
        ).scalar_one()
    for slug, year, n, top in gaps:
        assert n == top, f"{slug} {year}: {n} incidents but top number {top}"
        assert counters[(slug, year)] == top
    assert departments >= 8
    assert no_district == 0


def test_loading_twice_adds_nothing(engine):
    first = load_demo(engine, total=300, seed=5, as_of=DEMO_AS_OF)
    second = load_demo(engine, total=300, seed=5, as_of=DEMO_AS_OF)
    assert sum(first.values()) == 300
    assert sum(second.values()) == 0

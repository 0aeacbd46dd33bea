"""The demo generator: deterministic by seed, realistic, and loaded consistently."""

from __future__ import annotations

import json

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


def _story_problems(city) -> list[str]:
    """What in one city's generated history does not hang together."""
    inc = city.incidents.set_index("local_id")
    problems = []
    for local_id, events in city.events.groupby("local_id", sort=False):
        row = inc.loc[local_id]
        status, last = None, None
        for e in events.itertuples():
            if last is not None and e.created_at < last:
                problems.append(f"{row.registry_number}: {e.kind} before the event it follows")
            if isinstance(e.from_status, str) and e.from_status != status:
                problems.append(f"{row.registry_number}: {e.kind} from {e.from_status} at {status}")
            status = e.to_status if isinstance(e.to_status, str) else status
            last = e.created_at
        if status != row.status:
            problems.append(f"{row.registry_number}: history ends {status}, row says {row.status}")
    return problems


def test_each_generated_history_is_one_story():
    """Forwards, verdicts and reopenings chain like the live actions: every
    event starts from the status the one before left, in time order, and the
    history ends in the incident's status."""
    for city in generate(6000, seed=11, as_of=DEMO_AS_OF):
        assert _story_problems(city) == []
        inc, ev = city.incidents, city.events
        forwarded = inc[inc["forwarded_to"].notna()]
        assert len(forwarded) and (forwarded["status"] == "rejected").all()
        assert (forwarded["forwarded_at"] >= forwarded["acknowledged_at"]).all()
        disputed = inc[inc["disputed_at"].notna()]
        assert len(disputed) and set(disputed["status"]) == {"acknowledged", "resolved", "closed"}
        assert (disputed["disputed_at"] > disputed["first_resolved_at"]).all()
        fixed_again = disputed["resolved_at"].dropna()
        assert (fixed_again > disputed.loc[fixed_again.index, "disputed_at"]).all()
        confirmed = inc[inc["confirmed_at"].notna()]
        assert len(confirmed) and confirmed["status"].isin(["resolved", "closed"]).all()
        after_fix = confirmed["confirmed_at"] - confirmed["resolved_at"]
        assert after_fix.between(pd.Timedelta(0), pd.Timedelta(days=14)).all()
        assert not (inc["confirmed_at"].notna() & inc["disputed_at"].notna()).any()
        # verdicts only from reporters who can be reached (the PIN goes with the contact)
        reachable = set(city.contacts["local_id"])
        assert set(confirmed["local_id"]) | set(disputed["local_id"]) <= reachable
        assert inc["owes_reply"].to_numpy().tolist() == inc["local_id"].isin(reachable).tolist()
        assert (inc["expected_hours_p50"] > 0).all()
        assert (inc["expected_hours_p80"] >= inc["expected_hours_p50"]).all()
        assert set(inc["expected_basis"]) == {"history", "target"}
        assert all(isinstance(json.loads(d), dict) for d in ev["data"])
        last_change = inc[["created_at", "resolved_at", "closed_at", "forwarded_at"]].max(axis=1)
        assert (inc["updated_at"] >= last_change).all()


def test_the_loaded_demo_fills_the_accountability_page(demo_engine):
    """The demo shows every accountability figure, computed as it would be live."""
    from sesizari import commitments
    from sesizari.queries import accountability
    from sesizari.queries.filters import Filters

    lugoj = Filters(city="lugoj")
    legal = accountability.legal_deadlines(demo_engine, lugoj)
    assert legal["forwarded"].sum() > 0 and legal["forwarded_late"].sum() > 0
    verified = accountability.verification_breakdown(demo_engine, lugoj)
    assert verified["confirmed"].sum() > 0 and verified["disputed"].sum() > 0
    assert verified["unverified"].sum() > verified["confirmed"].sum()
    recurring = accountability.recurrence_rates(demo_engine, lugoj)
    assert recurring["recurrences"].sum() > 0
    calibration = accountability.estimate_calibration(demo_engine, lugoj)
    p50 = calibration["within_p50"].sum() / calibration["resolved"].sum()
    p80 = calibration["within_p80"].sum() / calibration["resolved"].sum()
    assert 0.35 < p50 < 0.65 and 0.65 < p80 < 0.95 and p50 < p80
    # Each link is the one registration would have made, and none is missing.
    with demo_engine.connect() as conn:
        linked = conn.execute(
            sa.text(
                "SELECT city_id, incident_id, recurrence_of FROM incidents"
                " WHERE recurrence_of IS NOT NULL ORDER BY incident_id LIMIT 25"
            )
        ).all()
        for city_id, incident_id, original in linked:
            found = commitments.recurrence(conn, city_id, incident_id, 90, 25)
            assert found is not None and found[0] == original
        city_ids = conn.execute(sa.text("SELECT city_id, settings FROM cities")).all()
        assert sum(commitments.mark_recurrences(conn, c, s) for c, s in city_ids) == 0
        conn.rollback()
    assert len(linked) == 25


def test_the_demo_s_staff_events_are_signed_by_a_colleague_of_the_department(demo_engine):
    """The history's "who" names a person, as live events do: each staff event
    of the demo is signed by a staff member of the incident's department."""
    with demo_engine.connect() as conn:
        signed = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE u.user_id IS NULL) AS unsigned,"
            " count(*) FILTER (WHERE u.department_id <> i.department_id) AS elsewhere,"
            " count(*) FILTER (WHERE u.username <> e.actor_label) AS mislabelled,"
            " count(*) AS staff_events"
            " FROM incident_events e"
            " JOIN incidents i ON i.city_id = e.city_id AND i.incident_id = e.incident_id"
            " LEFT JOIN users u ON u.city_id = e.city_id AND u.user_id = e.actor_user_id"
            " WHERE e.channel = 'staff'")).one()
    assert signed.staff_events > 1_000, signed
    assert (signed.unsigned, signed.elsewhere, signed.mislabelled) == (0, 0, 0), signed


def test_the_demo_s_e_mailed_picture_says_where_it_was_taken(demo_engine):
    """So that the dispatcher's desk shows, on the demo, the place it proposes."""
    from sesizari import inbox

    for slug in ("lugoj", "alba-iulia"):
        waiting = inbox.pending(demo_engine, slug)
        placed = waiting.dropna(subset=["photo_lat"])
        assert len(placed) == 1 and placed["photos"].iloc[0] == 1, slug  # inside the city

"""Nearby duplicates, supporting an existing report, rate limits, public tracking."""

from __future__ import annotations

import pytest

from sesizari import intake, tracking
from sesizari.errors import NotFoundError, ValidationError
from sesizari.incidents import (
    Actor,
    Contact,
    NewIncident,
    add_note,
    create_incident,
    perform,
    set_description_public,
)
from tests.conftest import TEST_LAT, TEST_LON

CLERK = Actor("ana", None, "staff")


def _report(engine, category="pothole", lat=TEST_LAT, lon=TEST_LON, **kw):
    return create_incident(
        engine, NewIncident("testville", category, lat, lon, "Groapă", **kw)
    ).registry_number


def test_nearby_open_same_category_within_50_m(engine, city):
    near = _report(engine)
    _report(engine, lat=TEST_LAT + 0.0009)  # ~100 m north: too far
    _report(engine, category="street_light")  # other category
    closed = _report(engine)
    perform(engine, "testville", closed, "resolved", CLERK, text="ok")
    found = intake.nearby_open(engine, "testville", "pothole", TEST_LON + 0.0003, TEST_LAT)
    assert list(found["registry_number"]) == [near]  # ~23 m east
    assert 20 <= found["distance_m"].iloc[0] <= 26


def test_nearby_shows_what_the_public_map_shows_and_no_more(engine, city):
    """A citizen filing a report sees nearby reports as the public does: a
    description staff hid stays hidden, and a sensitive report's distance is
    from its snapped public point (else moving one's point in and out of the
    50 m would find it to the metre)."""
    import geopandas as gpd
    from shapely.geometry import Point

    from sesizari.opendata import public_incidents

    hidden = _report(engine)
    set_description_public(engine, "testville", hidden, False, CLERK)
    found = intake.nearby_open(engine, "testville", "pothole", TEST_LON, TEST_LAT)
    assert list(found["registry_number"]) == [hidden]
    assert found["description"].iloc[0] is None

    noise = _report(engine, category="noise")
    public = public_incidents(engine, "testville").set_index("registry_number").geometry
    snapped = gpd.GeoSeries([public[noise]], crs=4326).to_crs(3844).iloc[0]
    for dlon in (0.0, 0.0002, -0.0002, 0.0004):
        here = gpd.GeoSeries([Point(TEST_LON + dlon, TEST_LAT)], crs=4326).to_crs(3844).iloc[0]
        expected = here.distance(snapped)
        found = intake.nearby_open(engine, "testville", "noise", TEST_LON + dlon, TEST_LAT)
        if expected <= intake.NEARBY_METRES:
            assert list(found["registry_number"]) == [noise]
            assert abs(found["distance_m"].iloc[0] - expected) <= 1
        else:
            assert found.empty
    assert snapped.distance(gpd.GeoSeries([Point(TEST_LON, TEST_LAT)], crs=4326)
                            .to_crs(3844).iloc[0]) > 1  # (the snap moved it: a real test)


def test_tracking_gives_a_sensitive_report_only_its_public_place(engine, city):
    """Anyone can open any number: a sensitive report's address stays out and
    its point is the snapped one of the open data."""
    from sesizari.opendata import public_incidents

    noise = _report(engine, category="noise", address="Str. Florilor 7, ap. 3")
    pothole = _report(engine, address="Str. Bucegi 3")
    public = public_incidents(engine, "testville").set_index("registry_number").geometry
    seen = tracking.track(engine, noise)
    assert seen["address"] is None
    assert (seen["longitude"], seen["latitude"]) == pytest.approx(
        (public[noise].x, public[noise].y), abs=1e-9)
    assert (seen["longitude"], seen["latitude"]) != pytest.approx((TEST_LON, TEST_LAT), abs=1e-6)
    seen = tracking.track(engine, pothole)
    assert seen["address"] == "Str. Bucegi 3"
    assert (seen["longitude"], seen["latitude"]) == pytest.approx((TEST_LON, TEST_LAT))


def test_support_counts_and_refuses_closed(engine, city):
    number = _report(engine)
    assert intake.add_support(engine, "testville", number) == 1
    assert intake.add_support(engine, "testville", number) == 2
    perform(engine, "testville", number, "rejected", CLERK, text="nu")
    with pytest.raises(ValidationError, match="no longer open"):
        intake.add_support(engine, "testville", number)
    with pytest.raises(NotFoundError):
        intake.add_support(engine, "testville", "TST-2000-000001")


def test_rate_limit_per_client(engine, city):
    for _ in range(3):
        intake.check_rate(engine, "testville", "10.0.0.1", limit=3)
    with pytest.raises(ValidationError) as err:
        intake.check_rate(engine, "testville", "10.0.0.1", limit=3)
    assert err.value.field == "rate_limit"
    intake.check_rate(engine, "testville", "10.0.0.2", limit=3)  # another client is fine


def test_track_shows_public_timeline_only(engine, city):
    number = _report(
        engine, contact=Contact(name="Secret Name", email="s@example.ro", consent=True)
    )
    add_note(engine, "testville", number, CLERK, "internal remark")
    add_note(engine, "testville", number, CLERK, "Echipa vine mâine", public=True)
    perform(engine, "testville", number, "resolved", CLERK, text="Plombat")
    view = tracking.track(engine, number.lower())
    assert view["registry_number"] == number
    assert [e["kind"] for e in view["timeline"]] == ["created", "public_update", "resolved"]
    assert view["resolution_text"] == "Plombat"
    flat = repr(view)
    for secret in ("Secret Name", "s@example.ro", "internal remark", "ana"):
        assert secret not in flat
    with pytest.raises(ValidationError):
        tracking.track(engine, "not a number")
    with pytest.raises(NotFoundError):
        tracking.track(engine, "TST-2026-999999")


def test_a_photo_proposes_where_it_was_taken_inside_the_city_only(engine, city):
    from sesizari.intake import photo_place
    from tests.test_inbox import _gps_jpeg
    from tests.test_photos import _leaky_jpeg

    inside = _gps_jpeg(TEST_LAT + 0.002, TEST_LON + 0.001)
    elsewhere = _gps_jpeg(44.4268, 26.1025)  # Bucharest, not Testville
    assert photo_place(engine, "testville", [_leaky_jpeg(), elsewhere, inside]) == pytest.approx(
        (TEST_LAT + 0.002, TEST_LON + 0.001), abs=1e-6)
    assert photo_place(engine, "testville", [elsewhere, b"", b"not a picture"]) is None
    assert photo_place(engine, "testville", []) is None

"""Filters filter, scope, validate, and never let a value into the SQL text."""

from __future__ import annotations

from datetime import date, timedelta

import geopandas as gpd
import pytest
import sqlalchemy as sa

from sesizari.errors import ValidationError
from sesizari.queries import (
    Filters,
    backlog_ageing,
    categories,
    cities,
    city_view,
    clusters,
    departments,
    district_names,
    hexagons,
    kpis,
    points,
    resolution_stats,
)
from sesizari.queries.filters import covers_history, filtered_sql, read_frame
from tests import raw_tables as raw
from tests.conftest import DEMO_AS_OF, TEST_BOUNDARY

INJECTION = "x'); DROP TABLE incidents; --"


def _registry(engine, filters: Filters) -> set[str]:
    return set(points(engine, filters, limit=1_000_000, include_sensitive=True)["registry_number"])


@pytest.mark.parametrize(
    "narrow",
    [
        {"categories": ("pothole", "street_light")},
        {"departments": ("water",)},
        {"statuses": ("new", "in_progress")},
        {"districts": ("Centru", "Nord")},
        {"department": "sanitation"},
        {"start": date(2026, 2, 1), "end": date(2026, 4, 1)},
    ],
    ids=lambda d: "-".join(d),
)
def test_filters_return_a_subset(demo_engine, narrow):
    everything = _registry(demo_engine, Filters("lugoj"))
    subset = _registry(demo_engine, Filters("lugoj", **narrow))
    assert subset and subset < everything
    inc = raw.incidents(demo_engine, "lugoj")
    column = {
        "categories": "category_code",
        "departments": "department_code",
        "statuses": "status",
        "districts": "district",
        "department": "department_code",
    }
    for key, value in narrow.items():
        if key in column:
            allowed = {value} if isinstance(value, str) else set(value)
            expected = set(inc.loc[inc[column[key]].isin(allowed), "registry_number"])
            assert subset == expected
    stats = resolution_stats(demo_engine, Filters("lugoj", **narrow))
    assert stats["n"].sum() == len(subset)
    assert hexagons(demo_engine, Filters("lugoj", **narrow), 300)["n"].sum() == len(subset)


def test_filters_combine_with_and(demo_engine):
    both = _registry(demo_engine, Filters("lugoj", categories=("pothole",), districts=("Centru",)))
    cat = _registry(demo_engine, Filters("lugoj", categories=("pothole",)))
    dist = _registry(demo_engine, Filters("lugoj", districts=("Centru",)))
    assert both == cat & dist


@pytest.mark.parametrize("field", ["categories", "departments", "statuses", "districts"])
def test_injection_payload_returns_empty_results(demo_engine, field):
    filters = Filters("lugoj", **{field: (INJECTION,)})
    assert points(demo_engine, filters, limit=10).empty
    assert resolution_stats(demo_engine, filters).empty
    assert hexagons(demo_engine, filters, 300).empty
    assert clusters(demo_engine, filters, 50, 3).empty
    assert kpis(demo_engine, filters, now=DEMO_AS_OF).loc["open", "value"] == 0
    assert backlog_ageing(demo_engine, filters, now=DEMO_AS_OF).empty
    scoped = Filters("lugoj", department=INJECTION)
    assert points(demo_engine, scoped, limit=10).empty
    assert len(raw.incidents(demo_engine, "lugoj")) > 0  # the table is still there


def test_unknown_city_is_a_clear_error(demo_engine):
    with pytest.raises(ValidationError, match="unknown city 'atlantis'; known cities"):
        points(demo_engine, Filters("atlantis"), limit=10)
    with pytest.raises(ValidationError, match="unknown city"):
        categories(demo_engine, INJECTION)


def test_filters_validate_their_values():
    with pytest.raises(ValidationError, match="city"):
        Filters("")
    with pytest.raises(ValidationError, match="range is empty"):
        Filters("lugoj", start=date(2026, 5, 1), end=date(2026, 5, 1))
    with pytest.raises(ValidationError, match="text values"):
        Filters("lugoj", categories=(1,))
    f = Filters("lugoj", categories=["pothole"], districts="Centru")
    assert f.categories == ("pothole",) and f.districts == ("Centru",)
    assert hash(f) == hash(Filters("lugoj", categories=("pothole",), districts=("Centru",)))
    assert f.without_dates() == f


def test_selectors_list_codes_and_both_names(demo_engine):
    assert set(cities(demo_engine)["slug"]) == {"lugoj", "alba-iulia"}
    cats = categories(demo_engine, "lugoj")
    raw_cats = raw.read(
        demo_engine,
        "SELECT c.code FROM categories c JOIN cities ci USING (city_id) WHERE ci.slug = 'lugoj'",
    )
    assert sorted(cats["code"]) == sorted(raw_cats["code"])
    assert {"code", "name_ro", "name_en", "department_code", "target_hours"} <= set(cats.columns)
    deps = departments(demo_engine, "alba-iulia")
    assert {"code", "name_ro", "name_en"} <= set(deps.columns) and len(deps) == 8
    assert district_names(demo_engine, "lugoj") == sorted(
        raw.incidents(demo_engine, "lugoj")["district"].dropna().unique()
    )


def test_each_read_of_the_filtered_set_filters_the_same(demo_engine):
    """f, f2, f3 are the same set: a query reading it three ways sees one population."""
    query = filtered_sql(
        """
SELECT (SELECT count(*) FROM f) AS a, (SELECT count(*) FROM f2) AS b,
       (SELECT count(*) FROM f3) AS c,
       (SELECT count(*) FROM f3 JOIN f USING (incident_id)) AS both
""",
        reads=3,
    )
    filters = Filters("lugoj", categories=("pothole",), start=date(2026, 2, 1))
    row = read_frame(demo_engine, query, filters.params()).iloc[0]
    assert row["a"] == row["b"] == row["c"] == row["both"]
    assert 0 < row["a"] < len(raw.incidents(demo_engine, "lugoj"))
    with pytest.raises(ValueError, match="at least 1"):
        filtered_sql("SELECT 1", reads=0)


def test_the_planner_sees_the_date_range(demo_engine):
    """The bounds are bound values in the city's zone (read with the session
    settings), so PostgreSQL knows that a range over the whole history selects
    every incident, and plans for that many; with the zone read from the
    joined city row it guessed a few, whatever the range."""
    filters = Filters("alba-iulia", start=date(2020, 1, 1), end=date(2027, 1, 1))
    query = filtered_sql("SELECT f.incident_id FROM f")
    n = len(read_frame(demo_engine, query, filters.params()))
    explain = sa.text("EXPLAIN (FORMAT JSON) " + query.text)
    estimate = read_frame(demo_engine, explain, filters.params()).iloc[0, 0][0]["Plan"]["Plan Rows"]
    assert n == len(raw.incidents(demo_engine, "alba-iulia")) > 0
    assert estimate > n / 2
    # The zone is the city's own; a caller may still give it.
    zone = sa.text("SELECT CAST(:tz AS text) AS tz")
    assert read_frame(demo_engine, zone, {"city": "lugoj"})["tz"].iloc[0] == "Europe/Bucharest"
    assert read_frame(demo_engine, zone, {"city": "lugoj", "tz": "UTC"})["tz"].iloc[0] == "UTC"


def test_analytics_settings_last_one_transaction(demo_engine):
    """No JIT, no parallel workers, 64 MB to sort in a query's transaction, defaults after it."""
    query = sa.text(
        "SELECT current_setting('jit') AS jit,"
        " current_setting('max_parallel_workers_per_gather') AS workers,"
        " current_setting('work_mem') AS work_mem"
    )
    with demo_engine.connect() as conn:
        before = conn.execute(query).one()
        conn.commit()
        inside = read_frame(conn, query, {}).iloc[0]
        conn.commit()
        after = conn.execute(query).one()
    assert tuple(inside) == ("off", "0", "64MB")
    assert tuple(after) == tuple(before) != ("off", "0", "64MB")
    # On an Engine, each call has its own connection and transaction.
    assert tuple(read_frame(demo_engine, query, {}).iloc[0]) == ("off", "0", "64MB")


def test_covers_history_compares_the_range_with_the_first_and_last_incident(demo_engine):
    """A range covers the history when its local midnights hold every incident."""
    inc = raw.incidents(demo_engine, "lugoj")
    first, last = inc["local_created"].min().date(), inc["local_created"].max().date()
    day = timedelta(days=1)
    assert covers_history(demo_engine, Filters("lugoj"))
    assert covers_history(demo_engine, Filters("lugoj", start=first, end=last + day))
    assert covers_history(demo_engine, Filters("lugoj", start=first - 9 * day))
    assert covers_history(demo_engine, Filters("lugoj", end=last + day, categories=("pothole",)))
    assert not covers_history(demo_engine, Filters("lugoj", start=first + day))
    assert not covers_history(demo_engine, Filters("lugoj", end=last))
    assert not covers_history(demo_engine, Filters("lugoj", start=first, end=last))


def test_planner_settings_last_one_query(demo_engine):
    """A query's own planner settings (the clusters' grid turns merge joins
    off) apply to it alone: the caller's next query in the same transaction
    plans as before."""
    query = sa.text("SELECT current_setting('enable_mergejoin') AS m")
    with demo_engine.connect() as conn:
        assert read_frame(conn, query, {}, planner={"enable_mergejoin": "off"})["m"][0] == "off"
        assert read_frame(conn, query, {})["m"][0] == "on"
        assert conn.execute(query).scalar_one() == "on"


def test_city_view_is_the_centre_of_the_incidents(demo_engine):
    """The map opens on the mean of the incidents in metres (Stereo70), not the boundary's."""
    inc = raw.incidents(demo_engine, "lugoj")
    points = gpd.GeoSeries(gpd.points_from_xy(inc["lon"], inc["lat"]), crs=4326).to_crs(3844)
    mean = gpd.GeoSeries(gpd.points_from_xy([points.x.mean()], [points.y.mean()]), crs=3844)
    expected = mean.to_crs(4326).iloc[0]
    got = city_view(demo_engine, "lugoj")
    assert got["longitude"] == pytest.approx(expected.x, abs=1e-9)
    assert got["latitude"] == pytest.approx(expected.y, abs=1e-9)


def test_city_view_without_incidents_is_the_boundary_centre(engine, city):
    got = city_view(engine, "testville")
    assert got["longitude"] == pytest.approx(TEST_BOUNDARY.centroid.x, abs=1e-9)
    assert got["latitude"] == pytest.approx(TEST_BOUNDARY.centroid.y, abs=1e-9)


def test_read_arrays_gives_numpy_arrays_and_refuses_nulls(demo_engine):
    import numpy as np

    from sesizari.queries.filters import read_arrays

    got = read_arrays(
        demo_engine,
        sa.text(
            "SELECT ARRAY[1, -2, 2147483647] AS i4, ARRAY[CAST(-1 AS int8) << 40, 3] AS i8,"
            " CAST(ARRAY[0.5, -1e300] AS float8[]) AS f8,"
            " (SELECT array_agg(g) FROM generate_series(1, 0) g) AS none,"
            " CAST(:city AS text) AS city"
        ),
        {"city": "lugoj"},
    )
    assert got["i4"].tolist() == [1, -2, 2147483647]
    assert got["i8"].tolist() == [-(1 << 40), 3]
    assert got["f8"].tolist() == [0.5, -1e300]
    assert isinstance(got["none"], np.ndarray) and got["none"].size == 0
    assert got["city"] == "lugoj"
    # Copies in the machine's byte order: psycopg hands the loader a view of
    # the query's result, which it frees with the cursor.
    for name, dtype in (("i4", np.int32), ("i8", np.int64), ("f8", np.float64)):
        assert got[name].flags.owndata and got[name].dtype == dtype, name
    with pytest.raises(ValueError, match="without NULLs"):
        read_arrays(demo_engine, sa.text("SELECT ARRAY[1, NULL] AS a"), {})

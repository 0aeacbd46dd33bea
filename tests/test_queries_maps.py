"""Map layers against independent geometry: hexagon counts, DBSCAN, Gi*, points."""

from __future__ import annotations

from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from scipy import stats
from sklearn.cluster import DBSCAN

from sesizari.errors import ValidationError
from sesizari.queries import (
    Filters,
    clusters,
    count_incidents,
    district_boundaries,
    districts_geojson,
    hexagons,
    hotspots_gi,
    points,
)
from sesizari.queries.filters import read_frame
from sesizari.queries.hotspots import _GRID_COUNTS
from sesizari.queries.maps import _HEXAGONS, DASHBOARD_CLUSTER_EPS_M, grid_frame
from tests import raw_tables as raw
from tests.conftest import DEMO_AS_OF
from tests.test_queries_resolution import FILTER_IDS, FILTERS, _select


def _points_gdf(inc: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(inc, geometry=gpd.points_from_xy(inc["lon"], inc["lat"]), crs=4326)


@pytest.mark.parametrize("size_m", [150, 250, 400])  # 250: the stored cells (hex250)
def test_hexagon_counts_match_points_in_polygons(demo_engine, size_m):
    filters = Filters("lugoj", categories=("pothole", "garbage", "street_light"))
    hexes = hexagons(demo_engine, filters, size_m)
    inc = raw.incidents(demo_engine, "lugoj")
    inc = inc[inc["category_code"].isin(filters.categories)]
    joined = gpd.sjoin(_points_gdf(inc), hexes[["i", "j", "geometry"]], predicate="within")
    assert joined["incident_id"].is_unique  # each incident in exactly one returned cell
    assert len(joined) == len(inc) == hexes["n"].sum()
    per_cell = joined.groupby(["i", "j"]).size()
    got = hexes.set_index(["i", "j"])["n"]
    pd.testing.assert_series_equal(got.sort_index(), per_cell.sort_index(), check_names=False)
    opened = joined[joined["status"].isin(raw.OPEN)].groupby(["i", "j"]).size()
    assert (hexes.set_index(["i", "j"])["n_open"] == opened.reindex(got.index, fill_value=0)).all()
    assert (hexes["n"] > 0).all()
    # Regular hexagons of the requested edge length (area 3*sqrt(3)/2 * s^2) in Stereo70.
    area = hexes.to_crs(3844).area
    assert np.allclose(area, 3 * np.sqrt(3) / 2 * size_m**2, rtol=1e-3)
    assert all(len(p) == 7 for p in hexes["polygon"])


def test_hexagon_payload_is_bounded_by_cells_not_incidents(demo_engine):
    hexes = hexagons(demo_engine, Filters("alba-iulia"), 500)
    assert len(hexes) < 400
    assert hexes["n"].sum() == len(raw.incidents(demo_engine, "alba-iulia"))


def test_hexagon_size_is_validated(demo_engine):
    with pytest.raises(ValidationError, match="hexagon size"):
        hexagons(demo_engine, Filters("lugoj"), 1)


@pytest.mark.parametrize(("eps", "minpts"), [(60, 6), (120, 10)])
def test_clusters_match_sklearn_dbscan(demo_engine, eps, minpts):
    got = clusters(demo_engine, Filters("alba-iulia"), eps_m=eps, min_points=minpts)
    inc = raw.incidents(demo_engine, "alba-iulia")
    xy = _points_gdf(inc).to_crs(3844)
    labels = (
        DBSCAN(eps=eps, min_samples=minpts)
        .fit(np.column_stack([xy.geometry.x, xy.geometry.y]))
        .labels_
    )
    inc = inc.assign(label=labels)[labels >= 0]

    def mode(values: pd.Series) -> str | None:
        counts = values.dropna().value_counts()
        if counts.empty:
            return None
        return sorted(counts[counts == counts.max()].index)[0]

    expected = (
        inc.groupby("label")
        .agg(
            n=("incident_id", "size"),
            n_open=("status", lambda s: s.isin(raw.OPEN).sum()),
            lon=("lon", "mean"),
            lat=("lat", "mean"),
            dominant_category=("category_code", mode),
            dominant_district=("district", mode),
        )
        .sort_values(["n", "lon"], ascending=[False, True])
        .reset_index(drop=True)
    )
    assert len(got) == len(expected) > 0
    cols = ["n", "n_open", "dominant_category", "dominant_district"]
    pd.testing.assert_frame_equal(got[cols], expected[cols], check_dtype=False)
    assert np.allclose(got[["lon", "lat"]], expected[["lon", "lat"]], atol=1e-9)
    assert list(got["cluster"]) == list(range(1, len(got) + 1))
    assert got.geometry.geom_type.isin(["Polygon", "LineString", "Point"]).all()


@pytest.mark.parametrize(
    ("eps", "minpts", "filters"),
    [
        (60, 5, Filters("alba-iulia")),  # the default grid's rollup (migration 0017)
        (60, 3, Filters("alba-iulia", start=date(2025, 12, 15), end=date(2026, 5, 10))),
        (120, 10, Filters("alba-iulia")),
    ],
    ids=["rollup", "dates", "other-distance"],
)
def test_grid_clusters_match_an_independent_grid_dbscan(demo_engine, eps, minpts, filters):
    """Large selections use the grid approximation: checked against scipy's labelling."""
    from scipy import ndimage

    got = clusters(demo_engine, filters, eps, minpts, exact_limit=0)
    assert set(got["method"]) == {"grid"}
    inc = _select(raw.incidents(demo_engine, "alba-iulia"), filters)
    xy = _points_gdf(inc).to_crs(3844)
    side = eps / np.sqrt(2)
    cx = np.floor(xy.geometry.x.to_numpy() / side).astype(int)
    cy = np.floor(xy.geometry.y.to_numpy() / side).astype(int)
    x0, y0 = cx.min() - 1, cy.min() - 1
    counts = np.zeros((cx.max() - x0 + 2, cy.max() - y0 + 2), dtype=int)
    np.add.at(counts, (cx - x0, cy - y0), 1)
    core = counts >= minpts
    labels, _ = ndimage.label(core, structure=np.ones((3, 3), dtype=int))
    # A sparse cell touching core cells joins the first core neighbour in
    # (dx, dy) order: west to east, then south to north.
    member = labels.copy()
    padded = np.pad(labels, 1)
    w, h = labels.shape
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx or dy:
                neighbour = padded[1 + dx : 1 + dx + w, 1 + dy : 1 + dy + h]
                take = (member == 0) & ~core & (counts > 0) & (neighbour > 0)
                member[take] = neighbour[take]
    point_label = member[cx - x0, cy - y0]
    inc = inc.assign(label=point_label, x=xy.geometry.x, y=xy.geometry.y)
    inc = inc[inc["label"] > 0]
    by = inc.groupby("label")
    # The most frequent category and district (ties: the first by code or
    # name), and the mean position of each cluster's incidents.
    def top(col: str) -> pd.Series:
        return (
            inc.dropna(subset=[col])
            .groupby(["label", col]).size().rename("k").reset_index()
            .sort_values(["label", "k", col], ascending=[True, False, True])
            .drop_duplicates("label").set_index("label")[col]
        )  # fmt: skip

    centre = gpd.GeoSeries(gpd.points_from_xy(by["x"].mean(), by["y"].mean()), crs=3844)
    centre = centre.to_crs(4326)
    # The hull of each cluster: of the squares of its cells, in EPSG:3844.
    cells = inc.assign(cx=np.floor(inc["x"] / side), cy=np.floor(inc["y"] / side))
    cells = cells.drop_duplicates(["label", "cx", "cy"])
    hulls = pd.Series(
        {
            label: shapely.union_all(
                shapely.box(c["cx"] * side, c["cy"] * side, (c["cx"] + 1) * side,
                            (c["cy"] + 1) * side)
            ).convex_hull
            for label, c in cells.groupby("label")
        }
    )  # fmt: skip
    expected = pd.DataFrame(
        {
            "n": by.size(),
            "n_open": by["status"].apply(lambda s: s.isin(raw.OPEN).sum()),
            "lon": centre.x.to_numpy(),
            "lat": centre.y.to_numpy(),
            "dominant_category": top("category_code"),
            "dominant_district": top("district"),
            "hull": gpd.GeoSeries(hulls, crs=3844).to_crs(4326),
        }
    )
    expected = expected.sort_values(["n", "lon"], ascending=[False, True]).reset_index(drop=True)
    assert len(got) == len(expected) > 0
    cols = ["n", "n_open", "dominant_category", "dominant_district"]
    pd.testing.assert_frame_equal(got[cols], expected[cols], check_dtype=False)
    assert np.allclose(got[["lon", "lat"]], expected[["lon", "lat"]], atol=1e-7)
    assert list(got["cluster"]) == list(range(1, len(got) + 1))
    assert got.geometry.geom_type.isin(["Polygon"]).all()
    # Each hull is the convex hull of its cells (to the float noise of two
    # transformations) and holds the centre of its incidents.
    want = np.asarray(expected["hull"])
    have = np.asarray(got.geometry)
    off = shapely.area(shapely.symmetric_difference(have, want))
    assert (off < 1e-6 * shapely.area(want)).all()
    centres = shapely.points(got[["lon", "lat"]].to_numpy())
    assert shapely.covers(have, centres).all()


#: Selections the rollup of the default grid serves: no dates, any other filter.
ROLLUP_FILTERS = [
    Filters("alba-iulia"),
    Filters("lugoj", categories=("pothole", "garbage"), statuses=("resolved", "closed")),
    Filters("alba-iulia", districts=("Centru",), departments=("roads", "sanitation")),
    Filters("alba-iulia", department="roads"),
]


@pytest.mark.parametrize(
    "filters", ROLLUP_FILTERS, ids=["whole-city", "lugoj", "district", "scope"]
)
def test_the_cell_rollup_gives_the_incidents_clusters(demo_engine, filters):
    """Without dates the default grid's cells come from migration 0017's rollup."""
    params = filters.params() | {"eps": DASHBOARD_CLUSTER_EPS_M, "minpts": 2, "open": raw.OPEN}
    with demo_engine.connect() as conn:
        rollup, counted = (
            grid_frame(conn, params, s)
            .sort_values(["n", "lon"], ascending=[False, True]).reset_index(drop=True)
            for s in ("cells", "incidents")
        )  # fmt: skip
    assert len(rollup) == len(counted) > 0
    cols = ["n", "n_open", "dominant_category", "dominant_district"]
    pd.testing.assert_frame_equal(rollup[cols], counted[cols])
    assert np.allclose(rollup[["lon", "lat"]], counted[["lon", "lat"]], atol=1e-9)
    hulls = [shapely.from_wkb(rollup["wkb"]), shapely.from_wkb(counted["wkb"])]
    assert np.allclose(shapely.area(hulls[0]), shapely.area(hulls[1]), rtol=1e-6)


@pytest.mark.parametrize(
    "filters", ROLLUP_FILTERS, ids=["whole-city", "lugoj", "district", "scope"]
)
def test_the_hexagon_rollup_gives_the_incidents_counts(demo_engine, filters):
    """Without dates the 250 m hexagons' counts come from migration 0018's rollup."""
    params = filters.params() | {"size": 250.0, "open": raw.OPEN}
    for layer in (_HEXAGONS, _GRID_COUNTS):  # the density layer and Gi*'s grid
        rollup, counted = (read_frame(demo_engine, layer[s], params) for s in ("rollup", "stored"))
        assert rollup["n"].sum() > 0
        pd.testing.assert_frame_equal(rollup, counted)


def test_dates_that_leave_nothing_out_read_the_rollup(demo_engine):
    """A range over the whole history selects what no range does, so the
    clusters and the hexagons may (and do) come from their rollups; a range
    one day shorter must count the incidents.  Which source answered shows in PostgreSQL's count
    of the transaction's scans of the rollup."""
    inc = raw.incidents(demo_engine, "lugoj")
    first, last = inc["local_created"].min().date(), inc["local_created"].max().date()
    day = timedelta(days=1)
    ranges = {
        "all": Filters("lugoj", start=first, end=last + day),
        "cut": Filters("lugoj", start=first + day, end=last + day),
    }
    assert count_incidents(demo_engine, ranges["all"]) == len(inc)
    # The backend's scans of a rollup not yet flushed to the statistics:
    # they only grow within one transaction.
    reads = sa.text(
        "SELECT seq_scan + idx_scan FROM pg_stat_xact_user_tables WHERE relname = :t"
    )
    layers = {
        "incident_cells": lambda conn, f: clusters(conn, f, DASHBOARD_CLUSTER_EPS_M, 5,
                                                   exact_limit=0),
        "incident_hexes": lambda conn, f: hexagons(conn, f, 250),
    }  # fmt: skip
    got = {}
    for name, filters in ranges.items():
        for table, layer in layers.items():
            with demo_engine.connect() as conn:
                before = conn.execute(reads, {"t": table}).scalar_one()
                got[name, table] = layer(conn, filters)
                after = conn.execute(reads, {"t": table}).scalar_one()
                conn.rollback()
            assert (after > before) == (name == "all"), (name, table)
    whole = clusters(demo_engine, Filters("lugoj"), DASHBOARD_CLUSTER_EPS_M, 5, exact_limit=0)
    cols = ["n", "n_open", "dominant_category", "dominant_district"]
    pd.testing.assert_frame_equal(got["all", "incident_cells"][cols], whole[cols])
    whole = hexagons(demo_engine, Filters("lugoj"), 250)
    assert got["all", "incident_hexes"][["i", "j", "n", "n_open"]].equals(
        whole[["i", "j", "n", "n_open"]]
    )
    assert got["cut", "incident_hexes"]["n"].sum() == len(inc) - (
        inc["local_created"].dt.date == first
    ).sum()


def test_clusters_switch_to_the_grid_above_the_exact_limit(demo_engine):
    filters = Filters("lugoj")
    n = len(raw.incidents(demo_engine, "lugoj"))
    assert set(clusters(demo_engine, filters, 60, 6, exact_limit=n)["method"]) == {"exact"}
    assert set(clusters(demo_engine, filters, 60, 6, exact_limit=n - 1)["method"]) == {"grid"}


def test_points_columns_and_no_personal_data(demo_engine):
    filters = Filters("lugoj", categories=("sidewalk",))
    got = points(demo_engine, filters, limit=10_000, now=DEMO_AS_OF)
    assert list(got.columns) == [
        "registry_number", "category_code", "category_ro", "category_en",
        "status", "age_days", "lon", "lat",
    ]  # fmt: skip
    inc = raw.incidents(demo_engine, "lugoj")
    inc = inc[inc["category_code"] == "sidewalk"].set_index("registry_number")
    assert set(got["registry_number"]) == set(inc.index)
    age = (pd.Timestamp(DEMO_AS_OF) - inc["created_at"]).dt.total_seconds() / 86400
    got = got.set_index("registry_number")
    assert np.allclose(got["age_days"], age.loc[got.index])
    assert np.allclose(got["lon"], inc.loc[got.index, "lon"])


@pytest.mark.parametrize("filters", FILTERS, ids=FILTER_IDS)
def test_count_matches_pandas_with_and_without_sensitive_categories(demo_engine, filters):
    """The count every layer asks first comes from the rollups: it must be ``f``'s count."""
    inc = _select(raw.incidents(demo_engine, filters.city), filters)
    assert count_incidents(demo_engine, filters) == len(inc) > 0
    hidden = int(inc["sensitive"].sum())
    assert hidden > 0
    assert count_incidents(demo_engine, filters, include_sensitive=False) == len(inc) - hidden


def test_points_refuse_above_limit(demo_engine):
    filters = Filters("lugoj", categories=("pothole",))
    n = len(points(demo_engine, filters, limit=100_000))
    assert n > 10
    assert points(demo_engine, filters, limit=n - 1) is None
    assert len(points(demo_engine, filters, limit=n)) == n


def test_points_leave_out_sensitive_categories(demo_engine):
    filters = Filters("lugoj", categories=("public_order",))
    assert points(demo_engine, filters, limit=10_000).empty
    inc = raw.incidents(demo_engine, "lugoj")
    shown = points(demo_engine, filters, limit=10_000, include_sensitive=True)
    assert len(shown) == (inc["category_code"] == "public_order").sum() > 0


def test_district_layers(demo_engine):
    gdf = district_boundaries(demo_engine, "lugoj")
    names = raw.read(
        demo_engine,
        "SELECT d.name FROM districts d JOIN cities c USING (city_id) WHERE c.slug = 'lugoj'",
    )["name"]
    assert sorted(gdf["name"]) == sorted(names)
    assert gdf.crs.to_epsg() == 4326 and gdf.is_valid.all()
    fc = districts_geojson(demo_engine, "lugoj")
    assert fc["type"] == "FeatureCollection"
    assert sorted(f["properties"]["name"] for f in fc["features"]) == sorted(names)


def _gi_star(y: np.ndarray, x: np.ndarray, yy: np.ndarray, size_m: float) -> np.ndarray:
    """Getis-Ord Gi* (binary weights, self included) from the textbook formula."""
    d = np.hypot(x[:, None] - x[None, :], yy[:, None] - yy[None, :])
    w = (d <= np.sqrt(3) * size_m * 1.1).astype(float)  # includes the diagonal (d = 0)
    n = len(y)
    mean, s = y.mean(), np.sqrt((y**2).mean() - y.mean() ** 2)
    wsum = w.sum(axis=1)
    num = w @ y - mean * wsum
    den = s * np.sqrt((n * (w**2).sum(axis=1) - wsum**2) / (n - 1))
    return num / den


@pytest.mark.parametrize(
    ("slug", "size_m"), [("lugoj", 300), ("alba-iulia", 400), ("alba-iulia", 250)]
)
def test_gi_star_matches_textbook_formula(demo_engine, slug, size_m):
    got = hotspots_gi(demo_engine, Filters(slug), size_m)
    inc = raw.incidents(demo_engine, slug)
    assert got["n"].sum() == len(inc)
    assert (got["n"] == 0).any()  # empty cells inside the boundary take part
    boundary = raw.read(
        demo_engine, "SELECT ST_AsText(boundary) AS wkt FROM cities WHERE slug = :s", s=slug
    )
    city = gpd.GeoSeries.from_wkt(boundary["wkt"], crs=4326).to_crs(3844).iloc[0]
    cells = got.to_crs(3844)
    assert cells.intersects(city).all()
    centres = cells.centroid
    expected = _gi_star(got["n"].to_numpy(float), centres.x.to_numpy(), centres.y.to_numpy(),
                        size_m)  # fmt: skip
    assert np.allclose(got["z"], expected, atol=1e-6)
    p = 2 * stats.norm.sf(np.abs(expected))
    assert np.allclose(got["p"], p, atol=1e-9)
    hot99 = (expected > 0) & (p < 0.01)
    assert (got.loc[hot99, "class"] == "hot 99%").all() and hot99.any()
    ns = p >= 0.10
    assert (got.loc[ns, "class"] == "not significant").all()
    hot90 = (expected > 0) & (p >= 0.05) & (p < 0.10)
    assert (got.loc[hot90, "class"] == "hot 90%").all()


def test_gi_star_without_incidents_is_not_significant(engine, city):
    got = hotspots_gi(engine, Filters("testville"), 500)
    assert len(got) > 3 and (got["n"] == 0).all()
    assert (got["class"] == "not significant").all()


def _hex_cells(area, size_m: float) -> set[tuple[int, int]]:
    """The (i, j) of the flat-topped hexagons of edge ``size_m`` (centres at
    x = 1.5 s i, y = sqrt(3) s (j + (i mod 2) / 2)) that touch ``area``."""
    h = np.sqrt(3) * size_m
    minx, miny, maxx, maxy = area.bounds
    angles = np.arange(6) * np.pi / 3
    found = set()
    for i in range(int(minx // (1.5 * size_m)) - 1, int(maxx // (1.5 * size_m)) + 2):
        off = h / 2 if i % 2 else 0.0
        for j in range(int((miny - off) // h) - 1, int((maxy - off) // h) + 2):
            cx, cy = 1.5 * size_m * i, h * j + off
            cell = shapely.Polygon(
                np.c_[cx + size_m * np.cos(angles), cy + size_m * np.sin(angles)]
            )
            if cell.intersects(area):
                found.add((i, j))
    return found


def test_stored_hexagon_grid_follows_the_boundary(engine, city):
    """The 250 m grid kept per city is the grid of its current boundary."""

    def stored() -> set[tuple[int, int]]:
        frame = raw.read(
            engine,
            "SELECT g.i, g.j FROM city_hex_grid g JOIN cities c USING (city_id)"
            " WHERE c.slug = 'testville'",
        )
        return set(zip(frame["i"], frame["j"], strict=True))

    def boundary3844():
        wkt = raw.read(
            engine, "SELECT ST_AsText(boundary) AS wkt FROM cities WHERE slug = 'testville'"
        )["wkt"]
        return gpd.GeoSeries.from_wkt(wkt, crs=4326).to_crs(3844).iloc[0]

    first = stored()
    assert first == _hex_cells(boundary3844(), 250.0)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE cities SET boundary = ST_Multi(ST_MakeEnvelope("
                "21.88, 45.68, 21.91, 45.70, 4326)) WHERE slug = 'testville'"
            )
        )
    second = stored()
    assert second == _hex_cells(boundary3844(), 250.0)
    assert 0 < len(second) < len(first)
    # The layer uses it: every cell drawn touches the new boundary.
    cells = hotspots_gi(engine, Filters("testville"), 250).to_crs(3844)
    assert {(int(i), int(j)) for i, j in zip(cells["i"], cells["j"], strict=True)} == second


def test_a_layer_reads_its_rollup_in_the_snapshot_that_chose_it(pg_cluster, demo_copy):
    """Whether a date range covers the city's history and the rollup read it
    chooses share one snapshot.  Another session commits an incident created
    the day before the range right after a layer asked: that incident must
    not appear in the layer (it did when the rollup was read in a later
    snapshot, which counts every date)."""
    from sqlalchemy import event

    from sesizari import db

    engine = db.make_engine(demo_copy)
    try:
        inc = raw.incidents(engine, "lugoj")
        first, last = inc["local_created"].min().date(), inc["local_created"].max().date()
        filters = Filters("lugoj", start=first, end=last + timedelta(days=1))
        # An incident in the densest cell of the clusters' grid, so it counts
        # in a cluster too.
        xy = raw.read(
            engine,
            "SELECT i.x3844, i.y3844, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat"
            " FROM incidents i JOIN cities c USING (city_id) WHERE c.slug = 'lugoj'",
        )
        side = DASHBOARD_CLUSTER_EPS_M / np.sqrt(2)
        cell = xy.groupby([np.floor(xy["x3844"] / side), np.floor(xy["y3844"] / side)])
        spot = xy.loc[cell["lon"].idxmin().loc[cell.size().idxmax()]]
        layers = {
            "hexagons": lambda: hexagons(engine, filters, 250)["n"].sum(),
            "hot spots": lambda: hotspots_gi(engine, filters, 250)["n"].sum(),
            "clusters": lambda: clusters(engine, filters, DASHBOARD_CLUSTER_EPS_M, 5,
                                         exact_limit=0)["n"].sum(),
        }  # fmt: skip
        before = {name: layer() for name, layer in layers.items()}
        inserted: list[str] = []

        def insert_after_the_question(conn, cursor, statement, *args) -> None:
            if "AS covers" not in statement or inserted:
                return
            number = f"LUG-2000-{len(inserted) + 1:06d}"
            inserted.append(number)
            with engine.begin() as other:
                other.execute(
                    sa.text(
                        "INSERT INTO incidents (city_id, registry_number, category_id,"
                        " department_id, channel, geom, description, created_at)"
                        " SELECT c.city_id, :number, c.category_id, c.default_department_id,"
                        " 'phone', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'Din arhivă',"
                        " (CAST(:day AS date) + time '12:00') AT TIME ZONE 'Europe/Bucharest'"
                        " FROM categories c JOIN cities y USING (city_id)"
                        " WHERE y.slug = 'lugoj' AND c.code = 'pothole'"
                    ),
                    {"number": number, "lon": float(spot["lon"]), "lat": float(spot["lat"]),
                     "day": first - timedelta(days=1)},
                )  # fmt: skip

        got = {}
        for name, layer in layers.items():
            inserted.clear()
            event.listen(engine, "after_cursor_execute", insert_after_the_question)
            try:
                got[name] = layer()
            finally:
                event.remove(engine, "after_cursor_execute", insert_after_the_question)
            assert inserted, name
            with engine.begin() as conn:  # the range covers the history again
                conn.execute(
                    sa.text("DELETE FROM incidents WHERE registry_number = ANY(:n)"),
                    {"n": list(inserted)},
                )
        assert got == before
    finally:
        engine.dispose()


def test_the_default_grid_side_is_the_rollups_to_the_bit():
    """The rollup's triggers (migration 0017) write the cell side as the
    decimal GRID_CELL_M; the incidents path computes eps / sqrt(2) in numpy.
    Both must give the same float8, or a selection with dates would put its
    incidents in other cells than the rollup does."""
    from sesizari.queries.maps import GRID_CELL_M

    side = np.float64(DASHBOARD_CLUSTER_EPS_M) / np.sqrt(np.float64(2))
    assert np.float64(GRID_CELL_M) == side
    assert repr(float(side)) == GRID_CELL_M

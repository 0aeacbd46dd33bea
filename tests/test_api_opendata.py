"""Open data: the public query, its three file formats, snapping and CSV injection."""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import pytest
import sqlalchemy as sa
from defusedxml import ElementTree as SafeET
from pyproj import Transformer
from shapely.geometry import box

from sesizari import catalog, opendata
from sesizari.errors import ValidationError
from sesizari.incidents import (
    Actor,
    NewIncident,
    create_incident,
    perform,
    set_description_public,
)
from tests.api_support import client
from tests.conftest import TEST_BOUNDARY, TEST_LAT, TEST_LON

STAFF = Actor("ana", None, "staff")
TO_3844 = Transformer.from_crs(4326, 3844, always_xy=True)


def _report(engine, category="pothole", lon=TEST_LON, lat=TEST_LAT, description="Groapă"):
    return create_incident(
        engine,
        NewIncident(
            city="testville",
            category=category,
            latitude=lat,
            longitude=lon,
            description=description,
        ),
    ).registry_number


def _on_grid(lon: float, lat: float, size: float = 100.0) -> bool:
    x, y = TO_3844.transform(lon, lat)
    return all(abs(v / size - round(v / size)) * size < 1e-3 for v in (x, y))


def _inside(lon: float, lat: float) -> bool:
    from shapely.geometry import Point

    return TEST_BOUNDARY.buffer(1e-9).covers(Point(lon, lat))


def _all_formats(engine) -> dict[str, list[tuple[str, float, float]]]:
    """(registry number, lon, lat) of every incident, as each public output shows it."""
    api = client(engine)
    out: dict[str, list[tuple[str, float, float]]] = {}
    gdf = opendata.public_incidents(engine, "testville")
    out["query"] = [(n, g.x, g.y) for n, g in zip(gdf.registry_number, gdf.geometry, strict=True)]
    doc = json.loads(api.get("/opendata/incidents.geojson").content)
    out["geojson"] = [
        (f["properties"]["registry_number"], *f["geometry"]["coordinates"]) for f in doc["features"]
    ]
    rows = csv.DictReader(io.StringIO(api.get("/opendata/incidents.csv").text))
    out["csv"] = [(r["registry_number"], float(r["lon"]), float(r["lat"])) for r in rows]
    pq = gpd.read_parquet(io.BytesIO(api.get("/opendata/incidents.parquet").content))
    out["parquet"] = [(n, g.x, g.y) for n, g in zip(pq.registry_number, pq.geometry, strict=True)]
    out["open311"] = sorted(
        (x["service_request_id"], x["long"], x["lat"]) for x in api.get("/requests.json").json()
    )
    xml = SafeET.fromstring(api.get("/requests.xml").content)
    out["open311.xml"] = sorted(
        (r.findtext("service_request_id"), float(r.findtext("long")), float(r.findtext("lat")))
        for r in xml.iter("request")
    )
    return out


def test_public_columns_are_the_allow_list(engine, city):
    _report(engine)
    gdf = opendata.public_incidents(engine, "testville")
    assert tuple(gdf.columns) == opendata.PUBLIC_COLUMNS
    assert gdf.crs.to_epsg() == 4326
    assert set(opendata.PUBLIC_COLUMNS) | {"lon", "lat"} == set(opendata.DATA_DICTIONARY)
    assert all(set(d) == {"ro", "en"} for d in opendata.DATA_DICTIONARY.values())
    assert "CC BY 4.0" in opendata.LICENCE
    row = gdf.iloc[0]
    assert row.category == "pothole" and row.category_name_en == "Pothole"
    assert row.department == "Drumuri" and row.status == "new"
    assert row.geometry.x == pytest.approx(TEST_LON) and row.geometry.y == pytest.approx(TEST_LAT)


def test_empty_city_gives_an_empty_frame_in_every_format(engine, city):
    gdf = opendata.public_incidents(engine, "testville")
    assert len(gdf) == 0 and tuple(gdf.columns) == opendata.PUBLIC_COLUMNS
    assert json.loads(opendata.to_geojson(gdf))["features"] == []
    assert opendata.to_csv(gdf).decode().startswith("registry_number,")
    assert len(gpd.read_parquet(io.BytesIO(opendata.to_geoparquet(gdf)))) == 0


def test_filters(engine, city):
    with engine.begin() as conn:
        catalog.create_district(conn, city["city_id"], "Vest", box(21.85, 45.64, 21.90, 45.74))
    west = _report(engine, lon=21.87)
    east = _report(engine, category="street_light", lon=21.93)
    perform(engine, "testville", east, "resolved", STAFF, text="Reparat")

    def numbers(**kw):
        return list(opendata.public_incidents(engine, "testville", **kw).registry_number)

    assert numbers() == [west, east]
    assert numbers(categories=["street_light"]) == [east]
    assert numbers(statuses=["resolved"]) == [east]
    assert numbers(districts=["Vest"]) == [west]
    assert numbers(limit=1) == [west]
    gdf = opendata.public_incidents(engine, "testville")
    created = gdf.created_at.iloc[1]
    assert numbers(start=created) == [east]
    assert numbers(end=created) == [west]
    assert gdf.resolution_text.iloc[1] == "Reparat"
    assert gdf.district.iloc[0] == "Vest" and gdf.district.iloc[1] is None
    with pytest.raises(ValidationError) as err:
        opendata.public_incidents(engine, "testville", statuses=["lost"])
    assert err.value.field == "status"
    # A category or district the city does not have is a typo, not "no data":
    # the answer names the ones it has (it was an empty file).
    with pytest.raises(ValidationError) as err:
        opendata.public_incidents(engine, "testville", categories=["street_light", "potholes"])
    assert err.value.field == "category"
    assert str(err.value) == ("category: testville has no category 'potholes'; it has: noise,"
                              " pothole, street_light")  # fmt: skip
    api = client(engine)
    r = api.get("/opendata/incidents.csv?category=potholes", headers={"Accept-Language": "ro"})
    assert r.status_code == 400 and "Testville nu are 'potholes'" in r.text
    r = api.get("/opendata/incidents.geojson?district=Nord")
    assert r.status_code == 400 and "testville has no district 'Nord'; it has: Vest" in r.text


def test_hidden_description_is_not_published(engine, city):
    number = _report(engine, description="Vecinul Popescu a parcat pe trotuar")
    set_description_public(engine, "testville", number, False, STAFF)
    api = client(engine)
    assert opendata.public_incidents(engine, "testville").description.iloc[0] is None
    for url in (
        "/opendata/incidents.csv",
        "/opendata/incidents.geojson",
        "/requests.json",
        "/requests.xml",
        f"/requests/{number}.json",
    ):
        assert b"Popescu" not in api.get(url).content, url
    assert api.get("/requests.json").json()[0]["description"] is None
    set_description_public(engine, "testville", number, True, STAFF)
    assert b"Popescu" in api.get("/requests.json").content


def test_endpoints_serve_the_three_formats(engine, city):
    _report(engine)
    api = client(engine)
    expected_types = {
        "geojson": "application/geo+json",
        "csv": "text/csv",
        "parquet": "application/vnd.apache.parquet",
    }
    for fmt, media_type in expected_types.items():
        r = api.get(f"/opendata/incidents.{fmt}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith(media_type)
        assert "incidents-" in r.headers["content-disposition"]
        assert r.headers["content-disposition"].endswith(f'.{fmt}"')
    pq = gpd.read_parquet(io.BytesIO(api.get("/opendata/incidents.parquet").content))
    assert pq.crs.to_epsg() == 4326 and tuple(pq.columns) == opendata.PUBLIC_COLUMNS
    doc = api.get("/opendata/incidents.geojson").json()
    assert doc["type"] == "FeatureCollection"
    assert doc["features"][0]["geometry"]["type"] == "Point"
    assert doc["features"][0]["properties"]["created_at"].endswith("+00:00")
    formats = _all_formats(engine)
    assert len({tuple(v) for v in formats.values()}) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("start=soon", "start"),
        ("limit=0", "limit"),
        ("start=2026-02-01&end=2026-01-01", "start"),
        ("jurisdiction_id=nowhere", "jurisdiction_id"),
    ],
)
def test_opendata_bad_parameters(engine, city, query, field):
    r = client(engine).get(f"/opendata/incidents.csv?{query}")
    assert r.status_code in (400, 404)
    assert field in r.json()[0]["description"]


def test_opendata_unknown_format_is_400(engine, city):
    assert client(engine).get("/opendata/incidents.xlsx").status_code == 400


def test_csv_defuses_formulas(engine, city):
    evil = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"]
    numbers = [_report(engine, description=d) for d in evil]
    perform(engine, "testville", numbers[0], "resolved", STAFF, text="=1+2")
    _report(engine, description="Groapă normală; 3 - 2 = 1")
    rows = list(csv.DictReader(io.StringIO(client(engine).get("/opendata/incidents.csv").text)))
    by_number = {r["registry_number"]: r for r in rows}
    for number, text in zip(numbers, evil, strict=True):
        assert by_number[number]["description"] == "'" + text
    assert by_number[numbers[0]]["resolution_text"] == "'=1+2"
    assert rows[-1]["description"] == "Groapă normală; 3 - 2 = 1"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert float(rows[0]["lon"]) == pytest.approx(TEST_LON)


def test_csv_defuses_tab_and_carriage_return():
    """The domain strips descriptions; other text (district names...) may still start so."""
    gdf = gpd.GeoDataFrame(
        {"district": ["\tcmd", "\rcmd", "ok", None], "n": [-1.5, 2.0, 3.0, 4.0]},
        geometry=gpd.points_from_xy([21.9] * 4, [45.7] * 4),
        crs=4326,
    )
    rows = list(csv.DictReader(io.StringIO(opendata.to_csv(gdf).decode(), newline="")))
    assert [r["district"] for r in rows] == ["'\tcmd", "'\rcmd", "ok", ""]
    assert rows[0]["n"] == "-1.5"  # numbers are not text: nothing to defuse


def test_sensitive_points_are_snapped_to_the_grid_in_every_output(engine, city):
    offsets = [(0.0011, 0.0007), (-0.0123, 0.0231), (0.0301, -0.0199), (0.0, 0.0)]
    noise = [_report(engine, "noise", TEST_LON + dx, TEST_LAT + dy) for dx, dy in offsets]
    exact = _report(engine, "pothole", TEST_LON + 0.0011, TEST_LAT + 0.0007)
    formats = _all_formats(engine)
    assert len({tuple(v) for v in formats.values()}) == 1, formats
    points = {n: (lon, lat) for n, lon, lat in formats["query"]}
    for number, (dx, dy) in zip(noise, offsets, strict=True):
        lon, lat = points[number]
        assert _on_grid(lon, lat), (number, lon, lat)
        assert _inside(lon, lat)
        x0, y0 = TO_3844.transform(TEST_LON + dx, TEST_LAT + dy)
        x1, y1 = TO_3844.transform(lon, lat)
        assert abs(x1 - x0) <= 50 + 1e-6 and abs(y1 - y0) <= 50 + 1e-6
    assert points[exact] == pytest.approx((TEST_LON + 0.0011, TEST_LAT + 0.0007))
    assert not _on_grid(*points[exact])
    # The same export twice is identical.
    assert opendata.to_csv(opendata.public_incidents(engine, "testville")) == opendata.to_csv(
        opendata.public_incidents(engine, "testville")
    )


def test_snapped_points_stay_inside_the_city(engine, city):
    """Next to the boundary, the grid point may fall outside: the boundary's closest point wins."""
    lats = [45.641 + i * 0.0137 for i in range(7)]
    numbers = [_report(engine, "noise", 21.8500004, lat) for lat in lats]
    numbers += [_report(engine, "noise", 21.9499996, lat) for lat in lats]
    gdf = opendata.public_incidents(engine, "testville")
    moved = 0
    for geom in gdf.geometry:
        assert _inside(geom.x, geom.y), (geom.x, geom.y)
        moved += not _on_grid(geom.x, geom.y)
    assert 0 < moved < len(numbers)


def test_city_precision_setting(engine, city):
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE cities SET settings = jsonb_build_object('public_precision_m', 500)"
                " WHERE slug = 'testville'"
            )
        )
    _report(engine, "noise", TEST_LON + 0.0011, TEST_LAT + 0.0007)
    geom = opendata.public_incidents(engine, "testville").geometry.iloc[0]
    assert _on_grid(geom.x, geom.y, 500)

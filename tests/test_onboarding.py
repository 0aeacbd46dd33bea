"""A new city from its boundary file (`python -m sesizari city create`)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely.geometry import box, shape
from typer.testing import CliRunner

from sesizari import db
from sesizari.cli import app
from sesizari.demo.reference import CATEGORIES, DEPARTMENTS
from sesizari.errors import ValidationError
from tests.conftest import REPO, SHARED

BOUNDARIES = REPO / "data" / "cities" / "lugoj_alba_iulia.geojson"


@pytest.fixture
def cli(engine, monkeypatch):
    """Run ``python -m sesizari ...`` against the test's own empty database."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    db._engine_for.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, [str(a) for a in args])
    db.get_engine().dispose()
    db._engine_for.cache_clear()


def _create(cli, *extra):
    return cli(
        "city", "create", "--slug", "lugoj", "--name-ro", "Lugoj", "--name-en", "Lugoj",
        "--prefix", "LUG", "--boundary", BOUNDARIES, *extra,
    )  # fmt: skip


def _rows(engine, sql: str) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).all()


def test_a_city_from_the_real_boundary_file_with_its_catalogue(cli, engine, tmp_path: Path):
    lugoj = next(
        f for f in json.loads(BOUNDARIES.read_text())["features"]
        if f["properties"]["name"] == "Lugoj"
    )  # fmt: skip
    # Districts in Stereo70 (a common export of Romanian GIS): reprojected on the way in.
    west, south, east, north = shape(lugoj["geometry"]).bounds
    mid = (west + east) / 2
    halves = gpd.GeoDataFrame(
        {"name": ["Vest", "Est"]},
        geometry=[
            box(west, south, mid, north).intersection(shape(lugoj["geometry"])),
            box(mid, south, east, north).intersection(shape(lugoj["geometry"])),
        ],
        crs=4326,
    ).to_crs(3844)
    districts = tmp_path / "cartiere.gpkg"
    halves.to_file(districts)

    done = _create(cli, "--feature", "Lugoj", "--districts", districts)
    assert done.exit_code == 0, done.output
    assert f"{len(DEPARTMENTS)} departments, {len(CATEGORIES)} categories" in done.output
    assert "create-admin --city lugoj" in done.output
    (city,) = _rows(
        engine,
        "SELECT slug, registry_prefix, timezone, ST_Area(boundary::geography) / 1e6 AS km2,"
        " settings->>'resolution_photo_required' AS photo FROM cities",
    )
    assert (city.slug, city.registry_prefix, city.timezone) == ("lugoj", "LUG", "Europe/Bucharest")
    expected = gpd.GeoSeries([shape(lugoj["geometry"])], crs=4326).to_crs(3844).area[0] / 1e6
    assert abs(city.km2 - expected) < 0.5 and city.photo == "true"  # about 98 km2
    parts = _rows(engine, "SELECT name, ST_Area(geom::geography) / 1e6 AS km2 FROM districts")
    assert sorted(p.name for p in parts) == ["Est", "Vest"]
    assert abs(sum(p.km2 for p in parts) - city.km2) < 0.5
    routed = _rows(
        engine,
        "SELECT c.code, d.code FROM categories c JOIN departments d"
        " ON d.city_id = c.city_id AND d.department_id = c.default_department_id",
    )
    assert dict(routed) == {c.code: c.department for c in CATEGORIES}
    listed = cli("city", "list")
    assert listed.exit_code == 0 and "lugoj\tLugoj\tLUG\t0 incidents" in listed.output


def test_bad_input_is_named_and_leaves_nothing_behind(cli, engine, tmp_path: Path):
    two = _create(cli)  # the file holds two cities
    assert two.exit_code == 1 and (
        "2 areas in the file; pick one with --feature NAME (Alba Iulia, Lugoj)" in two.output)
    none = _create(cli, "--feature", "Timișoara")
    assert none.exit_code == 1 and "no area named 'Timișoara'" in none.output
    field = _create(cli, "--feature", "Lugoj", "--name-field", "nume")
    assert field.exit_code == 1 and "no field 'nume'" in field.output
    missing = _create(cli, "--feature", "Lugoj", "--districts", tmp_path / "nu-exista.geojson")
    assert missing.exit_code == 1 and "does not exist" in missing.output
    # Alba Iulia's outline as a "district" of Lugoj: refused, and the city with it.
    alba = tmp_path / "alba.geojson"
    gpd.read_file(BOUNDARIES).query("name == 'Alba Iulia'").to_file(alba, driver="GeoJSON")
    outside = _create(cli, "--feature", "Lugoj", "--districts", alba)
    assert outside.exit_code == 1 and "'Alba Iulia' lies outside" in outside.output
    unnamed = tmp_path / "fara-nume.geojson"
    gpd.GeoDataFrame(
        {"name": ["Centru", None]},
        geometry=[box(21.90, 45.68, 21.91, 45.69), box(21.91, 45.68, 21.92, 45.69)],
        crs=4326,
    ).to_file(unnamed, driver="GeoJSON")
    nameless = _create(cli, "--feature", "Lugoj", "--districts", unnamed)
    assert nameless.exit_code == 1 and "names must be unique and given" in nameless.output
    assert _rows(engine, "SELECT count(*) FROM cities")[0][0] == 0
    assert _rows(engine, "SELECT count(*) FROM departments")[0][0] == 0
    bad_prefix = _create(cli, "--feature", "Lugoj", "--prefix", "lug")
    assert bad_prefix.exit_code == 1 and "2-6 capital letters" in bad_prefix.output
    assert _create(cli, "--feature", "Lugoj").exit_code == 0
    again = _create(cli, "--feature", "Lugoj")
    assert again.exit_code == 1 and "already used by the city 'lugoj'" in again.output
    plain = _create(cli, "--feature", "Alba Iulia", "--prefix", "ALB", "--no-catalogue")
    assert plain.exit_code == 1 and "slug" in plain.output  # same slug, other prefix


@pytest.mark.parametrize(
    "page", ["live_map", "resolution", "departments", "accountability", "open_data", "report"]
)
def test_every_page_of_a_new_city_before_its_first_report(cli, engine, monkeypatch, page):
    """A city hall's first look: no incident yet, and no page may fail."""
    import streamlit as st

    from tests.apptest_support import run_app

    assert _create(cli, "--feature", "Lugoj").exit_code == 0
    st.cache_data.clear()  # Streamlit's caches are process-wide: this test's database only
    st.cache_resource.clear()
    at = run_app(page, city="lugoj")  # asserts no exception
    assert not at.error, [e.value for e in at.error]


def test_the_demo_stays_out_of_a_database_that_serves_a_real_city(cli, engine):
    """The demo brings accounts with a published password: never beside a real city."""
    assert _create(cli, "--feature", "Lugoj").exit_code == 0
    refused = cli("demo", "--incidents", "100")
    assert refused.exit_code == 1 and "serves real cities (lugoj)" in refused.output
    assert _rows(engine, "SELECT count(*) FROM users")[0][0] == 0
    assert _rows(engine, "SELECT slug FROM cities") == [("lugoj",)]


def test_create_admin_names_an_unknown_city_before_asking_for_a_password(cli):
    """It asked for the password twice, then said the city did not exist."""
    done = cli("create-admin", "--city", "lugj")
    assert done.exit_code == 1
    assert "No city 'lugj'" in done.output
    assert "Password" not in done.output


def test_create_admin_makes_an_administrator_who_can_sign_in(cli, engine, city):
    from sesizari import auth

    runner = CliRunner()
    done = runner.invoke(app, ["create-admin", "--city", "testville"],
                         input="parola-lunga-1\nparola-lunga-1\n")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "admin can now sign in to testville as administrator" in done.output
    with engine.connect() as conn:
        user = auth.authenticate(conn, "testville", "admin", "parola-lunga-1")
    assert user is not None and user.role.value == "admin"
    # Again for the same user, now a disabled member of staff: the way in is
    # given back whole (it only set the password, and said "administrator").
    with engine.begin() as conn:
        dept = conn.execute(sa.text(
            "INSERT INTO departments (city_id, code, name_ro, name_en)"
            " SELECT city_id, 'roadsx', 'Drumuri X', 'Roads X' FROM cities"
            " WHERE slug = 'testville' RETURNING department_id")).scalar_one()
        conn.execute(sa.text("UPDATE users SET role = 'staff', department_id = :d,"
                             " active = false WHERE username = 'admin'"), {"d": dept})
    done = runner.invoke(app, ["create-admin", "--city", "testville"],
                         input="parola-lunga-2\nparola-lunga-2\n")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert ("admin already existed in testville: new password, role staff -> admin,"
            " account enabled again.") in done.output
    with engine.connect() as conn:
        user = auth.authenticate(conn, "testville", "admin", "parola-lunga-2")
    assert user is not None and user.role.value == "admin"

UAT = SHARED / "data" / "romania-uat" / "romania_uat_simplified.geojson"


@pytest.mark.skipif(not UAT.exists(), reason="shared national boundaries not present")
def test_the_boundary_is_found_by_name_as_people_type_it_or_by_its_code():
    """The national file (3,186 areas): a refusal listed every name (35 KB);
    "Sebeş" (cedilla, as most files write it) did not match "Sebeș"; five
    towns called Traian could not be told apart."""
    from sesizari import onboarding

    areas = onboarding.read_areas(UAT, "name")
    sebes = onboarding.pick_boundary(areas, "name", "Sebeș")
    for typed in ("Sebeş", "sebes", " SEBEȘ "):
        assert onboarding.pick_boundary(areas, "name", typed).equals(sebes)
    with pytest.raises(ValidationError) as refused:
        onboarding.pick_boundary(areas, "name", "Devaa")
    said = str(refused.value)
    assert said.startswith("feature: no area named 'Devaa'; the nearest: Deva,") and len(said) < 300
    with pytest.raises(ValidationError) as refused:
        onboarding.pick_boundary(areas, "name", "Traian")
    said = str(refused.value)
    assert "5 areas named 'Traian': give its 'natcode' instead, --feature VALUE" in said
    assert "(Teleorman)" in said
    code = said.split("(")[1].split(" ")[0]
    assert onboarding.pick_boundary(areas, "name", code).area > 0
    with pytest.raises(ValidationError, match=r"3186 areas in the file; pick one .*\.\.\.\)$"):
        onboarding.pick_boundary(areas, "name", None)


def test_boundaries_the_wrong_way_round_or_without_their_crs_are_named(tmp_path):
    """A boundary with latitude first became a city in Arabia; a Stereo 70
    Shapefile without its .prj was "coordinates must be longitude/latitude"."""
    from shapely.affinity import affine_transform

    from sesizari import onboarding

    lugoj = gpd.read_file(BOUNDARIES).query("name == 'Lugoj'")
    swapped = lugoj.copy()
    swapped["geometry"] = lugoj.geometry.map(lambda g: affine_transform(g, [0, 1, 1, 0, 0, 0]))
    swapped.to_file(tmp_path / "swapped.geojson", driver="GeoJSON")
    with pytest.raises(ValidationError, match="coordinates the wrong way round"):
        onboarding.read_areas(tmp_path / "swapped.geojson", "name")
    lugoj.to_crs(3844).to_file(tmp_path / "s70.shp")
    assert onboarding.read_areas(tmp_path / "s70.shp", "name").total_bounds[0] > 21
    (tmp_path / "s70.prj").unlink()
    with pytest.raises(ValidationError, match=r"names no CRS \(a Shapefile without its \.prj\?\)"
                                              r" and its coordinates are metres, Stereo 70"):
        onboarding.read_areas(tmp_path / "s70.shp", "name")


TIMISOARA = SHARED / "data" / "districts" / "timisoara_neighborhoods.geojson"


@pytest.mark.skipif(not (UAT.exists() and TIMISOARA.exists()),
                    reason="shared boundaries and districts not present")
def test_districts_drawn_past_the_boundary_are_cut_to_it_when_asked(cli, engine):
    """Timișoara's neighbourhoods follow other limits than the national
    boundary file: six stick out by up to a quarter of their area."""
    args = ("city", "create", "--slug", "timisoara", "--name-ro", "Timișoara", "--name-en",
            "Timisoara", "--prefix", "TM", "--boundary", UAT, "--feature", "timisoara",
            "--districts", TIMISOARA, "--no-catalogue")
    refused = cli(*args)
    assert refused.exit_code == 1
    assert "lies outside the city's boundary (" in refused.output
    assert "--clip-districts cuts each district to the boundary" in refused.output
    assert _rows(engine, "SELECT count(*) FROM cities")[0][0] == 0  # all or nothing
    done = cli(*args, "--clip-districts")
    assert done.exit_code == 0, done.output
    assert "31 districts" in done.output
    (outside,) = _rows(engine, "SELECT count(*) FROM districts d JOIN cities c USING (city_id)"
                               " WHERE NOT ST_Covers(ST_Buffer(c.boundary, 1e-9), d.geom)")
    assert outside == (0,)

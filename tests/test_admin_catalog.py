"""An administrator stops a department or a category, and starts it again.

A reorganisation (two departments merged, a service given to a company) or
a category no longer used needed SQL: the ``active`` columns were read by
every picker, feed and the Open311 service list, but nothing set them.  A
department stops only when nothing sends it work or waits on it; a stopped
one takes no new work from any form or call.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from sesizari import admin, open311, workspace
from sesizari.catalog import get_city
from sesizari.errors import ValidationError
from sesizari.incidents import NewIncident, create_incident
from tests.apptest_support import load_user, run_app, shown

LAT, LON = 45.6887, 21.9035  # Lugoj, inside the boundary


def _report(engine, category: str) -> str:
    return create_incident(
        engine, NewIncident("lugoj", category, LAT, LON, "Banca din parc este ruptă.")
    ).registry_number


def _active(engine, table: str, code: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(f"SELECT t.active FROM {table} t JOIN cities c USING (city_id)"
                    " WHERE c.slug = 'lugoj' AND t.code = :code"),
            {"code": code},
        ).scalar_one()  # fmt: skip


@pytest.fixture
def parks(demo):
    """A department with everything that holds it: a category routed to it, a
    rule, an active account, an open incident."""
    head = load_user(demo, "admin")
    admin.create_department(demo, head, code="parks", name_ro="Parcuri", name_en="Parks")
    admin.create_category(demo, head, code="bench", name_ro="Bancă ruptă", name_en="Broken bench",
                          department="parks", target_hours=72)  # fmt: skip
    admin.create_user(demo, head, username="ana.parks", full_name="Ana Pop", role="staff",
                      department="parks", password="o-parola-lunga-42")  # fmt: skip
    rule = admin.create_rule(demo, head, name="Bănci: parcuri", category="bench",
                             department="parks", assignee="ana.parks")  # fmt: skip
    return {"head": head, "rule": rule, "number": _report(demo, "bench")}


def test_a_department_stops_only_once_nothing_sends_it_work(demo, parks):
    head = parks["head"]
    with pytest.raises(ValidationError) as refused:
        admin.set_department_active(demo, head, "parks", False)
    said = refused.value.ro
    assert said.endswith("Parcuri nu se poate opri încă; are 1 categorie activă, 1 regulă"
                         " activă, 1 cont activ, 1 sesizare deschisă. Mutați-le întâi la alt"
                         " compartiment"), said  # fmt: skip
    assert _active(demo, "departments", "parks")  # nothing written

    # Each holder moves by its own form, then the department stops.
    admin.route_category(demo, head, "bench", "green")
    admin.set_rule_active(demo, head, parks["rule"], False)
    account = admin.user(demo, head, "ana.parks")
    admin.update_user(demo, head, "ana.parks", full_name=account["full_name"], role="staff",
                      department="parks", active=False)  # fmt: skip
    with pytest.raises(ValidationError, match=r"it has 1 open incident\. Move them"):
        admin.set_department_active(demo, head, "parks", False)
    workspace.reroute(demo, load_user(demo, "dispecer"), parks["number"], reason="Spații verzi",
                      department="green")  # fmt: skip
    admin.set_department_active(demo, head, "parks", False)
    assert not _active(demo, "departments", "parks")

    # A stopped department takes no new work, from any form.
    stopped = "compartimentul 'parks' este oprit"
    attempts = [
        lambda: admin.route_category(demo, head, "bench", "parks"),
        lambda: admin.create_category(demo, head, code="swing", name_ro="Leagăn",
                                      name_en="Swing", department="parks", target_hours=24),
        lambda: admin.create_user(demo, head, username="ion.parks", full_name="Ion",
                                  role="staff", department="parks", password="o-parola-lunga-42"),
        lambda: admin.create_rule(demo, head, name="Din nou", category="pothole",
                                  department="parks"),
        lambda: workspace.reroute(demo, load_user(demo, "dispecer"), parks["number"],
                                  reason="Înapoi", department="parks"),
        lambda: admin.update_user(demo, head, "ana.parks", full_name="Ana Pop", role="staff",
                                  department="parks", active=True),
    ]  # fmt: skip
    for attempt in attempts:
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert stopped in refused.value.ro, refused.value.ro
    # The disabled account may keep the department it had (a new name, say).
    admin.update_user(demo, head, "ana.parks", full_name="Ana Popescu", role="staff",
                      department="parks", active=False)  # fmt: skip

    # Started again, it takes work again.
    admin.set_department_active(demo, head, "parks", True)
    admin.route_category(demo, head, "bench", "parks")
    assert workspace.incident_detail(demo, head, _report(demo, "bench"))["department"] == "parks"


def test_a_stopped_category_is_offered_nowhere_and_keeps_its_incidents(demo, parks):
    head = parks["head"]
    admin.set_category_active(demo, head, "bench", False)
    assert not _active(demo, "categories", "bench")
    with pytest.raises(ValidationError, match="no longer in use"):
        _report(demo, "bench")
    with pytest.raises(ValidationError, match="no longer in use"):
        workspace.reroute(demo, load_user(demo, "dispecer"), parks["number"], reason="x",
                          category="bench")  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        admin.create_rule(demo, head, name="Bănci", category="bench", department="parks")
    assert "categoria 'bench' nu există sau este oprită" in refused.value.ro
    with demo.connect() as conn:
        offered = open311.list_services(conn, get_city(conn, "lugoj"))
    assert "bench" not in {s["service_code"] for s in offered}
    assert "pothole" in {s["service_code"] for s in offered}
    # Its incident stays where it was, open, with the department.
    kept = workspace.incident_detail(demo, head, parks["number"])
    assert (kept["category"], kept["department"], kept["status"]) == ("bench", "parks", "new")

    # A category comes back only to a department that takes work.
    admin.set_rule_active(demo, head, parks["rule"], False)
    account = admin.user(demo, head, "ana.parks")
    admin.update_user(demo, head, "ana.parks", full_name=account["full_name"], role="staff",
                      department="parks", active=False)  # fmt: skip
    workspace.reroute(demo, load_user(demo, "dispecer"), parks["number"], reason="Spații verzi",
                      category="fallen_tree")  # fmt: skip
    admin.set_department_active(demo, head, "parks", False)  # its category is stopped: no hold
    with pytest.raises(ValidationError, match="start that department again first"):
        admin.set_category_active(demo, head, "bench", True)
    assert not _active(demo, "categories", "bench")
    admin.set_department_active(demo, head, "parks", True)
    admin.set_category_active(demo, head, "bench", True)
    assert _report(demo, "bench")


def test_only_an_administrator_of_the_city_stops_what_it_has(demo):
    from sesizari.errors import NotFoundError, PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        admin.set_department_active(demo, load_user(demo, "manager"), "green", False)
    with pytest.raises(PermissionDeniedError):
        admin.set_category_active(demo, load_user(demo, "manager"), "pothole", False)
    with pytest.raises(NotFoundError) as refused:
        admin.set_category_active(demo, load_user(demo, "admin"), "nope", False)
    assert refused.value.ro == "nu există categoria 'nope' în acest oraș"
    with pytest.raises(NotFoundError, match="no department 'nope'"):
        admin.set_department_active(demo, load_user(demo, "admin"), "nope", True)
    assert _active(demo, "categories", "pothole") and _active(demo, "departments", "green")


def test_the_page_stops_a_category_and_says_why_a_department_cannot_stop(demo):
    at = run_app("admin", user=load_user(demo, "admin"))
    at.selectbox(key="sw_department").set_value("green").run()
    assert at.radio(key="sw_department_on_green").value is True  # its own state
    assert at.button(key="sw_department_save").disabled  # nothing changed yet
    at.radio(key="sw_department_on_green").set_value(False).run()
    at.button(key="sw_department_save").click().run()
    refusal = shown(at.error[0].value)
    held = "Spații verzi nu se poate opri încă; are 1 categorie activă, 3 conturi active, "
    assert held in refusal, refusal
    assert refusal.endswith("sesizări deschise. Mutați-le întâi la alt compartiment"), refusal
    assert _active(demo, "departments", "green")

    at.selectbox(key="sw_category").set_value("illegal_construction").run()
    at.radio(key="sw_category_on_illegal_construction").set_value(False).run()
    at.button(key="sw_category_save").click().run()
    assert at.success[0].value == "Salvat.", at.success
    assert not _active(demo, "categories", "illegal_construction")
    table = next(f.value for f in at.dataframe if "Sensibilă" in f.value.columns)
    assert not table.set_index("Cod").at["illegal_construction", "Activ"]
    # Still listed, marked, so it can be started again; no longer among the choices.
    assert at.radio(key="sw_category_on_illegal_construction").value is False
    picked = at.selectbox(key="sw_category")
    assert picked.options[picked.index].endswith("(oprit)"), picked.options
    stopped = "Construcție fără autorizație"
    assert stopped not in at.selectbox(key="rc_category").options  # labels, as shown
    assert "Groapă în carosabil" in at.selectbox(key="rc_category").options
    citizen = run_app("report")
    citizen.selectbox(key="city").set_value("lugoj").run()
    report = citizen.selectbox(key="category").options
    assert stopped not in report and "Groapă în carosabil" in report, report


def test_a_rule_made_on_the_page_names_who_receives_its_incidents(demo):
    head = load_user(demo, "admin")
    account = admin.user(demo, head, "agent2.roads")
    admin.update_user(demo, head, "agent2.roads", full_name=account["full_name"], role="staff",
                      department="roads", active=False)  # fmt: skip
    at = run_app("admin", user=head)
    picker = at.selectbox(key="rule_assignee")
    assert picker.value is None  # nobody chosen for the admin
    offered = picker.options
    assert any(o.startswith("Agent 1") and o.endswith("(Drumuri și poduri)") for o in offered)
    assert not any("Agent 2 Drumuri" in o for o in offered), offered  # a disabled account
    assert not any("Administrator" in o or "Manager" in o for o in offered)  # city-wide roles
    at.text_input(key="rule_name").set_value("Gropi: agentul 1")
    at.selectbox(key="rule_category").set_value("pothole")
    at.selectbox(key="rule_department").set_value("roads")
    at.selectbox(key="rule_assignee").set_value("agent1.roads")
    next(b for b in at.button if b.proto.form_id == "new_rule").click().run()
    assert not at.error, at.error[0].value
    assert at.success[0].value == "Creat."
    rule = admin.rules(demo, head).set_index("name").loc["Gropi: agentul 1"]
    assert (rule["department"], rule["assignee"]) == ("roads", "agent1.roads")
    number = _report(demo, "pothole")
    assert workspace.incident_detail(demo, head, number)["assignee"] == "agent1.roads"


def test_an_incident_of_a_stopped_category_is_rerouted_to_a_category_someone_chose(demo):
    """The re-route form started on the current category; a stopped one is no
    longer offered, and the form started on the first of the list instead."""
    number = _report(demo, "illegal_construction")
    admin.set_category_active(demo, load_user(demo, "admin"), "illegal_construction", False)
    at = run_app("incident", user=load_user(demo, "dispecer"), id=number)
    assert at.selectbox(key="reroute_category").value is None
    same = run_app("incident", user=load_user(demo, "dispecer"), id=_report(demo, "pothole"))
    assert same.selectbox(key="reroute_category").value == "pothole"


def test_an_area_file_that_is_not_geojson_or_lies_outside_the_city_is_refused(demo, parks):
    """An area file that is not JSON broke the page; an area in another city
    (Alba Iulia's streets uploaded to Lugoj) was taken, and no report could
    ever fall in it."""
    head = parks["head"]
    for raw in (b"hello", b"\xff\xfe\x00binary", b"[" * 100_000):
        with pytest.raises(ValidationError, match="not GeoJSON"):
            admin.read_area(raw)

    def square(lon: float, lat: float) -> dict:
        d = 0.002
        return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat],
                                                    [lon + d, lat + d], [lon, lat + d],
                                                    [lon, lat]]]}

    before = len(admin.rules(demo, head))
    with pytest.raises(ValidationError, match="wholly outside the city's boundary"):
        admin.create_rule(demo, head, name="Alba", category="bench", department="parks",
                          area=admin.read_area(json.dumps(square(23.57, 46.07)).encode()))
    assert len(admin.rules(demo, head)) == before
    # Partly outside (drawn loosely over the edge) is taken: it still holds reports.
    inside = square(LON, LAT)
    assert admin.create_rule(demo, head, name="Parc", category="bench", department="parks",
                             area=admin.read_area(json.dumps(inside).encode()))


def test_a_new_department_or_category_may_not_take_a_name_already_given(demo):
    """Renaming refused a name another row had; creating took it, and the
    report form and the Open311 service list showed two alike."""
    head = load_user(demo, "admin")
    with demo.connect() as conn:
        roads_ro, roads_en = conn.execute(sa.text(
            "SELECT d.name_ro, d.name_en FROM departments d JOIN cities c USING (city_id)"
            " WHERE c.slug = 'lugoj' AND d.code = 'roads'")).one()
        pothole_en = conn.execute(sa.text(
            "SELECT t.name_en FROM categories t JOIN cities c USING (city_id)"
            " WHERE c.slug = 'lugoj' AND t.code = 'pothole'")).scalar_one()
    with pytest.raises(ValidationError, match="'roads' already has this name"):
        admin.create_department(demo, head, code="roads2", name_ro=roads_ro.upper(),
                                name_en="Other roads")
    with pytest.raises(ValidationError, match="'roads' already has this name"):
        admin.create_department(demo, head, code="roads2", name_ro="Alte drumuri",
                                name_en=f" {roads_en} ")
    with pytest.raises(ValidationError, match="'pothole' already has this name"):
        admin.create_category(demo, head, code="pothole2", name_ro="Gropi noi",
                              name_en=pothole_en, department="roads", target_hours=24)
    with pytest.raises(sa.exc.NoResultFound):
        _active(demo, "departments", "roads2")  # not made

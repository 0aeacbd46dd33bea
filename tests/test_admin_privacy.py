"""An administrator carries out an erasure request (GDPR art. 17) from the
Administration page, and sees the city's latest removals of personal data.

Before, only the command line (`privacy erase`) could: the person who
answers such requests at the city hall does not work on the server.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from sesizari import admin
from sesizari.erasure_log import journal_path
from sesizari.errors import NotFoundError, PermissionDeniedError
from sesizari.incidents import Contact, NewIncident, create_incident
from sesizari.privacy import ERASED_DESCRIPTION
from tests.apptest_support import load_user, run_app, shown


def _contact_and_text(engine, number: str) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(
            "SELECT c.name, i.description FROM incidents i LEFT JOIN incident_contacts c"
            " USING (city_id, incident_id) WHERE i.registry_number = :n"), {"n": number}).one())


def _press(at, label: str):
    [button] = [b for b in at.button if shown(b.label) == label]
    return button.click().run()


def test_an_administrator_erases_a_reporter_s_data_from_the_page(demo):
    number = create_incident(demo, NewIncident(
        "lugoj", "pothole", 45.6887, 21.9035, "Groapă în fața casei mele, Maria Pop",
        contact=Contact(name="Maria Pop", email="maria@example.ro", consent=True),
    )).registry_number
    at = run_app("admin", user=load_user(demo, "admin"))
    assert "LUG-2026-000123" in shown(at.text_input(key="erase_number").label)
    at.text_input(key="erase_number").input(number.lower())
    at.text_input(key="erase_reason").input("cerere nr. 4567")
    _press(at, "Șterge datele personale")
    # Not confirmed: nothing happens, and the page says why.
    assert "Bifați confirmarea: ștergerea nu se poate anula." in [w.value for w in at.warning]
    assert _contact_and_text(demo, number)[0] == "Maria Pop"
    at.checkbox(key="erase_confirm").check()
    _press(at, "Șterge datele personale")
    assert not at.exception and not at.error
    assert [shown(s.value) for s in at.success] == [
        f"{number}: s-au șters datele de contact, textul sesizării."]
    assert _contact_and_text(demo, number) == (None, ERASED_DESCRIPTION)
    assert at.text_input(key="erase_number").value == ""  # ready for the next request
    assert not at.checkbox(key="erase_confirm").value
    [line] = journal_path().read_text().splitlines()
    assert json.loads(line)["number"] == number and json.loads(line)["by"] == "Administrator"
    history = next(f.value for f in at.dataframe if "Ce s-a șters" in f.value.columns)
    first = history.iloc[0]
    assert (first["Număr"], first["De către"], first["De ce"], first["Motiv"]) == (
        number, "Administrator", "cerere de ștergere", "cerere nr. 4567")
    assert first["Ce s-a șters"] == "datele de contact, textul sesizării"
    assert "maria" not in history.to_csv().lower()

    # Again: nothing left, and said so; a number the city does not have is named.
    at.text_input(key="erase_number").input(number)
    at.checkbox(key="erase_confirm").check()
    _press(at, "Șterge datele personale")
    assert [shown(s.value) for s in at.success] == [
        f"{number}: nu mai există date personale de șters."]
    at.text_input(key="erase_number").input("LUG-2026-999999")
    at.checkbox(key="erase_confirm").check()
    _press(at, "Șterge datele personale")
    assert "Nu există sesizarea 'LUG-2026-999999'" in shown(at.error[0].value)
    assert at.text_input(key="erase_number").value == "LUG-2026-999999"  # kept to correct


def test_only_an_administrator_of_the_city_erases(demo):
    number = create_incident(demo, NewIncident(
        "lugoj", "pothole", 45.6887, 21.9035, "Groapă",
        contact=Contact(name="Ion", consent=True),
    )).registry_number
    with pytest.raises(PermissionDeniedError):
        admin.erase_report(demo, load_user(demo, "manager"), number, "")
    with pytest.raises(PermissionDeniedError):
        admin.erasures(demo, load_user(demo, "manager"))
    other = load_user(demo, "admin", "alba-iulia")
    with pytest.raises(NotFoundError, match="LUG-2026"):  # another city's registry: not found
        admin.erase_report(demo, other, number, "")
    assert _contact_and_text(demo, number)[0] == "Ion"


def test_the_list_of_removals_reads_an_index_not_every_event(demo):
    """The page reads it on every visit, among millions of events at city scale."""
    from sesizari.privacy import ERASURE_HISTORY

    with demo.connect() as conn:
        conn.execute(sa.text("SET enable_seqscan = off"))
        plan = conn.execute(sa.text(f"EXPLAIN (FORMAT JSON) {ERASURE_HISTORY.text}"),
                            {"c": 1, "n": 200}).scalar_one()  # fmt: skip
    assert "incident_events_erased_idx" in json.dumps(plan)

"""Bad input: a clear error naming the field, and nothing written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sesizari.errors import ValidationError
from sesizari.incidents import Contact, NewIncident, create_incident
from tests.conftest import TEST_LAT, TEST_LON, count

GOOD = dict(
    city="testville",
    category="pothole",
    latitude=TEST_LAT,
    longitude=TEST_LON,
    description="Groapă",
)

CASES = [
    ({"latitude": 91.0}, "latitude", "between -90 and 90"),
    ({"latitude": -90.5}, "latitude", "between"),
    ({"longitude": 181.0}, "longitude", "between -180 and 180"),
    ({"latitude": float("nan")}, "latitude", "number"),
    ({"latitude": 44.43, "longitude": 26.10}, "location", "outside"),  # Bucharest
    ({"category": "volcano"}, "category", "unknown category"),
    ({"description": ""}, "description", "empty"),
    ({"description": "   \n "}, "description", "empty"),
    ({"description": "x" * 5001}, "description", "at most 5000"),
    ({"city": "atlantis"}, "city", "No city"),
    ({"channel": "pigeon"}, "channel", "unknown channel"),
    ({"address": "a" * 501}, "address", "at most 500"),
    ({"contact": Contact(name="Ion", email="ion@example.ro")}, "consent", "consent"),
    ({"contact": Contact(email="not-an-email", consent=True)}, "email", "e-mail"),
    ({"source": "nyc"}, "external_id", "together"),
    ({"contact": Contact(phone="abc", consent=True)}, "phone", "not a phone number"),
    ({"contact": Contact(phone="12345", consent=True)}, "phone", "6 to 15"),
    ({"contact": Contact(phone="0740 123 456 seara", consent=True)}, "phone", "not a phone"),
    ({"contact": Contact(phone="07401234567890123", consent=True)}, "phone", "6 to 15"),
]


@pytest.mark.parametrize(("change", "field", "text"), CASES)
def test_bad_input_names_the_field_and_writes_nothing(engine, city, change, field, text):
    before = {
        t: count(engine, t)
        for t in ("incidents", "incident_events", "incident_contacts", "registry_counters")
    }
    with pytest.raises(ValidationError) as err:
        create_incident(engine, NewIncident(**{**GOOD, **change}))
    assert err.value.field == field
    assert text in str(err.value)
    after = {t: count(engine, t) for t in before}
    assert after == before


def test_good_input_writes_incident_event_and_contact(engine, city):
    created = create_incident(
        engine,
        NewIncident(**GOOD, contact=Contact(name="Ion Pop", phone="0712345678", consent=True)),
    )
    assert created.registry_number.startswith("TST-")
    assert (
        count(engine, "incidents"),
        count(engine, "incident_events"),
        count(engine, "incident_contacts"),
    ) == (1, 1, 1)


@pytest.mark.parametrize("phone", [
    "0740123456", "0740 123 456", "0256-123.456", "+40 (740) 123-456", "+43 1 234567",
    "0256/123456", " 0740123456 ",
])  # fmt: skip
def test_phone_numbers_as_people_write_them_are_taken(engine, city, phone):
    create_incident(engine, NewIncident(**GOOD, contact=Contact(phone=phone, consent=True)))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT phone FROM incident_contacts")).scalar_one() == (
            phone.strip()
        )

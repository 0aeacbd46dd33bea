"""RELIABILITY R11: one client sending 1,000 reports as fast as it can, next
to 50 ordinary citizens: the flood gets no more than its hourly limit, every
ordinary report gets through.  The same for an app's API key on Open311.

The attempts run in parallel: a limit that counts, then records, lets a
burst of simultaneous requests all see the same count and all pass.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from sesizari import intake
from sesizari.errors import RateLimitError
from sesizari.incidents import NewIncident, create_incident
from tests.api_support import client, form, new_key, parse_xml
from tests.conftest import TEST_LAT, TEST_LON, count

FLOOD = 1_000
CITIZENS = 50
LIMIT = 10  # SESIZARI_RATE_LIMIT's default


def _report(engine, who: str) -> bool:
    """What the Report page does on submit: count the attempt, then file."""
    try:
        intake.check_rate(engine, "testville", who)
    except RateLimitError:
        return False
    create_incident(engine, NewIncident("testville", "pothole", TEST_LAT, TEST_LON,
                                        f"Groapă ({who})"))
    return True


def test_a_flood_next_to_fifty_citizens(engine, city, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SESIZARI_RATE_LIMIT", raising=False)
    senders = ["198.51.100.7"] * FLOOD + [f"203.0.113.{i}" for i in range(CITIZENS)]
    random.Random(11).shuffle(senders)
    with ThreadPoolExecutor(max_workers=12) as pool:
        accepted = list(pool.map(lambda who: (who, _report(engine, who)), senders))
    flood = sum(ok for who, ok in accepted if who == "198.51.100.7")
    citizens = sum(ok for who, ok in accepted if who != "198.51.100.7")
    assert flood == LIMIT
    assert citizens == CITIZENS
    assert count(engine, "incidents") == LIMIT + CITIZENS
    # Every accepted attempt was counted once, under a salted hash (never the address).
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT client_hash) FROM submission_attempts")).one()
        assert conn.execute(sa.text(
            "SELECT count(*) FROM submission_attempts WHERE client_hash LIKE '%198.51%'"
        )).scalar_one() == 0
    assert tuple(stored) == (LIMIT + CITIZENS, CITIZENS + 1)


def test_simultaneous_attempts_of_one_client_are_counted_one_at_a_time(engine, city):
    """Forty attempts released at the same instant, five times: exactly the
    limit gets through each time (counting, then recording, without the
    client's lock let most of a burst through)."""
    for round_ in range(5):
        who = f"192.0.2.{round_}"
        start = threading.Barrier(40)

        def attempt(_: int, who: str = who, start: threading.Barrier = start) -> bool:
            start.wait()
            try:
                intake.check_rate(engine, "testville", who, limit=LIMIT)
            except RateLimitError:
                return False
            return True

        with ThreadPoolExecutor(max_workers=40) as pool:
            assert sum(pool.map(attempt, range(40))) == LIMIT, who


def test_an_api_key_past_its_hourly_budget_gets_429(engine, city,
                                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SESIZARI_API_RATE_LIMIT", "20")
    api = client(engine)
    flooding, other = new_key(engine, name="flood"), new_key(engine, name="harta")
    fields = form(service_code="pothole", lat=TEST_LAT, long=TEST_LON, description="Groapă")

    def post(key: str):
        return api.post("/requests.json", data={**fields, "api_key": key})

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, [flooding] * 60))
    assert sorted(r.status_code for r in answers) == [200] * 20 + [429] * 40
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json() == [{"code": 429, "description":
                               "rate_limit: too many reports from this api_key;"
                               " try again in an hour"}]
    # The XML form of the same refusal, and another app's key still files.
    xml = api.post("/requests.xml", data={**fields, "api_key": flooding})
    assert xml.status_code == 429 and parse_xml(xml.content)
    assert post(other).status_code == 200
    assert count(engine, "incidents") == 21

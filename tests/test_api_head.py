"""``HEAD`` wherever the API answers ``GET``: what monitors and link checkers send."""

from __future__ import annotations

import pytest

from tests.api_support import client


@pytest.mark.parametrize("path", [
    "/health", "/services.json", "/services.xml", "/requests.json",
    "/opendata/incidents.csv", "/opendata/incidents.geojson", "/docs", "/openapi.json",
])  # fmt: skip
def test_head_answers_as_get_without_a_body(engine, city, path):
    api = client(engine)
    got, head = api.get(path), api.head(path)
    assert got.status_code == 200 and head.status_code == 200, head.text  # it was 405
    assert head.content == b""
    for name in ("content-type", "content-length", "content-disposition"):
        assert head.headers.get(name) == got.headers.get(name), name


def test_head_of_what_is_missing_is_404_and_post_stays_post(engine, city):
    api = client(engine)
    missing = api.head("/requests/TST-2026-999999.json")
    assert missing.status_code == 404 and missing.content == b""
    assert api.post("/requests.json", data={}).status_code != 405  # untouched

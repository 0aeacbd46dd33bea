"""The load benchmark, briefly, against a real server: no errors, no number twice."""

from __future__ import annotations

import asyncio

from bench.api_load import city_sample, run_load
from tests.api_support import live_server, new_key


def test_concurrent_posts_get_distinct_numbers(engine, city):
    with live_server(engine) as url:
        points, categories = city_sample(engine, "testville", 50)
        report = asyncio.run(
            run_load(
                url,
                jurisdiction="testville",
                api_key=new_key(engine),
                points=points,
                categories=categories,
                clients=10,
                seconds=3,
                post_ratio=0.5,
            )
        )
    assert not report.errors, report.lines()
    assert len(report.numbers) > 10
    assert report.duplicates == []
    assert len(report.lines()) == 5

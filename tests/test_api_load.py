"""The load benchmark, briefly, against a real server: no errors, no number twice."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn

from api.app import create_app
from bench.api_load import city_sample, run_load
from tests.api_support import new_key


def test_concurrent_posts_get_distinct_numbers(engine, city):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.05)
        points, categories = city_sample(engine, "testville", 50)
        report = asyncio.run(
            run_load(
                f"http://127.0.0.1:{port}",
                jurisdiction="testville",
                api_key=new_key(engine),
                points=points,
                categories=categories,
                clients=10,
                seconds=3,
                post_ratio=0.5,
            )
        )
    finally:
        server.should_exit = True
        thread.join(10)
    assert not report.errors, report.lines()
    assert len(report.numbers) > 10
    assert report.duplicates == []
    assert len(report.lines()) == 5

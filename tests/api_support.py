"""Helpers shared by the HTTP API tests: clients, keys, JSON Schemas, XML parsing."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import uvicorn
from defusedxml import ElementTree as SafeET
from fastapi.testclient import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy.engine import Engine

from api.app import create_app
from sesizari import apikeys
from sesizari.catalog import get_city

REPO = Path(__file__).resolve().parent.parent
OPEN311 = REPO.parent / "shared" / "data" / "open311"


def client(engine: Engine) -> TestClient:
    return TestClient(create_app(engine))


@contextlib.contextmanager
def live_server(engine: Engine) -> Iterator[str]:
    """The API on ``engine`` served by uvicorn on a free port, in a thread; yields its URL."""
    from tests.conftest import _free_port

    port = _free_port()
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
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def new_key(engine: Engine, slug: str = "testville", name: str = "test app") -> str:
    with engine.begin() as conn:
        return apikeys.issue_key(conn, get_city(conn, slug).city_id, name)


@cache
def _registry() -> Registry:
    resources = []
    for path in (OPEN311 / "schema").glob("*.json"):
        contents = json.loads(path.read_text())
        resources.append(
            (path.name, Resource.from_contents(contents, default_specification=DRAFT7))
        )
    return Registry().with_resources(resources)


def validate(document: Any, schema_name: str) -> None:
    """Validate a JSON document against one of the reference Open311 schemas."""
    schema = json.loads((OPEN311 / "schema" / schema_name).read_text())
    validator = jsonschema.Draft7Validator(
        schema, registry=_registry(), format_checker=jsonschema.FormatChecker()
    )
    validator.validate(document)


def parse_xml(body: bytes) -> Any:
    """Parse a response with defusedxml (refuses entities, DTDs...)."""
    return SafeET.fromstring(body)


def form(**fields: Any) -> dict[str, str]:
    return {k: str(v) for k, v in fields.items() if v is not None}

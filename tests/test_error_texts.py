"""Refusals reach the pages in the page's language.

The domain's errors are English for the command line and logs, and carry a
Romanian text (``ro=``) for the pages, whose default language is Romanian,
and for the HTTP API's clients that ask for it (``Accept-Language: ro``).
The source check below holds every module the pages and the API call to
it; the others (the command line's onboarding and cluster, the demo)
answer in English by design.
"""

from __future__ import annotations

import ast
import re

import pytest

from sesizari.errors import FIELDS_EN, FIELDS_RO, NotFoundError, ValidationError
from sesizari.vocab import ro_count
from tests.conftest import REPO

#: The modules whose refusals the pages and the API show.
PAGE_MODULES = [
    "sesizari/open311.py", "sesizari/opendata.py",
    "sesizari/incidents.py", "sesizari/workspace.py", "sesizari/intake.py",
    "sesizari/tracking.py", "sesizari/auth.py", "sesizari/photos.py", "sesizari/privacy.py",
    "sesizari/transactions.py", "sesizari/accountability.py", "sesizari/admin.py",
    "sesizari/catalog.py", "sesizari/commitments.py", "sesizari/feeds.py",
    "sesizari/apikeys.py", "sesizari/queries/filters.py", "sesizari/queries/maps.py",
    "sesizari/queries/resolution.py", "sesizari/queries/departments.py",
    "sesizari/queries/accountability.py",
]  # fmt: skip
#: Error classes and where their Romanian text goes when given by position.
ERRORS = {
    "SesizariError": 1, "ValidationError": 2, "RateLimitError": 2, "PhotoError": 2,
    "NotFoundError": 1, "TransitionError": 1, "PermissionDeniedError": 1,
}  # fmt: skip


def _constructions(path: str) -> list[ast.Call]:
    tree = ast.parse((REPO / path).read_text())
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ERRORS
    ]


@pytest.mark.parametrize("path", PAGE_MODULES)
def test_every_refusal_the_pages_show_has_its_romanian_text(path):
    calls = _constructions(path)
    missing = [
        f"{path}:{c.lineno}: {ast.unparse(c)[:90]}"
        for c in calls
        if not any(k.arg == "ro" for k in c.keywords) and len(c.args) <= ERRORS[c.func.id]
    ]
    assert not missing, "\n".join(missing)


def test_every_field_a_refusal_names_has_a_romanian_name():
    named = {
        c.args[0].value
        for path in PAGE_MODULES
        for c in _constructions(path)
        if c.func.id in ("ValidationError", "RateLimitError")
        and c.args
        and isinstance(c.args[0], ast.Constant)
    }
    assert named and not named - FIELDS_RO.keys(), sorted(named - FIELDS_RO.keys())
    # ... and an English one in words (FIELDS_EN where the code is not plain words).
    assert not set(FIELDS_EN) - FIELDS_RO.keys(), sorted(set(FIELDS_EN) - FIELDS_RO.keys())
    coded = [f for f in named if re.search(r"_(m|id|at|days)$|^(lat|long|geom|pin)$", f)]
    assert coded and not set(coded) - FIELDS_EN.keys(), sorted(set(coded) - FIELDS_EN.keys())


def test_a_refusal_says_itself_in_each_language():
    refused = ValidationError("description", "describe the problem", ro="descrieți problema")
    assert str(refused) == "description: describe the problem"  # the API's and logs'
    assert refused.says("en") == "description: describe the problem"
    # The pages name a field in words; the API and the logs by its code.
    typo = ValidationError("registry_number", "use the form LUG-2026-000123", ro="scrieți-l")
    assert typo.says("en") == "registry number: use the form LUG-2026-000123"
    assert str(typo) == "registry_number: use the form LUG-2026-000123"
    assert ValidationError("eps_m", "too far").says("en") == "clustering distance (m): too far"
    assert refused.says("ro") == "descrierea: descrieți problema"
    missing = NotFoundError("No report LUG-2026-000001", ro="Nu există sesizarea LUG-2026-000001")
    assert missing.says("ro") == "Nu există sesizarea LUG-2026-000001"
    # Without a Romanian text, the English one rather than nothing.
    assert NotFoundError("No such thing").says("ro") == "No such thing"


@pytest.mark.parametrize(
    ("n", "written"),
    [(1, "1 zi"), (2, "2 zile"), (19, "19 zile"), (20, "20 de zile"), (101, "101 zile"),
     (115, "115 zile"), (120, "120 de zile"), (1000, "1.000 de zile")],
)  # fmt: skip
def test_counts_are_written_as_romanian_writes_them(n, written):
    assert ro_count(n, "zile", "zi") == written

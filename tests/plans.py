"""Query plans for the tests that check which index a query reads.

The demo holds a few thousand incidents, where PostgreSQL would rather scan
a table than use the index a query is written for at a million.  So these
plans price whole-table and bitmap scans out, and may drop other indexes
inside the transaction (rolled back): what is left shows which index the
query's conditions can use at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def plan_without_scans(
    engine: Engine, query: sa.TextClause, params: Mapping[str, Any], drop: Iterable[str] = ()
) -> str:
    """``EXPLAIN`` of ``query`` with scans priced out and the ``drop`` indexes gone."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT set_config('enable_seqscan', 'off', true)"))
        conn.execute(sa.text("SELECT set_config('enable_bitmapscan', 'off', true)"))
        for index in drop:
            # Index names of the schema, from the tests themselves.
            conn.execute(sa.text(f"DROP INDEX {index}"))
        plan = "\n".join(r[0] for r in conn.execute(sa.text("EXPLAIN " + str(query)), params))
        conn.rollback()
    return plan


def index_condition_on(plan: str, column: str, index: str) -> bool:
    """Whether ``plan`` reads ``index`` with ``column`` in an index condition."""
    cond = [line for line in plan.splitlines() if "Index Cond" in line and column in line]
    return bool(cond) and f"using {index}" in plan


def plan_tree(engine: Engine, query: sa.TextClause, params: Mapping[str, Any]) -> dict[str, Any]:
    """``EXPLAIN (VERBOSE, FORMAT JSON)`` of ``query`` with scans priced out:
    the plan's nodes, each with its ``Output`` columns and child ``Plans``."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT set_config('enable_seqscan', 'off', true)"))
        conn.execute(sa.text("SELECT set_config('enable_bitmapscan', 'off', true)"))
        plan = conn.execute(sa.text("EXPLAIN (VERBOSE, FORMAT JSON) " + str(query)), params)
        tree = plan.scalar_one()[0]["Plan"]
        conn.rollback()
    return tree


def nodes(tree: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Every node of a :func:`plan_tree`, parents before children."""
    yield tree
    for child in tree.get("Plans", ()):
        yield from nodes(child)

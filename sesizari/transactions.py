"""One write transaction, run again when PostgreSQL cancelled it for a deadlock.

Every statement that changes incidents also updates the rollup rows of the
groups it touches (migration 0015), and holds them until it commits.  Two
transactions that each changed one group and then want the other's can
deadlock: for example a citizen's report, which takes the city's registry
counter and then its group's rollup row, beside an import whose first
statement took that rollup row and whose next one wants a registry number.
PostgreSQL then cancels one of them (SQLSTATE 40P01) after rolling it back
whole, and its manual's answer is to run that transaction again.  The same
holds for a serialization failure (40001).

The function run must be safe to run again: everything it does goes
through the connection it is given, so a cancelled attempt left nothing.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")

log = logging.getLogger(__name__)

#: deadlock_detected, serialization_failure: the transaction was rolled back
#: whole and may simply be run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})

#: Attempts in all.  A deadlock needs two writers of the same groups at the
#: same moment; a third one in a row means something else is wrong.
ATTEMPTS = 3


def retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL cancelling a transaction that can be run again."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def run_again_after_deadlock(attempt: Callable[[], T], what: str, attempts: int = ATTEMPTS) -> T:
    """``attempt()``, and again (up to ``attempts`` in all) while PostgreSQL cancels it.

    ``attempt`` runs one whole transaction.  A short random pause before each
    new attempt lets the other transaction finish first instead of meeting
    it again at the same point.  ``what`` names the work in the log.
    """
    for n in range(1, attempts + 1):
        try:
            return attempt()
        except sa.exc.DBAPIError as exc:
            if n == attempts or not retryable(exc):
                raise
            log.warning(
                "%s cancelled by PostgreSQL (%s), attempt %d of %d: running it again",
                what,
                exc.orig.sqlstate,  # type: ignore[union-attr]
                n,
                attempts,
            )
            time.sleep(random.uniform(0.01, 0.1) * n)
    raise AssertionError("unreachable")  # pragma: no cover


def run_in_transaction(
    engine: Engine, work: Callable[[Connection], T], attempts: int = ATTEMPTS
) -> T:
    """``work(conn)`` in one transaction, run again after a deadlock."""

    def attempt() -> T:
        with engine.begin() as conn:
            return work(conn)

    return run_again_after_deadlock(attempt, "transaction", attempts)

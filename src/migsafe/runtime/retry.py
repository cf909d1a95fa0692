"""Run a revision again when a lock it needs is not free within ``lock_timeout``.

A migration that sets ``lock_timeout`` fails fast (SQLSTATE 55P03, lock_not_available)
instead of queueing every query of the application behind its ALTER TABLE; the usual cause is
a long transaction that will end soon. With one transaction per migration, the failed one was
rolled back whole, so running the migrations again starts at that revision.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

LOCK_NOT_AVAILABLE = "55P03"
log = logging.getLogger("migsafe.runtime")
T = TypeVar("T")


class LockTimeoutRetriesExhausted(RuntimeError):
    """Every attempt waited longer than lock_timeout for a lock; the message says where."""


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (a SQLAlchemy error or the driver's) is PostgreSQL's 55P03."""
    original = getattr(exc, "orig", None) or exc
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return code == LOCK_NOT_AVAILABLE


def retry_on_lock_timeout(
    run: Callable[[], T],
    *,
    attempts: int = 5,
    first_delay: float = 1.0,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``run()``, again after a wait when it fails with lock_not_available: ``first_delay``
    seconds, doubling up to ``max_delay``, each with jitter (between half and all of it) so
    that several deploys do not retry in step. Any other error is raised at once; after
    ``attempts`` failures, ``LockTimeoutRetriesExhausted``."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    delay = first_delay
    for attempt in range(1, attempts):
        try:
            return run()
        except Exception as exc:
            if not is_lock_timeout(exc):
                raise
            wait = min(delay, max_delay) * random.uniform(0.5, 1.0)
            log.warning(
                "lock not available (attempt %d of %d) for %s; retrying in %.1f s",
                attempt, attempts, _statement(exc), wait,
            )  # fmt: skip
            sleep(wait)
            delay *= 2
    try:
        return run()
    except Exception as exc:
        if not is_lock_timeout(exc):
            raise
        raise LockTimeoutRetriesExhausted(
            f"gave up after {attempts} attempts: a lock was not free within lock_timeout "
            f"for {_statement(exc)}; find the long transaction holding it (pg_stat_activity, "
            "pg_locks) and deploy again"
        ) from exc


def _statement(exc: BaseException) -> str:
    statement = " ".join(str(getattr(exc, "statement", "") or "").split())
    return statement[:200] or "a statement"

"""A time limit inside the worker, for a run that is optional: when it is over, the run
stops with ``RunTooLong`` and what came before it stands (the worker's own limit, enforced
from outside, would lose the whole script).

Limits nest: a run inside another (a module's statements after an error, run while a
migration runs again with rows) gets the shorter of its own and what is left of the outer
one, and the outer one goes on when it ends.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class RunTooLong(BaseException):
    """The time was up (a BaseException: a migration's ``except Exception`` lets it pass).
    Its argument is the limit that ran out (``time_limit`` yields it): an inner run that
    catches its own lets an outer one's through."""


@contextmanager
def time_limit(seconds: float) -> Iterator[object]:
    """Raise ``RunTooLong(limit)`` in the code running inside after ``seconds`` (an interval
    timer: the main thread only, where signals arrive; elsewhere no limit). Yields ``limit``;
    where an outer limit runs out first, that one governs, and what is raised is its."""
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0] if hasattr(signal, "getitimer") else 0
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ) or 0 < outer_left <= seconds:  # fmt: skip
        yield None
        return
    limit = object()

    def expired(signum: int, frame: object) -> None:
        raise RunTooLong(limit)

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield limit
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))

"""A time limit inside the worker, for a run that is optional: when it is over, the run
stops with ``RunTooLong`` and what came before it stands (the worker's own limit, enforced
from outside, would lose the whole script)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class RunTooLong(BaseException):
    """The time was up (a BaseException: a migration's ``except Exception`` lets it pass)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``RunTooLong`` in the code running inside after ``seconds`` (an interval timer:
    the main thread only, where signals arrive; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise RunTooLong

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

"""A time limit inside the worker, for a run that is optional: when it is over, the run
stops with ``RunTooLong`` and what came before it stands (the worker's own limit, enforced
from outside, would lose the whole script).

Limits nest: a run inside another (a module's statements after an error, run while a
migration runs again with rows) gets the shorter of its own and what is left of the outer
one, and the outer one goes on when it ends.

A migration may take the exception and go on (a retry loop under a bare ``except:``): the
limit then fires again every ``_AGAIN`` seconds, and from its second time it raises at
every line of the project's code that runs, so that the handler's own next line raises
too, out of the ``try`` that took it.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from migsafe.capture.code_origin import is_project_file


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
    running, fired = [True], [0]
    tracing = sys.gettrace()

    def every_line(frame: types.FrameType, event: str, arg: object) -> Any:
        if running[0] and event == "line" and is_project_file(frame.f_code.co_filename):
            raise RunTooLong(limit)
        return every_line if running[0] else None

    def expired(signum: int, frame: types.FrameType | None) -> None:
        if not running[0]:
            return
        fired[0] += 1
        if fired[0] > 1:  # the last one was taken, and the run goes on
            sys.settrace(every_line)
            while frame is not None:
                frame.f_trace, frame = every_line, frame.f_back
        signal.setitimer(signal.ITIMER_REAL, _AGAIN)
        raise RunTooLong(limit)

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield limit
    finally:
        running[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if fired[0] > 1:
            sys.settrace(tracing)
        if outer_left:
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


_AGAIN = 0.05  # how soon a limit taken by the migration fires again

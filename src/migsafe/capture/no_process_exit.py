"""Code migsafe runs that no deploy runs may not end the worker.

A capture runs some code only to see what it would do: the statements after the line of a
project module's import that raised (``past_the_error.py``), a migration run again where
reads find a row, where a table made outside the history holds the names it spells, where
a table asked for exists (``OfflineCapturer``). A migration that ends the process in such
a world (``if "legacy" in columns: os._exit(0)``) would take the script's real run with it,
and the script would be an error for what a made-up world did. Meanwhile ``os._exit()``,
``os.abort()`` and a signal sent to the worker itself raise SystemExit instead, which the
run that called them takes as its failure; that run is then dropped. So do
``signal.raise_signal()`` and ``signal.pthread_kill()`` of a signal that ends a process.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from typing import Any, NoReturn

# a probe (0), and signals that end nothing
_HARMLESS = {
    0,
    *(getattr(signal, name) for name in ("SIGCHLD", "SIGWINCH") if hasattr(signal, name)),
}


@contextlib.contextmanager
def no_process_exit() -> Iterator[None]:
    """``os._exit()``, ``os.abort()``, ``os.kill()`` / ``os.killpg()`` of the worker itself,
    ``signal.raise_signal()`` and ``signal.pthread_kill()`` raise SystemExit while inside."""
    saved = os._exit, os.abort, os.kill, getattr(os, "killpg", None)
    raise_signal, pthread_kill = signal.raise_signal, getattr(signal, "pthread_kill", None)
    worker = os.getpid()
    group = os.getpgid(0) if hasattr(os, "getpgid") else worker

    def refused_exit(code: int) -> NoReturn:
        raise SystemExit(code)

    def refused_abort() -> NoReturn:
        raise SystemExit("os.abort()")

    def kill(pid: int, sig: int) -> Any:
        if pid in (worker, 0, -group) and sig not in _HARMLESS:
            raise SystemExit(f"os.kill() of itself ({sig})")
        return saved[2](pid, sig)

    def killpg(pgid: int, sig: int) -> Any:
        if pgid in (group, 0) and sig not in _HARMLESS:
            raise SystemExit(f"os.killpg() of its own group ({sig})")
        assert saved[3] is not None
        return saved[3](pgid, sig)

    def raised(sig: int) -> None:
        if sig not in _HARMLESS:
            raise SystemExit(f"signal.raise_signal({sig})")
        raise_signal(sig)

    def thread_killed(thread: int, sig: int) -> None:
        if sig not in _HARMLESS:
            raise SystemExit(f"signal.pthread_kill() of its own thread ({sig})")
        assert pthread_kill is not None
        pthread_kill(thread, sig)

    os._exit, os.abort, os.kill = refused_exit, refused_abort, kill
    signal.raise_signal = raised
    if saved[3] is not None:  # POSIX
        os.killpg = killpg
    if pthread_kill is not None:
        signal.pthread_kill = thread_killed
    try:
        yield
    finally:
        os._exit, os.abort, os.kill = saved[:3]
        signal.raise_signal = raise_signal
        if saved[3] is not None:
            os.killpg = saved[3]
        if pthread_kill is not None:
            signal.pthread_kill = pthread_kill

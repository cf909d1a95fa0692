"""What only migsafe's own process may do, never a host that runs its commands in-process
(a test suite, a pytest plugin): the command line claims the process first.
"""

from __future__ import annotations

import gc
import os
import sys

_claimed = False


def claim() -> None:
    """The command line's entry point: this process is migsafe's, and ends with the command.

    The collector is off until the command's imports are done and its project is read
    (``exempt_from_gc``): importing Alembic, SQLAlchemy and pglast, and parsing the scripts,
    make only objects that live until the process ends, and collecting while they are made
    cost a seventh of the imports (docs/benchmarks.md). A command that never gets that far
    is short and ends soon."""
    global _claimed
    _claimed = True
    gc.disable()


def exempt_from_gc() -> None:
    """Keep the garbage collector from walking, again and again, the objects that importing
    Alembic, SQLAlchemy and pglast created, and the syntax trees of the project's scripts:
    they live until the process exits anyway.

    Each full collection visits every live object; on mlflow's history that was a fifth of a
    check, and collecting while the 67 scripts were parsed another 7 ms
    (docs/benchmarks.md). Called once a command has imported what it needs and read its
    project; objects made later are collected as usual. A host process keeps its collector
    as it was: what it froze would never be freed.
    """
    if _claimed:
        gc.freeze()
        gc.enable()


def exit_now(code: object) -> None:
    """End the process with ``code`` (as ``sys.exit`` takes it) without tearing the
    interpreter down: freeing every object Alembic and SQLAlchemy made costs 80 ms that
    nobody waits for (mypy does the same). Everything migsafe must undo (servers, temporary
    directories, workers) is undone by then, in ``finally`` blocks and context managers."""
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head): nothing more to say
            code = code or 1
    os._exit(code or 0)


_kept: list[object] = []


def keep_until_exit(thing: object) -> None:
    """Keep ``thing`` alive until the process ends, in migsafe's own process: freeing a
    project's syntax trees when a command returns costs milliseconds that ``exit_now`` never
    spends. A host process frees it as usual."""
    if _claimed:
        _kept.append(thing)


INTERRUPTED = 130  # the exit code of a command Ctrl-C stopped, as shells report SIGINT
NOTHING_CHANGED = "interrupted; nothing was changed."


def interrupted() -> None:
    """Ctrl-C before a command began its work (importing, parsing the arguments): nothing
    was changed; say so and end as every interrupted command does."""
    print(NOTHING_CHANGED, file=sys.stderr)
    exit_now(INTERRUPTED)

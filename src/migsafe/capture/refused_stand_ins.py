"""A stand-in SQLAlchemy refuses, in a try block the migration's own handler takes.

superset's downgrade queries ``session.query(SqlaTable)`` with its models' module stood in:
SQLAlchemy raises ArgumentError ("Column expression, FROM clause, or other columns clause
element expected, got <stand-in for ...>"), the migration's ``except Exception`` logs it and
goes on, and what the try block would have done (a SELECT, an UPDATE per row) was left out
without a word. While the migrations run, such an error is told as a use of the stand-in
the migration's handler took (``Reach.HANDLED``); where nothing takes it, the run fails
and says so itself, and the use is not told twice (``told_by``).
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any

import sqlalchemy.exc

from migsafe.capture.stand_ins import LOG, Reach, ValueUse

_SHOWN = re.compile(r"<stand-in for ([^>]+)>")


@contextlib.contextmanager
def refusals_told() -> Iterator[None]:
    """While inside, an ArgumentError SQLAlchemy makes about a stand-in, during a
    migration's run, is told as a use of it at the migration's line."""
    original = sqlalchemy.exc.ArgumentError.__init__

    def told(self: sqlalchemy.exc.ArgumentError, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        use = _use(str(args[0]) if args else "")
        if use is not None:
            LOG.value_uses.append(use)
            self._migsafe_use = use  # type: ignore[attr-defined]

    sqlalchemy.exc.ArgumentError.__init__ = told  # type: ignore[method-assign]
    try:
        yield
    finally:
        sqlalchemy.exc.ArgumentError.__init__ = original  # type: ignore[method-assign]


def _use(message: str) -> ValueUse | None:
    """The use a refusal of a stand-in is, at the innermost line of the migration file."""
    shown = _SHOWN.search(message)
    if shown is None or not LOG.current_file or LOG.importing:
        return None
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename != LOG.current_file:
        frame = frame.f_back
    if frame is None:
        return None
    name = shown.group(1)
    how = "hands {name} to SQLAlchemy, which refuses it"
    return ValueUse(name, LOG.shown_roots.get(name, name.split(".")[0]), frame.f_lineno, how,
                    Reach.HANDLED)  # fmt: skip


def told_by(exc: BaseException) -> ValueUse | None:
    """The use an error that ended a run was told as already (the failure says it)."""
    return getattr(exc, "_migsafe_use", None)

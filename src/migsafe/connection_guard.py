"""Every database connection a migration opens, checked before a statement runs on it.

roundtrip lets a migration (and env.py) reach only the database migsafe created; check runs
offline and lets none through. A migration may connect through SQLAlchemy (an engine of its
own, from alembic.ini's URL or an environment variable) or through the driver itself
(``psycopg.connect(os.environ["PROD_DSN"])``): both are seen here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool


@contextmanager
def connections_checked(check: Callable[[Any], None]) -> Iterator[None]:
    """``check(dbapi_connection)`` each connection opened meanwhile: it closes and raises
    for one it refuses."""
    event.listen(Pool, "connect", check)
    try:
        with _driver_connections_checked(check):
            yield
    finally:
        event.remove(Pool, "connect", check)


@contextmanager
def _driver_connections_checked(check: Callable[[Any], None]) -> Iterator[None]:
    """``check`` every connection psycopg makes (its Connection classes, however they
    were reached: ``psycopg.connect`` is bound when psycopg is imported), and those of
    psycopg2's ``connect`` where it is installed."""
    import psycopg

    patched: list[tuple[Any, str, Any]] = []

    def checked_init(original: Any) -> Any:
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            check(self)

        return init

    for cls in (psycopg.Connection, psycopg.AsyncConnection):
        patched.append((cls, "__init__", cls.__init__))
        cls.__init__ = checked_init(cls.__init__)  # type: ignore[method-assign]
    psycopg2 = sys.modules.get("psycopg2")
    if psycopg2 is not None:
        connect = psycopg2.connect

        def checked_connect(*args: Any, **kwargs: Any) -> Any:
            opened = connect(*args, **kwargs)
            check(opened)
            return opened

        patched.append((psycopg2, "connect", connect))
        psycopg2.connect = checked_connect
    try:
        yield
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)

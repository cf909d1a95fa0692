"""Every database connection a migration opens, checked before a statement runs on it.

roundtrip lets a migration (and env.py) reach only the database migsafe created; check runs
offline and lets none through. A migration may connect through SQLAlchemy (an engine of its
own, from alembic.ini's URL or an environment variable) or through the driver itself
(``psycopg.connect(os.environ["PROD_DSN"])``): both are seen here.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool

from migsafe.import_hooks import patched_when_imported


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
    psycopg2's ``connect``.

    A driver already imported is patched now; one imported meanwhile (by a migration, or by
    the SQLAlchemy dialect of an engine it makes) is patched as its import ends. Importing
    psycopg only to patch it would cost check, which never connects, 40 ms.
    """
    patched: list[tuple[Any, str, Any]] = []

    def patch(module: types.ModuleType) -> None:
        for owner, name, wrapper in _checked_entry_points(module, check):
            patched.append((owner, name, getattr(owner, name)))
            setattr(owner, name, wrapper)

    try:
        with patched_when_imported(_DRIVERS, patch):
            yield
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


_DRIVERS = ("psycopg", "psycopg2")


def _checked_entry_points(
    module: types.ModuleType, check: Callable[[Any], None]
) -> list[tuple[Any, str, Any]]:
    """(owner, attribute, checked replacement) for where a driver makes its connections."""
    if module.__name__ == "psycopg":
        return [
            (cls, "__init__", _checked_init(cls.__init__, check))
            for cls in (module.Connection, module.AsyncConnection)
        ]
    connect = module.connect

    def checked_connect(*args: Any, **kwargs: Any) -> Any:
        opened = connect(*args, **kwargs)
        check(opened)
        return opened

    return [(module, "connect", checked_connect)]


def _checked_init(original: Any, check: Callable[[Any], None]) -> Any:
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        check(self)

    return init

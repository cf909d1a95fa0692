"""SQLAlchemy 1.x's calls that 2.0 removed, run while capturing as 1.4 ran them.

migsafe runs on SQLAlchemy 2; many released histories were written for the 1.x their
application still pins, and run there: ``select([table.c.id], whereclause)`` (backend.ai,
designate) and ``connection.execute("SELECT ...")`` (cloudkitty, indico). Under 2.0 both
raise, and the capture stops at that line although the migration works where it is
deployed. So do ``session.execute(session.query(Slice))`` (superset's paginated
updates), which 2.1 refuses as not executable, a ``MetaData(bind=engine)`` that is then
reflected (murano's helpers, superset), ``table.insert(values=...)`` and ``row["id"]``.
While capturing,
these forms do what 1.4 did with them; every other call is passed to SQLAlchemy 2 as it is,
so code written for 2.0 is never changed.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import re
import types
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy
from sqlalchemy import MetaData, Table, sql
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql import expression
from sqlalchemy.sql.expression import TableClause

from migsafe.import_hooks import patched_when_imported

# where migrations find select(): ``sa.select``, ``from sqlalchemy.sql import select``, ...
_SELECT_HOMES = (sqlalchemy, sql, expression)

# the bind each ``MetaData(bind=...)`` was given while capturing
_BINDS: weakref.WeakKeyDictionary[MetaData, Any] = weakref.WeakKeyDictionary()

# 1.x's keyword arguments of select(), and the 2.0 method each became
_SELECT_KEYWORDS = {
    "whereclause": "where",
    "from_obj": "select_from",
    "order_by": "order_by",
    "group_by": "group_by",
    "having": "having",
    "limit": "limit",
    "offset": "offset",
}


@contextlib.contextmanager
def sqlalchemy_1x_calls() -> Iterator[None]:
    """While inside, the 1.x forms run as in 1.4: ``select([...])``,
    ``Connection.execute("SQL")``, ``Session.execute(query)``, a bound ``MetaData(bind=)``
    (``reflect()``, ``create_all()``, ``Table(..., autoload=True)`` use its bind), and
    ``table.insert(values=)``, ``update(whereclause, values)``, ``delete(whereclause)``,
    and a row indexed by a column's name (``row["subject"]``)."""
    patches: list[tuple[Any, str, Callable[[Any], Any]]] = [
        *((home, "select", _accepting_a_list) for home in _SELECT_HOMES),
        (Connection, "execute", _accepting_a_string),
        (MetaData, "__init__", _keeping_its_bind),
        *((MetaData, name, _on_the_bind) for name in ("reflect", "create_all", "drop_all")),
        *((Table, name, _on_the_tables_bind) for name in ("create", "drop")),
        (Table, "__init__", _autoloading_on_the_bind),
        *((TableClause, name, _with_clauses) for name in ("insert", "update", "delete")),
        (Row, "__getitem__", _keyed_by_name),
    ]
    originals: list[tuple[Any, str, Any]] = []

    def apply(owner: Any, name: str, legacy: Callable[[Any], Any]) -> None:
        originals.append((owner, name, getattr(owner, name)))
        setattr(owner, name, legacy(getattr(owner, name)))

    def orm_imported(orm: types.ModuleType) -> None:  # by a migration, or imported already
        apply(orm.Session, "execute", _accepting_a_query)

    for owner, name, legacy in patches:
        apply(owner, name, legacy)
    try:
        with patched_when_imported(("sqlalchemy.orm",), orm_imported):
            yield
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)


def _keyed_by_name(getitem: Callable[..., Any]) -> Callable[..., Any]:
    """``row["subject"]``: 1.x's rows were mappings too (waiverdb, manila)."""

    @functools.wraps(getitem)
    def legacy_getitem(self: Row, key: Any) -> Any:
        if isinstance(key, str):
            return self._mapping[key]
        return getitem(self, key)

    return legacy_getitem


def _keeping_its_bind(init: Callable[..., Any]) -> Callable[..., Any]:
    """``MetaData(bind=engine)``: 1.x bound it; what runs on it later finds the bind."""

    @functools.wraps(init)
    def legacy_init(self: MetaData, *args: Any, bind: Any = None, **kw: Any) -> None:
        init(self, *args, **kw)
        if bind is not None:
            _BINDS[self] = bind

    return legacy_init


def _on_the_bind(method: Callable[..., Any]) -> Callable[..., Any]:
    """``metadata.reflect()`` (``create_all()``, ``drop_all()``) of a bound MetaData."""

    @functools.wraps(method)
    def legacy_method(self: MetaData, bind: Any = None, *args: Any, **kw: Any) -> Any:
        return method(self, bind if bind is not None else _BINDS.get(self), *args, **kw)

    return legacy_method


def _on_the_tables_bind(method: Callable[..., Any]) -> Callable[..., Any]:
    """``table.create()`` (``drop()``) of a table on a bound MetaData."""

    @functools.wraps(method)
    def legacy_method(self: Table, bind: Any = None, *args: Any, **kw: Any) -> Any:
        return method(self, bind if bind is not None else _BINDS.get(self.metadata), *args, **kw)

    return legacy_method


def _autoloading_on_the_bind(init: Callable[..., Any]) -> Callable[..., Any]:
    """``Table("t", metadata, autoload=True)``: reflected through the MetaData's bind."""

    @functools.wraps(init)
    def legacy_init(self: Table, name: str, metadata: MetaData, *args: Any, **kw: Any) -> Any:
        if kw.pop("autoload", False) and kw.get("autoload_with") is None:
            kw["autoload_with"] = _BINDS.get(metadata)
        return init(self, name, metadata, *args, **kw)

    return legacy_init


def _with_clauses(method: Callable[..., Any]) -> Callable[..., Any]:
    """``table.insert(values=...)``, ``table.update(whereclause, values=...)``,
    ``table.delete(whereclause)``: 1.x took the clauses as arguments."""

    @functools.wraps(method)
    def legacy_method(self: TableClause, *args: Any, **kw: Any) -> Any:
        names = ("values",) if method.__name__ == "insert" else ("whereclause", "values")
        given = dict(zip(names, args, strict=False)) | kw
        if len(args) > len(names) or set(given) - {"whereclause", "values", "inline"}:
            return method(self, *args, **kw)  # not a 1.x call after all: SQLAlchemy says so
        statement = method(self)
        if given.get("whereclause") is not None:
            statement = statement.where(given["whereclause"])
        if given.get("values") is not None:
            statement = statement.values(given["values"])
        return statement.inline() if given.get("inline") else statement

    return legacy_method


def _accepting_a_list(select: Callable[..., Any]) -> Callable[..., Any]:
    """``select([columns], whereclause, from_obj=..., order_by=..., distinct=True)``."""

    @functools.wraps(select)
    def legacy_select(*args: Any, **kw: Any) -> Any:
        if not args or not isinstance(args[0], (list, tuple)) or len(args) > 2:
            return select(*args, **kw)
        if len(args) == 2:
            kw["whereclause"] = args[1]
        if any(key not in _SELECT_KEYWORDS and key != "distinct" for key in kw):
            return select(*args, **kw)  # not a 1.x call after all: SQLAlchemy says so
        statement = select(*args[0])
        for key, method in _SELECT_KEYWORDS.items():
            value = kw.get(key)
            if value is not None:
                many = isinstance(value, (list, tuple)) and method != "limit"
                statement = getattr(statement, method)(*(value if many else (value,)))
        return statement.distinct() if kw.get("distinct") else statement

    return legacy_select


def _accepting_a_string(execute: Callable[..., Any]) -> Callable[..., Any]:
    """``connection.execute("SQL", params)``: 1.x passed the string to the driver as it
    was (``exec_driver_sql``), parameters in the driver's style (psycopg2's ``%s``); and
    ``connection.execute(statement, a=1)``, its keyword arguments one set of parameters."""

    @functools.wraps(execute)
    def legacy_execute(self: Connection, statement: Any, *multiparams: Any, **params: Any) -> Any:
        options = params.pop("execution_options", None)
        if "parameters" in params:  # 2.0's own keyword
            multiparams = (*multiparams, params.pop("parameters"))
        legacy = isinstance(statement, str) or len(multiparams) > 1 or params
        if not legacy:
            return execute(self, statement, *multiparams, execution_options=options)
        if len(multiparams) == 1:
            parameters = multiparams[0]
        else:
            parameters = list(multiparams) if multiparams else params or None
        if not isinstance(statement, str):
            return execute(self, statement, parameters, execution_options=options)
        numbered, parameters = _numbered(statement, parameters)
        return self.exec_driver_sql(numbered, parameters, execution_options=options)

    return legacy_execute


def _accepting_a_query(execute: Callable[..., Any]) -> Callable[..., Any]:
    """``session.execute(query)`` of a legacy ``Query``: 1.4 ran its statement, whose rows
    hold the entities the query names."""

    from sqlalchemy.orm import Query  # imported already: a Session is running

    @functools.wraps(execute)
    def legacy_execute(self: Any, statement: Any, *args: Any, **kw: Any) -> Any:
        if isinstance(statement, Query):
            statement = statement.statement
        return execute(self, statement, *args, **kw)

    return legacy_execute


_PYFORMAT = re.compile(r"%%|%s|%\((\w+)\)s")


def _numbered(sql: str, parameters: Any) -> tuple[str, Any]:
    """psycopg2's placeholders as PostgreSQL numbers them (``$1``), which the recorded SQL
    is parsed with, and the parameters in that order; a string run without parameters is
    left as psycopg2 leaves it."""
    if parameters is None:
        return sql, parameters
    names: dict[str, int] = {}
    positions = itertools.count(1)

    def number(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        name = match.group(1)
        if name is None:  # positional: each its own
            return f"${next(positions)}"
        return f"${names.setdefault(name, len(names) + 1)}"

    numbered = _PYFORMAT.sub(number, sql)
    if names and isinstance(parameters, dict):
        parameters = tuple(parameters.get(name) for name in names)
    return numbered, parameters

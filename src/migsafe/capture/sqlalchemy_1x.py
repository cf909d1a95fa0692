"""SQLAlchemy 1.x's calls that 2.0 removed, run while capturing as 1.4 ran them.

migsafe runs on SQLAlchemy 2; many released histories were written for the 1.x their
application still pins, and run there: ``select([table.c.id], whereclause)`` (backend.ai,
designate) and ``connection.execute("SELECT ...")`` (cloudkitty, indico). Under 2.0 both
raise, and the capture stops at that line although the migration works where it is
deployed. So does ``session.execute(session.query(Slice))`` (superset's paginated
updates), which 2.1 refuses as not executable. While capturing, these forms do what 1.4 did
with them; every other call is passed to SQLAlchemy 2 as it is, so code written for 2.0 is
never changed.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy
from sqlalchemy import sql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Query, Session
from sqlalchemy.sql import expression

# where migrations find select(): ``sa.select``, ``from sqlalchemy.sql import select``, ...
_SELECT_HOMES = (sqlalchemy, sql, expression)

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
    """While inside, ``select([...])``, ``Connection.execute("SQL")`` and
    ``Session.execute(query)`` run as in 1.4."""
    selects = {home: home.select for home in _SELECT_HOMES}
    execute = Connection.execute
    session_execute = Session.execute
    for home, select in selects.items():
        home.select = _accepting_a_list(select)  # type: ignore[attr-defined]
    Connection.execute = _accepting_a_string(execute)  # type: ignore[method-assign]
    Session.execute = _accepting_a_query(session_execute)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for home, select in selects.items():
            home.select = select  # type: ignore[attr-defined]
        Connection.execute = execute  # type: ignore[method-assign]
        Session.execute = session_execute  # type: ignore[method-assign]


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

    @functools.wraps(execute)
    def legacy_execute(self: Session, statement: Any, *args: Any, **kw: Any) -> Any:
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

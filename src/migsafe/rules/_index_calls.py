"""An index build as the user's own call, made concurrent, for every recipe that moves one into
an autocommit block. Not a rule (its name starts with an underscore)."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from alembic.operations import ops
from pglast import ast
from pglast.stream import RawStream
from sqlalchemy.sql.elements import TextClause, conv

from migsafe.rule import py_literal


def concurrent_call(operation: object, node: ast.IndexStmt) -> str:
    """The user's own call, made concurrent; as SQL when an argument cannot be written back."""
    if isinstance(operation, ops.CreateIndexOp):
        call = create_index_call(operation)
        if call is not None:
            return call
    concurrent = copy.deepcopy(node)
    concurrent.concurrent = True
    return f"op.execute({py_literal(RawStream()(concurrent))})"


def create_index_call(operation: ops.CreateIndexOp) -> str | None:
    """``op.create_index(...)`` with every argument of ``operation`` (a WHERE, a USING, an
    expression column): a recipe that drops one builds another index. None when an argument
    is an SQLAlchemy expression this cannot write back as code."""
    name = _code(operation.index_name)
    columns = _code(list(operation.columns))
    options: dict[str, object] = {}
    if operation.unique:
        options["unique"] = True
    if operation.schema:
        options["schema"] = operation.schema
    if operation.if_not_exists:
        options["if_not_exists"] = True
    options.update((k, v) for k, v in operation.kw.items() if k != "postgresql_concurrently")
    keywords = {k: _code(v) for k, v in options.items()}
    if name is None or columns is None or None in keywords.values():
        return None
    args = [name, py_literal(operation.table_name), columns]
    args += [f"{k}={v}" for k, v in keywords.items()]
    return f"op.create_index({', '.join(args)}, postgresql_concurrently=True)"


def _code(value: object) -> str | None:
    """``value`` as Python source when it is a literal, ``op.f()`` or ``sa.text()``."""
    if isinstance(value, conv):
        return f"op.f({py_literal(str(value))})"
    if isinstance(value, TextClause):
        return f"sa.text({py_literal(value.text)})"
    if value is None or isinstance(value, (str, bool, int, float)):
        return py_literal(value)
    if isinstance(value, (list, tuple)):
        items = _all_code(value)
        return None if items is None else f"[{', '.join(items)}]"
    if isinstance(value, dict):
        keys, values = _all_code(value.keys()), _all_code(value.values())
        if keys is None or values is None:
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, values, strict=True)) + "}"
    return None


def _all_code(values: Iterable[object]) -> list[str] | None:
    codes = [_code(value) for value in values]
    return [code for code in codes if code is not None] if None not in codes else None

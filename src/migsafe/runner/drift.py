"""Model drift: Alembic's autogenerate differences, one readable line each."""

from __future__ import annotations

from typing import Any


def describe_drift(difference: Any) -> str:
    """``compare_metadata`` yields tuples (add/remove) and lists of tuples (modify)."""
    if isinstance(difference, list):
        return "; ".join(describe_drift(item) for item in difference)
    operation, *arguments = difference
    if operation.startswith("modify_"):
        schema, table, column, _existing, old, new = arguments
        what = operation.removeprefix("modify_")
        return (
            f"{_qualified(schema, table)}.{column}: {what} in the database is {old!r}, the "
            f"model says {new!r}"
        )
    action, _, kind = operation.partition("_")
    where = "only in the model" if action == "add" else "only in the database"
    return f"{kind} {_name(arguments)}: {where}"


def _name(arguments: list[Any]) -> str:
    if len(arguments) == 3:  # schema, table, column
        schema, table, column = arguments
        return f"{_qualified(schema, table)}.{getattr(column, 'name', column)}"
    target = arguments[-1]
    name = getattr(target, "name", None) or str(target)
    table = getattr(target, "table", None)
    if table is not None and getattr(table, "name", None) and table.name != name:
        return f"{_qualified(getattr(table, 'schema', None), table.name)}.{name}"
    return _qualified(getattr(target, "schema", None), str(name))


def _qualified(schema: str | None, name: str) -> str:
    """``app.t`` for a table of schema ``app``; ``t`` in the default one."""
    return f"{schema}.{name}" if schema and schema != "public" else name

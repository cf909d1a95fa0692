"""Model drift: Alembic's autogenerate differences, one readable line each."""

from __future__ import annotations

from typing import Any


def describe_drift(difference: Any) -> str:
    """``compare_metadata`` yields tuples (add/remove) and lists of tuples (modify)."""
    if isinstance(difference, list):
        return "; ".join(describe_drift(item) for item in difference)
    operation, *arguments = difference
    if operation.startswith("modify_"):
        _schema, table, column, _existing, old, new = arguments
        what = operation.removeprefix("modify_")
        return f"{table}.{column}: {what} in the database is {old!r}, the model says {new!r}"
    action, _, kind = operation.partition("_")
    where = "only in the model" if action == "add" else "only in the database"
    return f"{kind} {_name(arguments)}: {where}"


def _name(arguments: list[Any]) -> str:
    if len(arguments) == 3:  # schema, table, column
        _schema, table, column = arguments
        return f"{table}.{getattr(column, 'name', column)}"
    target = arguments[-1]
    name = getattr(target, "name", None) or str(target)
    table = getattr(getattr(target, "table", None), "name", None)
    return f"{table}.{name}" if table and table != name else str(name)

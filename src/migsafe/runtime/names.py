"""Identifiers as SQL, for the statements the helpers write themselves."""

from __future__ import annotations


def quoted(name: str) -> str:
    """``name`` as a quoted identifier: exactly that name, whatever its case or characters."""
    return '"{}"'.format(name.replace('"', '""'))


def qualified(schema: str | None, name: str) -> str:
    return f"{quoted(schema)}.{quoted(name)}" if schema else quoted(name)

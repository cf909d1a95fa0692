"""Which type changes PostgreSQL makes without being told how (``ALTER COLUMN ... TYPE``
without ``USING`` takes only an assignment cast), for the rules that say a change fails, or
write one. Not a rule (its name starts with an underscore)."""

from __future__ import annotations

from pglast import ast

from migsafe.revision import RevisionContext, type_parts
from migsafe.sql import Statement

# text types: PostgreSQL converts them to the built-in types below only by an explicit cast
# (their I/O conversion), never by the assignment cast ALTER COLUMN ... TYPE uses without
# USING (an extension's type may add one: citext takes text by assignment)
_TEXT_TYPES = {"text", "varchar", "bpchar", "name"}
_BUILT_IN = {
    "int2", "int4", "int8", "numeric", "float4", "float8", "bool", "date", "time", "timetz",
    "timestamp", "timestamptz", "interval", "uuid", "json", "jsonb", "bytea", "inet", "cidr",
    "macaddr", "money", "bit", "varbit", "tsvector",
}  # fmt: skip


def no_automatic_cast(
    rev: RevisionContext, stmt: Statement, old: ast.TypeName | None, new: ast.TypeName
) -> bool:
    """Whether ALTER COLUMN ... TYPE without USING fails: from a text type to a type that
    is none (mindsdb's varchar to integer), or to or from an enum of the schema (an enum
    to another: neutron-vpnaas), which has casts only to and from text explicitly."""
    if old is None or bool(old.arrayBounds) != bool(new.arrayBounds):
        return False
    (old_name, _), (new_name, _) = type_parts(old), type_parts(new)
    if old_name == new_name:
        return False
    schema = rev.schema_at(stmt)
    enums = {name for _, name in schema.enums} if schema is not None else set()
    if new_name in enums:
        return True
    if old_name in enums:
        return new_name in _BUILT_IN  # an enum to text goes by assignment
    return old_name in _TEXT_TYPES and new_name in _BUILT_IN

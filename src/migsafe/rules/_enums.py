"""The native enum an Alembic call gives a column, and its key in the schema, for the rules
about enum types (enum-type-missing, enum-labels-not-added, drop-type-still-used,
object-already-exists). Not a rule (its name starts
with an underscore)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops

from migsafe.catalog import DEFAULT_SCHEMA, Catalog, Name, dotted_name
from migsafe.sql import TableName


def native_enum(operation: object) -> sa.Enum | None:
    """The PostgreSQL enum type an add_column() or alter_column() gives its column (of an
    array too); None for anything else, or an enum stored as text (``native_enum=False``)."""
    if isinstance(operation, ops.AddColumnOp):
        return enum_type(operation.column.type)
    if isinstance(operation, ops.AlterColumnOp):
        return enum_type(operation.modify_type)
    return None


def enum_type(kind: object) -> sa.Enum | None:
    """The PostgreSQL enum type ``kind`` is (or is an array of); None for anything else."""
    if isinstance(kind, sa.ARRAY):
        kind = kind.item_type
    if isinstance(kind, sa.Enum) and kind.native_enum and kind.name:
        return kind
    return None


def enum_key(enum: sa.Enum) -> Name:
    """The type as the schema keys it: SQLAlchemy writes it unqualified unless the enum
    names a schema, so PostgreSQL finds it on the search path, not in the table's schema."""
    return (enum.schema or DEFAULT_SCHEMA, enum.name)


def columns_of_type(
    schema: Catalog, key: Name, revision: str | None
) -> list[tuple[TableName, str]]:
    """The columns the schema knows to have the type ``key``: of tables it knows for sure
    (every revision before was captured to its end, or this one made the table)."""
    return [
        (TableName.from_key(table.name), column.name)
        for table in schema.tables.values()
        if schema.exact or schema.certain(table.name, revision)
        for column in table.columns.values()
        if column.type is not None and dotted_name(column.type.names) == key
    ]

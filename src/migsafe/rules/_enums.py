"""The native enum an Alembic call gives a column, and its key in the schema, for the rules
about enum types (enum-type-missing, enum-labels-not-added). Not a rule (its name starts
with an underscore)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops

from migsafe.catalog import DEFAULT_SCHEMA, Name


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

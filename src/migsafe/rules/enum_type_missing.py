"""enum-type-missing: add_column() or alter_column() of an enum type nothing created."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from alembic.operations import ops

from migsafe.catalog import Catalog
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.rules._enums import enum_key, native_enum
from migsafe.sql import TableName

RULE = Rule(
    code="MS066",
    name="enum-type-missing",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Create the enum type first: sa.Enum(...).create(op.get_bind(), checkfirst=True).",
    references=(PG_DOCS + "datatype-enum.html", PG_DOCS + "sql-createtype.html"),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="A column of an enum type that neither the history nor the migration creates.",
    why=(
        "op.create_table() creates the enum types its columns use, but op.add_column() and "
        "op.alter_column() do not: on PostgreSQL the statement fails with 'type ... does "
        "not exist' unless an earlier revision made the type. SQLite and MySQL have no "
        "enum types to create, so the migration works there and fails on deploy. Judged "
        "where the schema the history built is known whole, and is all of it: a history "
        "that alters tables its application made may use their types too."
    ),
    fix="""\
{enum}.create(op.get_bind(), checkfirst=True)  # add_column() does not create it
{call}""",
    bad=(
        """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
    op.add_column("orders", sa.Column("status", sa.Enum("new", "paid", name="order_status")))
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
    status = sa.Enum("new", "paid", name="order_status")
    status.create(op.get_bind(), checkfirst=True)
    op.add_column("orders", sa.Column("status", status))
""",
    ),
    fails=True,
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    """Only where the schema is known whole and holds the table: a type made outside the
    history read (with a table it did not make, or past a revision not captured to its
    end) may well exist."""
    if rev.schema_before is None or not rev.schema_before.exact:
        return
    judged: set[int] = set()  # one call may render several statements
    for stmt in rev.statements(RULE):
        enum = native_enum(stmt.operation)
        if enum is None or not _creates(enum) or stmt.table is None:
            continue
        if id(stmt.operation) in judged:
            continue
        judged.add(id(stmt.operation))
        schema = rev.schema_at(stmt)
        name = enum_key(enum)
        if schema is None or not schema.exact or name in schema.enums:
            continue
        if schema.table(stmt.table.key) is None or _built_on_tables_made_outside(schema):
            continue  # a table made outside the history read: so may the type have been
        type_sql = TableName.from_key(name).sql
        if name in schema.tables and name == stmt.table.key:  # designate's service_statuses
            yield rev.finding(
                RULE,
                stmt,
                f'Column {stmt.table.sql}."{_column_of(stmt.operation)}" is of the enum type '
                f"{type_sql}, which no revision before it creates and this call does not: "
                "that name is the table's own row type, and on PostgreSQL it fails with "
                f'"composite type {type_sql} cannot be made a member of itself".',
                enum=_enum_code(enum),
                call=rev.source_at(stmt.line) or "...",
            )
            continue
        if name in schema.tables:
            continue  # another table's row type has that name: no enum, but it exists
        yield rev.finding(
            RULE,
            stmt,
            f'Column {stmt.table.sql}."{_column_of(stmt.operation)}" is of the enum type '
            f"{type_sql}, which no revision before it creates and this call does not: on "
            f'PostgreSQL it fails with "type {type_sql} does not exist".',
            enum=_enum_code(enum),
            call=rev.source_at(stmt.line) or "...",
        )


def _built_on_tables_made_outside(schema: Catalog) -> bool:
    """The history alters tables it never made (faraday's first revision alters what the
    application's ``create_all()`` made): the types that made them with their tables
    (``object_types``) are as unknown to it."""
    return any(table.partial for table in schema.tables.values())


def _creates(enum: sa.Enum) -> bool:
    """``create_type=False`` says the type is made elsewhere (in a DO block, raw SQL, an
    earlier revision): where the schema does not show it, migsafe takes the call's word."""
    return getattr(enum, "create_type", True) is not False


def _column_of(operation: object) -> str:
    if isinstance(operation, ops.AddColumnOp):
        return operation.column.name
    return getattr(operation, "column_name", "")


def _enum_code(enum: sa.Enum) -> str:
    labels = ", ".join(py_literal(label) for label in enum.enums)
    schema = f", schema={py_literal(enum.schema)}" if enum.schema else ""
    return f"sa.Enum({labels}, name={py_literal(enum.name)}{schema})"

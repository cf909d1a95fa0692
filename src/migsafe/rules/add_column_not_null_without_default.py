"""add-column-not-null-without-default: the ALTER fails on any table that has rows."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migsafe.findings import Finding, Severity
from migsafe.revision import (
    NOT_NULL,
    RevisionContext,
    alter_commands,
    column_type_code,
    constraint_types,
    fills_existing_rows,
    table_values,
)
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.rules._same_revision import added_without_values, not_null_check_column
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS009",
    name="add-column-not-null-without-default",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Give the column a constant server_default, or add it nullable and backfill first.",
    references=(PG_DOCS + "sql-altertable.html",),
    directions=(UPGRADE, DOWNGRADE),
    summary="Adding a NOT NULL column without a default fails on a table that has rows.",
    why=(
        "PostgreSQL must fill the new column for every existing row; with NOT NULL and no "
        'default there is no value to fill, so the ALTER fails with "column contains null '
        'values" in production, although it passed on an empty development database. Since '
        "PostgreSQL 11 a constant server default is stored in the catalog and the ALTER is "
        "instant. A column added without a default and then made NOT NULL (SET NOT NULL, or "
        "a CHECK (column IS NOT NULL)) before anything fills it fails the same way."
    ),
    fix="""\
# either give it a constant server default (instant on PostgreSQL >= 11):
op.add_column({table!r}, sa.Column({column!r}, {type}, nullable=False, server_default=...){schema})
# or add it nullable, backfill in batches, then enforce NOT NULL (see set-not-null):
op.add_column({table!r}, sa.Column({column!r}, {type}, nullable=True){schema})""",
    bad=(
        """\
def upgrade():
    op.add_column("users", sa.Column("tenant_id", sa.Integer(), nullable=False))
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("users", sa.Column("active", sa.Boolean(), nullable=False,
                                     server_default=sa.true()))
""",
        """\
def upgrade():
    op.add_column("users", sa.Column("tenant_id", sa.Integer(), nullable=True))
""",
    ),
    fails=True,
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        yield from _made_not_null_unfilled(rev, stmt)
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            column = cmd.def_
            if constraint_types(column) & NOT_NULL and not fills_existing_rows(column):
                if _emptied_before(rev, stmt):
                    continue
                yield rev.finding(
                    RULE,
                    stmt,
                    f'Adding NOT NULL column "{column.colname}" to {stmt.table.sql} without a '
                    "default fails as soon as the table has a row.",
                    **table_values(stmt.table),
                    column=column.colname,
                    type=column_type_code(stmt.operation, column.typeName),
                )


def _made_not_null_unfilled(rev: RevisionContext, stmt: Statement) -> Iterator[Finding]:
    """A column added without a default earlier in the function and made NOT NULL here
    (SET NOT NULL, or rucio's CHECK (purge_replicas IS NOT NULL)) with nothing written into
    it between: the same failure as adding it NOT NULL at once."""
    made_not_null = {
        cmd.name: "made NOT NULL" for cmd in alter_commands(stmt.node, AlterTableType.AT_SetNotNull)
    }
    for cmd in alter_commands(stmt.node, AlterTableType.AT_AddConstraint):
        column = None if getattr(cmd.def_, "skip_validation", True) else (
            not_null_check_column(cmd.def_)
        )  # fmt: skip
        if column is not None:
            made_not_null.setdefault(column, "made NOT NULL")
        if getattr(cmd.def_, "contype", None) == ConstrType.CONSTR_PRIMARY:  # taxhub's
            for key in cmd.def_.keys or ():  # downgrade adds id_nom, then keys on it
                made_not_null.setdefault(key.sval, "made part of the primary key")
    for name, how in made_not_null.items():
        added = added_without_values(rev, stmt, name)
        if added is None or _emptied_before(rev, stmt):
            continue
        column = next(
            cmd.def_ for cmd in alter_commands(added.node, AlterTableType.AT_AddColumn)
            if cmd.def_.colname == name
        )  # fmt: skip
        yield rev.finding(
            RULE,
            stmt,
            f'Column "{name}" of {stmt.table.sql} is added without a default at line '
            f"{added.line}, and nothing fills it before it is {how} here: this fails as "
            "soon as the table has a row.",
            **table_values(stmt.table),
            column=name,
            type=column_type_code(added.operation, column.typeName),
        )


def _emptied_before(rev: RevisionContext, stmt: Statement) -> bool:
    """The same transaction deleted every row of the table before (faraday's ``DELETE FROM
    agent_schedule``, a TRUNCATE): no row is left for the column to fail on."""
    emptied = False
    for earlier in rev.earlier_in_transaction(stmt):
        node = earlier.node
        if isinstance(node, ast.DeleteStmt) and node.whereClause is None:
            emptied = emptied or (earlier.table is not None and earlier.table.key == stmt.table.key)
        elif isinstance(node, ast.TruncateStmt):
            emptied = emptied or any(
                TableName.of(relation).key == stmt.table.key for relation in node.relations
            )
        elif isinstance(node, ast.InsertStmt) and earlier.table == stmt.table:
            emptied = False
    return emptied

"""add-column-then-drop-default: a NOT NULL column the running code does not know loses the
default that its inserts relied on."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migsafe.findings import Finding, Severity
from migsafe.revision import (
    RevisionContext,
    alter_commands,
    constraint_types,
    is_null_constant,
    table_values,
)
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS063",
    name="add-column-then-drop-default",
    severity=Severity.ERROR,
    category=Category.COMPATIBILITY,
    help="Keep the server default until the code that writes the column is deployed.",
    references=(PG_DOCS + "sql-altertable.html", PG_DOCS + "ddl-default.html"),
    summary=(
        "A NOT NULL column added with a default loses it in the same revision: the running "
        "code's inserts fail."
    ),
    why=(
        "Adding a NOT NULL column with a server default and dropping the default right after "
        "fills the existing rows and leaves the column strict, a common way to add a "
        "required column. But the application still running during the deploy does not "
        "know the column: its INSERTs leave it out, get no default, and fail with a NOT NULL "
        "violation from the moment the migration commits until the new code is out. Drop "
        "the default in a later revision, deployed after the code that writes the column."
    ),
    fix="""\
# This revision: keep the server default, so the running code's inserts still work.
# A later revision, after the deploy of code that always writes {column_sql}:
op.alter_column({table!r}, {column!r}, server_default=None{schema})""",
    bad=(
        """\
def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=False,
                                      server_default="pending"))
    op.alter_column("orders", "status", server_default=None)
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=False,
                                      server_default="pending"))
""",
        """\
def upgrade():
    op.create_table("payments", sa.Column("id", sa.BigInteger(), primary_key=True),
                    sa.Column("status", sa.Text(), nullable=False, server_default="new"))
    op.alter_column("payments", "status", server_default=None)
""",
    ),
    since="0.2.0",
)

_NOT_NULL = {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY}


def check(rev: RevisionContext) -> Iterator[Finding]:
    """DROP DEFAULT (or SET DEFAULT NULL) in upgrade() on a column that the same function
    added to an existing table and that is NOT NULL by then (as added, or set since)."""
    added: dict[tuple[TableName, str], bool] = {}  # -> NOT NULL so far
    for stmt in rev.existing_table_statements(RULE):
        table = stmt.table
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            added[(table, cmd.def_.colname)] = bool(constraint_types(cmd.def_) & _NOT_NULL)
        for cmd in alter_commands(stmt.node, AlterTableType.AT_SetNotNull):
            if (table, cmd.name) in added:
                added[(table, cmd.name)] = True
        for cmd in alter_commands(stmt.node, AlterTableType.AT_ColumnDefault):
            if added.get((table, cmd.name)) and _drops(cmd):
                yield _finding(rev, stmt, table, cmd.name)


def _drops(command: ast.AlterTableCmd) -> bool:
    """DROP DEFAULT, or SET DEFAULT NULL (what ``server_default=sa.null()`` renders)."""
    return command.def_ is None or is_null_constant(command.def_)


def _finding(rev: RevisionContext, stmt: Statement, table: TableName, column: str) -> Finding:
    column_sql = quote_identifier(column)
    return rev.finding(
        RULE,
        stmt,
        f"{table.sql}.{column_sql} is added NOT NULL and its default dropped in the same "
        "revision: the running code does not know the column, and its inserts fail until "
        "the new code is deployed.",
        **table_values(table),
        column=column,
        column_sql=column_sql,
    )

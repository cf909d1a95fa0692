"""drop-not-null: the running code may read NULLs it does not expect."""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import AlterTableType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.rules._same_revision import (
    columns_dropped_later,
    named_in_revision,
    table_dropped_later,
)
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS040",
    name="drop-not-null",
    severity=Severity.NOTICE,
    category=Category.COMPATIBILITY,
    help="Deploy code that copes with NULL in the column before any code writes one.",
    references=(PG_DOCS + "sql-altertable.html",),
    summary="Dropping NOT NULL lets NULLs in that the running code may not expect.",
    why=(
        "The change itself is instant and safe, but the old version of the application, "
        "still running during a rolling deploy, was written for a column that always holds a "
        "value: its model's type says so, and it formats, compares or validates the value "
        "without checking. Once the new code writes NULL there, the old code that reads "
        "those rows fails (a NoneType error, a validation error)."
    ),
    fix="""\
# Harmless by itself: the risk is the old code reading a NULL the new code wrote.
# Ship code that copes with a NULL {column_sql} (Mapped[... | None], reads that
# handle None) before any code writes one; then the change is safe at any time:
op.alter_column({table!r}, {column!r}, nullable=True{renamed}{schema})""",
    bad=(
        """\
def upgrade():
    op.alter_column("users", "phone", existing_type=sa.Text(), nullable=True)
""",
        """\
def upgrade():
    op.execute("ALTER TABLE users ALTER COLUMN phone DROP NOT NULL")
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("users", sa.Column("phone", sa.Text(), nullable=False,
                                     server_default=""))
    op.alter_column("users", "phone", existing_type=sa.Text(), nullable=True)
""",
        """\
def upgrade():
    op.alter_column("users", "phone", existing_type=sa.Text(), existing_nullable=True,
                    nullable=True, type_=sa.String(40))
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    """DROP NOT NULL on columns of existing tables: not on a column added earlier in the
    function, already nullable, or dropped later in it (drop-column says so)."""
    added: set[tuple[TableName, str]] = set()
    for at, stmt in enumerate(rev.upgrade):
        table = stmt.table
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            added.add((table, cmd.def_.colname))
        for cmd in alter_commands(stmt.node, AlterTableType.AT_DropNotNull):
            column = cmd.name
            if (
                (table, column) in added
                or named_in_revision(rev, at, table)
                or _already_nullable(rev, stmt, column)
                or table_dropped_later(rev, at, table)
                or column in columns_dropped_later(rev, at, table)
            ):
                continue
            new_name = getattr(stmt.operation, "modify_name", None)  # one call renames it too
            also = f" (renamed to {quote_identifier(new_name)})" if new_name else ""
            yield rev.finding(
                RULE,
                stmt,
                f"DROP NOT NULL on {table.sql}.{quote_identifier(column)}{also} lets NULLs in: "
                "the running code may read a NULL it does not expect once new code writes one.",
                **table_values(table),
                column=column,
                column_sql=quote_identifier(new_name or column),
                renamed=f", new_column_name={py_literal(new_name)}" if new_name else "",
            )


def _already_nullable(rev: RevisionContext, stmt: Statement, column: str) -> bool:
    """The call says the column is nullable already, or the history made it so; or it is
    in the table's primary key, where PostgreSQL refuses DROP NOT NULL (NULLs never get
    in: the statement fails)."""
    if getattr(stmt.operation, "existing_nullable", None) is True:
        return True
    if rev.column_before(stmt, column, "nullable") is True:
        return True
    schema = rev.schema_at(stmt)
    table = schema.table(stmt.table.key) if schema is not None and stmt.table else None
    return table is not None and table.in_primary_key(column)

"""rename-table: a renamed table breaks the application code that is still running."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import PG_DOCS, Category, Rule, py_literal, sql_code
from migsafe.rules._same_revision import dropped_before, named_again
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS002",
    name="rename-table",
    severity=Severity.ERROR,
    category=Category.COMPATIBILITY,
    help="Rename, and keep the old name alive with a view until no running code uses it.",
    references=(PG_DOCS + "sql-altertable.html",),
    summary="Renaming a table breaks running code that still uses the old name.",
    why=(
        "The old version of the application keeps querying the old table name until the "
        "deploy finishes; from the moment the rename commits those queries fail with "
        '"relation does not exist". The rename takes an ACCESS EXCLUSIVE lock. A copy '
        "renamed into the place of the table the revision dropped (a swap) keeps the name "
        "the running code queries, and is not judged here (drop-table judges the rows)."
    ),
    fix="""\
{keep}""",
    bad=(
        """\
def upgrade():
    op.rename_table("customers", "clients")
""",
    ),
    good=(
        """\
def upgrade():
    op.rename_table("customers", "clients")
    op.execute('CREATE VIEW "customers" AS SELECT * FROM "clients"')
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    views = rev.views_created
    for stmt in rev.existing_table_statements(RULE):
        node = stmt.node
        if (
            isinstance(node, ast.RenameStmt)
            and node.renameType == ObjectType.OBJECT_TABLE
            and stmt.table not in views
        ):
            old, new = stmt.table, TableName(stmt.table.schema, node.newname)
            if dropped_before(rev, stmt, new):
                continue  # a copy swapped in (networking-odl's journal): the name stays
            yield rev.finding(
                RULE,
                stmt,
                f"Renaming table {old.sql} to {new.sql} breaks the running application, which "
                f"still queries {old.sql} (and takes an {stmt.lock.label} lock).",
                keep=_keep_old_name(rev, stmt, old, new),
            )


def _keep_old_name(rev: RevisionContext, stmt: Statement, old: TableName, new: TableName) -> str:
    """The rename with a view under the old name; when the revision then creates a table of
    that name itself (faraday renames ``action`` and makes a new ``action``), no view can
    take the name, and the running code meets the new table instead."""
    rename = f"op.rename_table({py_literal(old.name)}, {py_literal(new.name)}{old.schema_argument})"
    at = rev.upgrade.index(stmt) if stmt in rev.upgrade else None
    if at is not None and named_again(rev, at, old):
        return (
            f"# {old.sql} is created anew later in this revision: the running code's queries of "
            "it reach the new table.\n# Deploy code that works with both tables first, or give "
            f"the new table a name of its own.\n{rename}"
        )
    view = f"op.execute({sql_code(f'CREATE VIEW {old.sql} AS SELECT * FROM {new.sql}')})"
    last = _last_column_change(rev, at, new) if at is not None else None
    if last is not None:  # invenio-jobs renames, then drops a column of the renamed table
        view = (
            f"# after line {last}: PostgreSQL refuses to drop or retype a column a view "
            f"selects\n{view}"
        )
    return (
        "# Rename, and keep the old name working with a view until no running code uses it:\n"
        f"{rename}\n{view}"
        "  # simple views are updatable\n"
        "# later revision, after the new code is everywhere:\n"
        f"op.execute({sql_code(f'DROP VIEW {old.sql}')})"
    )


def _last_column_change(rev: RevisionContext, at: int, table: TableName) -> int | None:
    """The line of the last statement after ``at`` that drops or retypes a column of
    ``table``: a view on it must come after that."""
    lines = [
        stmt.line
        for stmt in rev.upgrade[at + 1 :]
        if stmt.table == table
        and any(
            alter_commands(stmt.node, kind)
            for kind in (AlterTableType.AT_DropColumn, AlterTableType.AT_AlterColumnType)
        )
    ]
    return max(lines) if lines else None

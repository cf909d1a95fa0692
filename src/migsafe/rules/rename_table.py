"""rename-table: a renamed table breaks the application code that is still running."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.sql import TableName

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
        '"relation does not exist". The rename takes an ACCESS EXCLUSIVE lock.'
    ),
    fix="""\
# Rename, and keep the old name working with a view until no running code uses it:
op.rename_table({old!r}, {new!r}{schema})
op.execute('CREATE VIEW {old_sql} AS SELECT * FROM {new_sql}')  # simple views are updatable
# later revision, after the new code is everywhere:
op.execute('DROP VIEW {old_sql}')""",
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
            yield rev.finding(
                RULE,
                stmt,
                f"Renaming table {old.sql} to {new.sql} breaks the running application, which "
                f"still queries {old.sql} (and takes an {stmt.lock.label} lock).",
                old=old.name,
                new=new.name,
                schema=old.schema_argument,
                old_sql=old.sql,
                new_sql=new.sql,
            )

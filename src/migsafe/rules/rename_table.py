"""rename-table: a renamed table breaks the application code that is still running."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import Rule

RULE = Rule(
    code="MS002",
    name="rename-table",
    severity=Severity.ERROR,
    summary="Renaming a table breaks running code that still uses the old name.",
    why=(
        "The old version of the application keeps querying the old table name until the "
        "deploy finishes; from the moment the rename commits those queries fail with "
        '"relation does not exist". The rename takes an ACCESS EXCLUSIVE lock.'
    ),
    fix="""\
# Rename, and keep the old name working with a view until no running code uses it:
op.rename_table({old!r}, {new!r})
op.execute('CREATE VIEW "{old}" AS SELECT * FROM "{new}"')  # simple views are updatable
# later revision, after the new code is everywhere:
op.execute('DROP VIEW "{old}"')""",
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
    views = _views_created(rev)
    for stmt in rev.existing_table_statements():
        node = stmt.node
        if (
            isinstance(node, ast.RenameStmt)
            and node.renameType == ObjectType.OBJECT_TABLE
            and node.relation.relname not in views
        ):
            old, new = node.relation.relname, node.newname
            yield rev.finding(
                RULE,
                stmt.line,
                f'Renaming table "{old}" to "{new}" breaks the running application, which '
                f'still queries "{old}" (and takes an ACCESS EXCLUSIVE lock).',
                old=old,
                new=new,
            )


def _views_created(rev: RevisionContext) -> set[str]:
    """Old names kept alive by a compatibility view in the same revision."""
    return {stmt.node.view.relname for stmt in rev.upgrade if isinstance(stmt.node, ast.ViewStmt)}

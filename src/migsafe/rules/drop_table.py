"""drop-table: the code still running during the deploy queries the table."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.rules._same_revision import dropped_tables, named_again, named_in_revision

RULE = Rule(
    code="MS038",
    name="drop-table",
    severity=Severity.WARNING,
    category=Category.COMPATIBILITY,
    help="Deploy code that no longer uses the table first; drop it in a later revision.",
    references=(PG_DOCS + "sql-droptable.html",),
    summary="Dropping a table breaks running code that still queries it.",
    why=(
        "During a rolling deploy the old version of the application keeps running until the "
        "new one has replaced it, with its models, relationships and queries of the table: "
        'each fails with "relation does not exist" from the moment the migration commits, '
        "and every row is gone with it. Dropping a table is a contract step: it belongs in a "
        "revision deployed after the code that stopped using the table."
    ),
    fix="""\
# A contract step, after the deploy: no code then running may use {tables}.
# 1. deploy code without it: its model, relationships to it, queries of it
# 2. then, in a later revision (this one, if that code is out already):
{drops}""",
    bad=(
        """\
def upgrade():
    op.drop_table("legacy_sessions")
""",
        """\
def upgrade():
    op.execute("DROP TABLE IF EXISTS legacy_sessions CASCADE")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table("import_batch", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO import_batch (id) VALUES (1)")
    op.drop_table("import_batch")
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    """Tables that existed before the revision, dropped by upgrade() for good."""
    for at, stmt in enumerate(rev.upgrade):
        node = stmt.node
        if not (isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE):
            continue
        tables = [
            table
            for table in dropped_tables(node)
            if not named_in_revision(rev, at, table) and not named_again(rev, at, table)
        ]
        if not tables:
            continue
        names = ", ".join(table.sql for table in tables)
        one = len(tables) == 1
        yield rev.finding(
            RULE,
            stmt,
            f"Dropping {'table' if one else 'tables'} {names} breaks the running application, "
            f"which still queries {'it' if one else 'them'} until the new code is deployed.",
            tables=names,
            drops="\n".join(
                f"op.drop_table({py_literal(t.name)}{t.schema_argument})" for t in tables
            ),
        )


# Helpers the other rules about the code still running share (drop-column, drop-constraint,
# drop-not-null, change-column-default, rename-index-or-constraint).

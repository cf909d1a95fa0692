"""drop-table: the code still running during the deploy queries the table."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands, is_version_table
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.sql import TableName

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
            if not named_in_revision(rev, at, table) and not _named_again(rev, at, table)
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


def dropped_tables(node: ast.DropStmt) -> list[TableName]:
    """The tables (or other relations) a DROP statement names."""
    names = []
    for item in node.objects or ():
        parts = [s.sval for s in item if isinstance(s, ast.String)]
        if parts:
            names.append(TableName(parts[-2] if len(parts) > 1 else None, parts[-1]))
    return names


def named_in_revision(rev: RevisionContext, at: int, table: TableName | None) -> bool:
    """No running code knows ``table`` by this name when upgrade()'s statement ``at`` runs:
    it was created earlier in the revision (or the change), or renamed to this name earlier
    in it (rename-table reports that rename), or it is a version table."""
    if table is None:
        return False
    if rev.is_new_table(rev.upgrade[at], table) or is_version_table(table):
        return True
    return any(
        isinstance(s.node, ast.RenameStmt) and _names_table(s.node, table) for s in rev.upgrade[:at]
    )


def table_dropped_later(rev: RevisionContext, at: int, table: TableName) -> bool:
    """upgrade() drops ``table`` after its statement ``at``."""
    return any(
        isinstance(s.node, ast.DropStmt)
        and s.node.removeType == ObjectType.OBJECT_TABLE
        and table in dropped_tables(s.node)
        for s in rev.upgrade[at + 1 :]
    )


def columns_dropped_later(rev: RevisionContext, at: int, table: TableName) -> set[str]:
    """The columns of ``table`` upgrade() drops after its statement ``at``."""
    return {
        cmd.name
        for s in rev.upgrade[at + 1 :]
        if s.table == table
        for cmd in alter_commands(s.node, AlterTableType.AT_DropColumn)
    }


def _named_again(rev: RevisionContext, at: int, table: TableName) -> bool:
    """A table of that name replaces the dropped one later in the revision: a batch
    operation's copy renamed into place, or the table created anew."""
    return any(_names_table(s.node, table) for s in rev.upgrade[at + 1 :])


def _names_table(node: ast.Node | None, table: TableName) -> bool:
    """``node`` gives ``table`` its name: creates it, or renames a table to it."""
    if isinstance(node, ast.CreateStmt):
        return TableName.of(node.relation) == table
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE:
        return TableName(node.relation.schemaname or None, node.newname) == table
    return False

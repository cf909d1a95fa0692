"""drop-table: the code still running during the deploy queries the table."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import PG_DOCS, Category, Rule, py_literal, sql_code
from migsafe.rules._same_revision import dropped_tables, named_again, named_in_revision
from migsafe.sql import Statement, TableName

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
        "revision deployed after the code that stopped using the table. A table dropped and "
        "created anew under its name keeps the running code working, but not its rows, "
        "unless the revision puts them back."
    ),
    fix="{recipe}",
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
        existing = [t for t in dropped_tables(node) if not named_in_revision(rev, at, t)]
        for table in existing:
            created = _created_anew(rev, at, table)
            if created is not None and not _filled_again(rev, created, table):
                yield _rows_lost(rev, stmt, table, created)
        tables = [
            table for table in existing
            if not named_again(rev, at, table) and not rev.drops_nothing(stmt)
        ]  # fmt: skip
        if not tables:
            continue
        names = ", ".join(table.sql for table in tables)
        one = len(tables) == 1
        drops = "\n".join(f"op.drop_table({py_literal(t.name)}{t.schema_argument})" for t in tables)
        yield rev.finding(
            RULE,
            stmt,
            f"Dropping {'table' if one else 'tables'} {names} breaks the running application, "
            f"which still queries {'it' if one else 'them'} until the new code is deployed.",
            recipe=(
                f"# A contract step, after the deploy: no code then running may use {names}.\n"
                "# 1. deploy code without it: its model, relationships to it, queries of it\n"
                "# 2. then, in a later revision (this one, if that code is out already):\n"
                f"{drops}"
            ),
        )


def _created_anew(rev: RevisionContext, at: int, table: TableName) -> int | None:
    """Where upgrade() creates a table of that name again after dropping it (not a copy
    renamed into place, which holds the rows a batch operation copied)."""
    for index, stmt in enumerate(rev.upgrade[at + 1 :], start=at + 1):
        if isinstance(stmt.node, ast.CreateStmt) and TableName.of(stmt.node.relation) == table:
            return index
    return None


def _filled_again(rev: RevisionContext, created: int, table: TableName) -> bool:
    """Rows are put into the new table later in the revision (from a copy kept aside), or
    may be: not all it did was seen (Kotti copies them with a session of its own)."""
    if not rev.upgrade_capture.exact:
        return True
    return any(
        isinstance(stmt.node, ast.InsertStmt) and stmt.table == table
        for stmt in rev.upgrade[created + 1 :]
    )


def _rows_lost(rev: RevisionContext, stmt: Statement, table: TableName, created: int) -> Finding:
    """nova drops ``share_mapping`` and creates it again: the code still finds the table,
    but every row is gone."""
    line = rev.upgrade[created].line
    old = f"{table.name}_old"
    return rev.finding(
        RULE,
        stmt,
        f"Table {table.sql} is dropped and created anew at line {line}: every row it held "
        "is lost, and nothing in the revision puts them back.",
        recipe=(
            "# keep the rows: set the old table aside, create the new one, copy them over\n"
            f"op.rename_table({py_literal(table.name)}, {py_literal(old)}{table.schema_argument})\n"
            f"# op.create_table({py_literal(table.name)}, ...)  as the revision does\n"
            f"op.execute({sql_code(f'INSERT INTO {table.sql} (...) SELECT ... FROM {old}')})\n"
            f"# drop {old} in a later revision, once the copy is checked\n"
            "# (or, if the rows are meant to go, say so: # migsafe: ignore[drop-table])"
        ),
    )


# Helpers the other rules about the code still running share (drop-column, drop-constraint,
# drop-not-null, change-column-default, rename-index-or-constraint).

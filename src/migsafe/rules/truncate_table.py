"""truncate-table: TRUNCATE empties a live table under an ACCESS EXCLUSIVE lock."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import DropBehavior, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, is_version_table
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.rules._batches import BATCH, key_of
from migsafe.rules._same_revision import dropped_tables
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS036",
    name="truncate-table",
    severity=Severity.WARNING,
    category=Category.COMPATIBILITY,
    help="Delete the rows in batches the running code can live with, or drop the table once "
    "no code reads it.",
    references=(PG_DOCS + "sql-truncate.html", PG_DOCS + "explicit-locking.html#LOCKING-TABLES"),
    directions=(UPGRADE, DOWNGRADE),
    summary="TRUNCATE empties a table the running code still reads, under an ACCESS EXCLUSIVE "
    "lock.",
    why=(
        "TRUNCATE takes an ACCESS EXCLUSIVE lock, so it waits for every running query on the "
        "table while every query queued behind it waits too; and then the rows are gone at "
        "once, while the code deployed before this migration still reads and writes them "
        "(with CASCADE, the rows of every table that refers to it as well). A downgrade "
        "cannot bring them back. If the data must go, delete it in batches, each committed "
        "on its own, so that no lock blocks reads; if the table is no longer used, drop it "
        "in a later revision, once no deployed code reads it. Tables the revision creates "
        "have no traffic yet, a table it drops afterwards is drop-table's to judge, and a table "
        "filled again in the same transaction (a reload: readers wait a moment, then see the "
        "new rows) is not emptied for anyone: none of them is flagged, unless CASCADE empties "
        "the tables that refer to it too."
    ),
    fix="""\
# The running code still reads {tables}: if the rows must go, delete them in batches
# (no lock on reads), or drop the table in a later revision, once no code reads it.
with op.get_context().autocommit_block():  # each batch commits on its own
{deletes}""",
    bad=(
        """\
def upgrade():
    op.execute("TRUNCATE TABLE sessions")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table("imports", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO imports (id) SELECT id FROM users")
    op.execute("TRUNCATE imports")
""",
        """\
def upgrade():
    op.execute("TRUNCATE legacy_sessions")
    op.drop_table("legacy_sessions")
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        node = stmt.node
        if not isinstance(node, ast.TruncateStmt):
            continue
        cascade = node.behavior == DropBehavior.DROP_CASCADE  # empties the referring tables
        # dropped a moment later (the DROP takes the same lock), or filled again before anyone
        # sees it empty; not with CASCADE, which empties the tables that refer to it for good
        dropped, reloaded = _after(rev, stmt) if not cascade else (set(), set())
        tables = [
            table
            for relation in node.relations or ()
            if (table := TableName.of(relation)) is not None
            and not is_version_table(table)
            and not rev.is_new_table(stmt, table)
            and table not in dropped
            and table not in reloaded
        ]
        if not tables:
            continue
        names = ", ".join(t.sql for t in tables)
        it = "them" if len(tables) > 1 else "it"
        referring = f", with the rows of every table that refers to {it}" if cascade else ""
        yield rev.finding(
            RULE,
            stmt,
            f"TRUNCATE {names} takes an {stmt.lock.label} lock ({stmt.lock.blocks} wait) "
            f"and deletes every row{referring}, while the running code still reads {it}.",
            tables=names,
            deletes="\n".join(_batched_delete(rev, table) for table in tables),
        )


def _batched_delete(rev: RevisionContext, table: TableName) -> str:
    key = quote_identifier(key_of(rev, table)[0] or "id")
    batch = (
        f"DELETE FROM {table.sql} WHERE {key} IN (SELECT {key} FROM {table.sql} "
        f"ORDER BY {key} LIMIT {BATCH})"
    )
    return (
        f"    batch = sa.text({sql_code(batch)})\n"
        "    while op.get_bind().execute(batch).rowcount:\n"
        "        pass"
    )


def _after(rev: RevisionContext, truncate: Statement) -> tuple[set[TableName], set[TableName]]:
    """The tables the function drops after the TRUNCATE, and those it fills again (INSERT)
    in the TRUNCATE's transaction: a reload the application never sees empty."""
    statements = rev.downgrade if truncate.direction == DOWNGRADE else rev.upgrade
    at = next(i for i, stmt in enumerate(statements) if stmt is truncate)
    dropped: set[TableName] = set()
    reloaded: set[TableName] = set()
    same_transaction = truncate.in_transaction
    for stmt in statements[at + 1 :]:
        node = stmt.node
        if isinstance(node, ast.TransactionStmt) or not stmt.in_transaction:
            same_transaction = False
        if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
            dropped.update(dropped_tables(node))
        elif isinstance(node, ast.InsertStmt) and same_transaction and stmt.table is not None:
            reloaded.add(stmt.table)
    return dropped, reloaded

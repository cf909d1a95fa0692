"""reindex-not-concurrently: REINDEX blocks writes, and queries that would use the index."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ReindexObjectType
from pglast.stream import RawStream

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS019",
    name="reindex-not-concurrently",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Use REINDEX ... CONCURRENTLY (PostgreSQL 12+) inside an autocommit_block().",
    references=(
        PG_DOCS + "sql-reindex.html#SQL-REINDEX-CONCURRENTLY",
        "https://www.postgresql.org/about/news/postgresql-144-released-2470/",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="REINDEX without CONCURRENTLY blocks writes, and the queries planned on the table.",
    why=(
        "REINDEX rebuilds an index under a SHARE lock on its table, which blocks every "
        "INSERT, UPDATE and DELETE, and an ACCESS EXCLUSIVE lock on the index itself, which "
        "blocks every query whose planner opens it: in practice any query on the table. "
        "REINDEX TABLE, SCHEMA and DATABASE do this for each index in turn. PostgreSQL 12 "
        "added REINDEX CONCURRENTLY, which builds a new copy of the index next to the old "
        "one and swaps them under locks that let reads and writes through; like CREATE INDEX "
        "CONCURRENTLY it cannot run inside a transaction, so Alembic needs an "
        "autocommit_block(). Before 12 there is no concurrent form: build a new index "
        "CONCURRENTLY, drop the old one CONCURRENTLY and rename the new one. Beware "
        "PostgreSQL 14.0 to 14.3: a bug in CREATE INDEX CONCURRENTLY and REINDEX "
        "CONCURRENTLY could leave an index silently missing entries; run 14.4 or later, and "
        "rebuild indexes built concurrently on those releases."
    ),
    fix="{steps}",
    bad=(
        """\
def upgrade():
    op.execute("REINDEX INDEX ix_users_email")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("REINDEX INDEX CONCURRENTLY ix_users_email")
""",
    ),
    since="0.3.0",
)

_KINDS = {
    ReindexObjectType.REINDEX_OBJECT_INDEX: "INDEX",
    ReindexObjectType.REINDEX_OBJECT_TABLE: "TABLE",
    ReindexObjectType.REINDEX_OBJECT_SCHEMA: "SCHEMA",
    ReindexObjectType.REINDEX_OBJECT_DATABASE: "DATABASE",
}  # REINDEX SYSTEM rebuilds the catalogs' indexes, and has no concurrent form at all

_BUG_14 = "# PostgreSQL 14.0-14.3 could corrupt indexes rebuilt CONCURRENTLY: run 14.4 or later\n"


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        node = stmt.node
        if not isinstance(node, ast.ReindexStmt) or node.kind not in _KINDS:
            continue
        if any(p.defname == "concurrently" for p in node.params or ()):
            continue
        if _on_a_new_table(rev, stmt, node):
            continue
        kind = _KINDS[node.kind]
        target = _target(node)
        what = f"REINDEX {kind} {target}".rstrip()
        each = "the index" if kind == "INDEX" else "each index"
        message = (
            f"{what} rebuilds {each} under a SHARE lock on its table and an ACCESS EXCLUSIVE "
            "lock on the index: writes and every query planned on the table wait"
        )
        if rev.pg_version < 12:
            message += f" (PostgreSQL {rev.pg_version} has no REINDEX CONCURRENTLY)."
            steps = _by_hand(rev.pg_version, kind, target)
        else:
            message += "."
            concurrent = f"REINDEX {_options(node)}{kind} CONCURRENTLY {target}".rstrip()
            steps = (
                (_BUG_14 if rev.pg_version == 14 else "")
                + "with op.get_context().autocommit_block():  # CONCURRENTLY needs it\n"
                + f"    op.execute({sql_code(concurrent)})"
            )
        yield rev.finding(RULE, stmt, message, steps=steps)


def _target(node: ast.ReindexStmt) -> str:
    if node.relation is not None:
        table = TableName.of(node.relation)
        assert table is not None
        return table.sql
    return quote_identifier(node.name) if node.name else ""


def _options(node: ast.ReindexStmt) -> str:
    """The statement's other options (VERBOSE, TABLESPACE), in the parenthesized form
    (PostgreSQL 14+: 12 and 13 only have VERBOSE, as this form too)."""
    options = [
        p.defname.upper() + (f" {RawStream()(p.arg)}" if p.arg is not None else "")
        for p in node.params or ()
    ]
    return f"({', '.join(options)}) " if options else ""


def _by_hand(pg_version: int, kind: str, target: str) -> str:
    """Before PostgreSQL 12: the swap that REINDEX CONCURRENTLY does, written out."""
    index = target if kind == "INDEX" else "<each index>"
    return f"""\
# PostgreSQL {pg_version} has no REINDEX CONCURRENTLY (it came in 12); rebuild {index} by hand,
# each statement alone in an autocommit_block():
#   CREATE INDEX CONCURRENTLY <new name> ON <its table> (<the same definition>);
#   DROP INDEX CONCURRENTLY {index};
#   ALTER INDEX <new name> RENAME TO {index};
# An index behind a PRIMARY KEY or UNIQUE constraint cannot be dropped this way: for those
# run the REINDEX at a quiet time, with a lock_timeout so that it gives up rather than queue.
"""


def _on_a_new_table(rev: RevisionContext, stmt: Statement, node: ast.ReindexStmt) -> bool:
    """A REINDEX of a table created earlier in the revision, or of an index created on one:
    no traffic waits for it."""
    if node.kind == ReindexObjectType.REINDEX_OBJECT_TABLE:
        return rev.is_new_table(stmt, TableName.of(node.relation))
    if node.kind != ReindexObjectType.REINDEX_OBJECT_INDEX:
        return False
    index = TableName.of(node.relation)
    for earlier in rev.downgrade if stmt.direction == DOWNGRADE else rev.upgrade:
        if earlier is stmt:
            break
        created = earlier.node
        if (
            isinstance(created, ast.IndexStmt)
            and created.idxname == index.name
            and (created.relation.schemaname or None) == index.schema
        ):
            return rev.is_new_table(stmt, TableName.of(created.relation))
    return False

"""drop-index-not-concurrently: a plain DROP INDEX locks the table against reads and writes."""

from __future__ import annotations

from collections.abc import Iterator

from alembic.operations import ops
from pglast import ast
from pglast.enums import ObjectType
from sqlalchemy.sql.elements import conv

from migsafe.catalog import DEFAULT_SCHEMA
from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.rules._same_revision import columns_dropped_later, dropped_after
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS006",
    name="drop-index-not-concurrently",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Drop the index with postgresql_concurrently=True inside an autocommit_block().",
    references=(PG_DOCS + "sql-dropindex.html", PG_DOCS + "explicit-locking.html#LOCKING-TABLES"),
    directions=(UPGRADE, DOWNGRADE),
    summary="Dropping an index without CONCURRENTLY locks its table against reads and writes.",
    why=(
        "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table. The drop itself is "
        "quick, but it has to wait for every running query on the table, and everything "
        "queued behind it waits too: one long report query turns into an outage. DROP INDEX "
        "CONCURRENTLY waits without blocking others."
    ),
    fix="""\
with op.get_context().autocommit_block():
    {call}""",
    bad=(
        """\
def upgrade():
    op.drop_index("ix_users_email", table_name="users")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        node = stmt.node
        if (
            isinstance(node, ast.DropStmt)
            and node.removeType == ObjectType.OBJECT_INDEX
            and not node.concurrent
        ):
            created_here = _indexes_created_before(rev, stmt)
            names = [[part.sval for part in obj] for obj in node.objects]
            if all(name[-1] in created_here for name in names):
                continue
            if _gone_before(rev, stmt, names):
                continue  # PostgreSQL fails: "does not exist"; no lock to speak of
            table = rev.locked_table(stmt)
            if table is not None and dropped_after(rev, stmt, table):
                continue  # the table's own DROP takes the same lock a moment later
            if table is not None and _columns_dropped_after(rev, stmt, table, names):
                continue  # so does the DROP COLUMN that would drop the index (mage-ai)
            if table is not None and _held_already(rev, stmt, table):
                continue  # an earlier statement of the transaction holds the same lock
            on_table = f" on {table.sql}" if table else ""
            yield rev.finding(
                RULE,
                stmt,
                f"DROP INDEX {', '.join(_sql(name) for name in names)} takes an "
                f"{stmt.lock.label} lock{on_table}: {stmt.lock.blocks} queue behind it until "
                "running queries finish.",
                call=_concurrent_calls(stmt.operation, names),
            )


def _columns_dropped_after(
    rev: RevisionContext, drop: Statement, table: TableName, names: list[list[str]]
) -> bool:
    """Each index has a column the function drops later: that DROP COLUMN takes the
    table's ACCESS EXCLUSIVE lock and drops every index on the column itself, so dropping
    the index CONCURRENTLY first gains nothing (mage-ai's downgrades drop the index, then
    its column). One column is enough, as drop-constraint judges a key."""
    schema = rev.schema_at(drop)
    if schema is None:
        return False
    keys = [(name[0] if len(name) > 1 else DEFAULT_SCHEMA, name[-1]) for name in names]
    indexes = [schema.indexes.get(key) for key in keys]
    dropped = columns_dropped_later(rev, rev.index_of(drop), table, drop.direction)
    return all(index is not None and not dropped.isdisjoint(index.columns) for index in indexes)


def _indexes_created_before(rev: RevisionContext, drop: Statement) -> set[str]:
    """Indexes the same transaction built before dropping: nothing uses them yet, and the
    build holds the table already. One built before a commit (prefect's downgrade builds
    in an autocommit block, then drops) is the table's again when the DROP locks it."""
    return {
        stmt.node.idxname
        for stmt in rev.earlier_in_transaction(drop)
        if isinstance(stmt.node, ast.IndexStmt) and stmt.node.idxname
    }


def _gone_before(rev: RevisionContext, drop: Statement, names: list[list[str]]) -> bool:
    """Each index was there when the function began and is gone by this statement: dropped
    with its table earlier in the function (buildbot's downgrade drops ``projects``, then
    the index ``projects_name_hash`` of it)."""
    statements = rev.downgrade if drop.direction == DOWNGRADE else rev.upgrade
    start = rev.schema_at(statements[0])
    if start is None:
        return False
    keys = [(name[0] if len(name) > 1 else DEFAULT_SCHEMA, name[-1]) for name in names]
    existed = all(key in start.indexes for key in keys)  # read before the next schema_at()
    now = rev.schema_at(drop)
    return existed and now is not None and not any(key in now.indexes for key in keys)


def _held_already(rev: RevisionContext, drop: Statement, table: TableName) -> bool:
    """An earlier statement of the same transaction took ACCESS EXCLUSIVE on the table
    (networking-l2gw renames a column, then drops its index): the DROP INDEX waits for
    nobody, and the earlier statement is the one reported. Another DROP INDEX does not
    count: the recipe makes both concurrent, and then neither holds the table."""
    return any(
        earlier.lock == LockMode.ACCESS_EXCLUSIVE
        and earlier.table is not None
        and earlier.table.key == table.key
        for earlier in rev.earlier_in_transaction(drop)
    )


def _concurrent_calls(operation: object, names: list[list[str]]) -> str:
    """The user's own call, made concurrent; one statement per index for SQL, since DROP INDEX
    CONCURRENTLY takes a single name."""
    if isinstance(operation, ops.DropIndexOp):
        args = [_name_code(operation.index_name)]
        if operation.table_name:
            args.append(f"table_name={py_literal(operation.table_name)}")
        if operation.schema:
            args.append(f"schema={py_literal(operation.schema)}")
        if operation.if_exists:
            args.append("if_exists=True")
        return f"op.drop_index({', '.join(args)}, postgresql_concurrently=True)"
    return "\n    ".join(
        f"op.execute('DROP INDEX CONCURRENTLY IF EXISTS {_sql(name)}')" for name in names
    )


def _name_code(name: str) -> str:
    """An ``op.f()`` name stays one: it tells Alembic to apply no naming convention."""
    return f"op.f({py_literal(str(name))})" if isinstance(name, conv) else py_literal(name)


def _sql(name: list[str]) -> str:
    """``"app"."ix_a"``: each part quoted on its own, so a schema never joins the name."""
    return ".".join(quote_identifier(part) for part in name)

"""detach-partition-not-concurrently: a plain DETACH PARTITION locks the partitioned table
against reads and writes."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS027",
    name="detach-partition-not-concurrently",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="On PostgreSQL 14+, DETACH PARTITION ... CONCURRENTLY inside an autocommit_block().",
    references=(
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-DETACH-PARTITION",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="Detaching a partition without CONCURRENTLY locks the partitioned table against "
    "reads and writes.",
    why=(
        "ALTER TABLE ... DETACH PARTITION takes an ACCESS EXCLUSIVE lock on the partitioned "
        "table: it waits for every running query on any partition, and every query queued "
        "behind it waits too. Since PostgreSQL 14, DETACH PARTITION ... CONCURRENTLY takes "
        "only a SHARE UPDATE EXCLUSIVE lock and waits for running queries in two "
        "transactions of its own, so it must run outside the migration's transaction. It "
        "cannot be used when the table has a default partition; PostgreSQL 13 and earlier "
        "have no concurrent form at all, only a short lock_timeout keeps the wait brief."
    ),
    fix="{recipe}",
    bad=(
        """\
def upgrade():
    op.execute("ALTER TABLE events DETACH PARTITION events_2020")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY")
""",
        """\
def upgrade():
    op.execute("CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at)")
    op.execute("CREATE TABLE events_2020 PARTITION OF events "
               "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')")
    op.execute("ALTER TABLE events DETACH PARTITION events_2020")
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, AlterTableType.AT_DetachPartition):
            if getattr(cmd.def_, "concurrent", False):
                continue  # in a transaction, concurrently-in-transaction says so
            if _dropped_later(rev, stmt):
                continue  # its DROP TABLE takes the same lock a moment later
            partition = TableName.of(cmd.def_.name)
            lock = alter_table_command_lock(cmd)
            detach = f"ALTER TABLE {stmt.table.sql} DETACH PARTITION {partition.sql}"
            if rev.pg_version >= 14:
                what = f"{lock.blocks} wait"
                recipe = (
                    "with op.get_context().autocommit_block():  # not in a transaction\n"
                    f"    op.execute({sql_code(detach + ' CONCURRENTLY')})"
                )
            else:
                what = (
                    f"{lock.blocks} wait, and PostgreSQL {rev.pg_version} has no concurrent "
                    "form (14 and later have DETACH PARTITION ... CONCURRENTLY)"
                )
                recipe = (
                    f"# PostgreSQL {rev.pg_version}: no CONCURRENTLY; give up quickly rather "
                    "than queue every query behind the lock\n"
                    "op.execute(\"SET LOCAL lock_timeout = '2s'\")\n"
                    f"op.execute({sql_code(detach)})"
                )
            yield rev.finding(
                RULE,
                stmt,
                f"DETACH PARTITION {partition.sql} takes an {lock.label} lock on the "
                f"partitioned table {stmt.table.sql}: {what}.",
                recipe=recipe,
            )


def _dropped_later(rev: RevisionContext, detach: Statement) -> bool:
    statements = rev.downgrade if detach.direction == DOWNGRADE else rev.upgrade
    after = next(i for i, stmt in enumerate(statements) if stmt is detach) + 1
    return any(
        isinstance(stmt.node, ast.DropStmt)
        and stmt.node.removeType == ObjectType.OBJECT_TABLE
        and any(_name(names) == detach.table for names in stmt.node.objects or ())
        for stmt in statements[after:]
    )


def _name(names: list[ast.String]) -> TableName:
    parts = [part.sval for part in names]
    return TableName(parts[-2] if len(parts) > 1 else None, parts[-1])

"""lock-table: an explicit LOCK TABLE holds its lock until the migration commits."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext, is_version_table
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS033",
    name="lock-table",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Let each statement take its own lock, with a lock_timeout; lock no more than needed.",
    references=(
        PG_DOCS + "sql-lock.html",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
        PG_DOCS + "runtime-config-client.html#GUC-LOCK-TIMEOUT",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="LOCK TABLE holds a lock that blocks the application until the migration commits.",
    why=(
        "An explicit LOCK TABLE is held until the end of the transaction, and Alembic runs "
        "the whole migration in one: every statement after it runs while the application "
        "waits (ACCESS EXCLUSIVE, the default mode, blocks even reads). While it waits for "
        "running queries to finish, every query queued behind it waits too. Each DDL "
        "statement takes the lock it needs by itself; taken as late as possible and with a "
        "lock_timeout, it gives up rather than stall the application. When writes must stop "
        "for a consistent read, SHARE MODE lets reads go on. Modes weaker than SHARE, which "
        "block no reads or writes, are not flagged; outside a transaction block PostgreSQL "
        "refuses LOCK TABLE whatever its mode."
    ),
    fix="""\
{outside}# Let each statement take the lock it needs, as late as possible, and give up rather
# than queue the application's queries behind a lock that is not free:
op.execute("SET LOCAL lock_timeout = '5s'"){weaker}""",
    bad=(
        """\
def upgrade():
    op.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    op.execute("UPDATE users SET email = lower(email) WHERE email <> lower(email)")
""",
    ),
    good=(
        """\
def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("users", sa.Column("nickname", sa.Text()))
""",
        """\
def upgrade():
    op.execute("LOCK TABLE users IN ROW EXCLUSIVE MODE")
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        node = stmt.node
        if not isinstance(node, ast.LockStmt):
            continue
        mode = LockMode(node.mode)
        tables = [
            table
            for relation in node.relations or ()
            if (table := TableName.of(relation)) is not None
            and not is_version_table(table)
            and not rev.is_new_table(stmt, table)
        ]
        if not tables:
            continue
        if stmt.in_transaction and (mode < LockMode.SHARE or _taken_next(rev, stmt, tables, mode)):
            continue
        yield _finding(rev, stmt, tables, mode)


def _finding(
    rev: RevisionContext, stmt: Statement, tables: list[TableName], mode: LockMode
) -> Finding:
    names = ", ".join(t.sql for t in tables)
    each = " on each" if len(tables) > 1 else ""
    locked = f"LOCK TABLE {names} IN {mode.label} MODE"
    if stmt.in_transaction:
        message = (
            f"{locked} holds that lock{each} until the migration commits: {mode.blocks} of "
            f"{'them' if len(tables) > 1 else 'it'} wait for every statement after it."
        )
    else:
        message = (
            f"{locked} runs outside a transaction block, where PostgreSQL refuses it: the "
            "migration fails."
        )
    weaker = ""
    if mode > LockMode.SHARE:
        weaker = (
            f"\n# If writes must stop while the migration reads {names}, SHARE MODE lets "
            "reads go on:\n"
            f"op.execute({sql_code(f'LOCK TABLE {names} IN SHARE MODE')})"
        )
    return rev.finding(
        RULE,
        stmt,
        message,
        outside=""
        if stmt.in_transaction
        else "# LOCK TABLE works only in a transaction: not in an autocommit block.\n",
        weaker=weaker,
    )


def _taken_next(
    rev: RevisionContext, lock: Statement, tables: list[TableName], mode: LockMode
) -> bool:
    """Whether the very next statement takes at least ``mode`` on the only table locked: the
    LOCK then holds nothing longer than the statement would."""
    statements = rev.downgrade if lock.direction == DOWNGRADE else rev.upgrade
    at = next(i for i, stmt in enumerate(statements) if stmt is lock)
    following = statements[at + 1] if at + 1 < len(statements) else None
    return (
        following is not None
        and following.in_transaction
        and len(tables) == 1
        and following.table == tables[0]
        and following.lock is not None
        and following.lock >= mode
    )

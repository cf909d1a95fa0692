"""several-alters-same-table: separate ALTER TABLE statements on one live table, each making
its own pass over the rows (or, outside a transaction, each queueing for its own lock)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.stream import RawStream

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext, is_version_table
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.rules._passes import COMBINED, statement_passes
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS024",
    name="several-alters-same-table",
    severity=Severity.NOTICE,
    category=Category.LOCKING,
    help="Combine the ALTER TABLE statements on one table into one: one pass over its rows, "
    "one lock.",
    references=(
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-NOTES",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
    ),
    directions=(UPGRADE, DOWNGRADE),
    opt_in=True,
    summary="Separate ALTER TABLE statements on one table each rewrite or scan it on their own.",
    why=(
        "Inside the migration's transaction the first ALTER TABLE takes the ACCESS EXCLUSIVE "
        "lock and holds it until commit, so reads and writes of the table wait for all that "
        "follows. Each statement that rewrites the table (a type change, a volatile default, "
        "SET LOGGED) or scans it to check a new CHECK or NOT NULL makes a pass of its own: two "
        "type changes are two rewrites. One ALTER TABLE with all the subcommands rewrites the "
        "table at most once and checks those constraints in that same pass, as PostgreSQL's "
        "notes on ALTER TABLE say (index builds, foreign key checks and VALIDATE CONSTRAINT "
        "scan on their own either way and are not counted). Outside a transaction (in an "
        "autocommit_block()) each statement also queues for the lock on its own, and the "
        "application's queries queue behind every wait. Catalog-only changes (a nullable "
        "column, a constant default, a drop) cost nothing more as separate statements in one "
        "transaction and are not flagged. op.batch_alter_table() does not combine them on "
        'PostgreSQL: it emits each operation as its own ALTER TABLE, unless recreate="always", '
        "which copies the whole table."
    ),
    fix="""\
# instead of the separate statements at {lines}:
op.execute({statement})""",
    bad=(
        """\
def upgrade():
    op.alter_column("orders", "total", type_=sa.Numeric(12, 2), existing_type=sa.Integer())
    op.alter_column("orders", "user_id", nullable=False, existing_type=sa.Integer())
""",
    ),
    good=(
        """\
def upgrade():
    op.execute(
        "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2), "
        "ALTER COLUMN user_id SET NOT NULL"
    )
""",
        """\
def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))
    op.add_column("orders", sa.Column("paid_at", sa.DateTime()))
    op.alter_column("orders", "user_id", nullable=False, existing_type=sa.Integer())
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for direction in RULE.directions:
        statements = rev.downgrade if direction == DOWNGRADE else rev.upgrade
        for in_transaction, run in _runs(statements):
            yield from _judge(rev, run, in_transaction)


def _runs(statements: list[Statement]) -> Iterator[tuple[bool, list[Statement]]]:
    """The statements of one function in runs: a transaction, or an autocommit_block()'s
    body (whose statements each commit on their own); a COMMIT or BEGIN ends a run."""
    current: list[Statement] = []
    inside = True
    for stmt in statements:
        if isinstance(stmt.node, ast.TransactionStmt) or stmt.in_transaction != inside:
            if current:
                yield inside, current
            current, inside = [], stmt.in_transaction
            if isinstance(stmt.node, ast.TransactionStmt):
                continue
        if stmt.node is not None:
            current.append(stmt)
    if current:
        yield inside, current


def _judge(rev: RevisionContext, run: list[Statement], in_transaction: bool) -> Iterator[Finding]:
    by_table: dict[TableName, list[Statement]] = {}
    for stmt in run:
        if _locks_the_table(rev, stmt) and (not in_transaction or _combinable(rev, stmt)):
            by_table.setdefault(stmt.table, []).append(stmt)
    for table, alters in by_table.items():
        if len(alters) < 2:
            continue
        span = run[run.index(alters[0]) : run.index(alters[-1]) + 1]
        if any(s.table == table and not isinstance(s.node, ast.AlterTableStmt) for s in span):
            continue  # a backfill or an index the later statements need: they stay apart
        members = [s for s in span if s.table == table]  # every ALTER of it in between joins
        lines = _lines([s.line for s in alters])
        what = f"{len(alters)} separate ALTER TABLE statements on {table.sql} ({lines})"
        if in_transaction:
            passes = ", ".join(dict.fromkeys(p for s in alters for p in _combinable(rev, s)))
            message = (
                f"{what} each make a pass over its rows ({passes}) while reads and writes wait "
                "on its ACCESS EXCLUSIVE lock: one ALTER TABLE with all their subcommands makes "
                "one pass."
            )
        else:
            message = (
                f"{what} run outside a transaction: each queues for its own ACCESS EXCLUSIVE "
                "lock, and the application's queries queue behind every wait. One ALTER TABLE "
                "takes the lock once."
            )
        combined = ast.AlterTableStmt(
            relation=alters[0].node.relation,
            cmds=tuple(cmd for s in members for cmd in s.node.cmds),
            objtype=alters[0].node.objtype,
        )
        replaced = _lines([s.line for s in members])
        yield rev.finding(
            RULE, alters[1], message, lines=replaced, statement=py_literal(RawStream()(combined))
        )


def _combinable(rev: RevisionContext, stmt: Statement) -> list[str]:
    """The passes of an ALTER TABLE that one statement would share: rewrites and CHECK or
    NOT NULL scans (an index build or a foreign key check runs on its own either way)."""
    return [p for p in statement_passes(rev, stmt) if p in COMBINED]


def _locks_the_table(rev: RevisionContext, stmt: Statement) -> bool:
    """An ALTER TABLE that takes ACCESS EXCLUSIVE on a table with traffic."""
    return (
        isinstance(stmt.node, ast.AlterTableStmt)
        and stmt.table is not None
        and stmt.lock == LockMode.ACCESS_EXCLUSIVE
        and not is_version_table(stmt.table)
        and not rev.is_new_table(stmt)
    )


def _lines(lines: list[int]) -> str:
    """``line 12`` (one op.alter_column() renders a statement per change), ``lines 12 and
    14``, ``lines 12, 13 and 14``."""
    unique = [str(n) for n in dict.fromkeys(lines)]
    if len(unique) == 1:
        return f"line {unique[0]}"
    return f"lines {', '.join(unique[:-1])} and {unique[-1]}"

"""several-alters-same-table: separate ALTER TABLE statements on one live table, each making
its own pass over the rows (or, outside a transaction, each queueing for its own lock)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.stream import RawStream
from pglast.visitors import Visitor

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext, existing_type, is_serial, is_version_table
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.rules.change_column_type import keeps_contents, no_rewrite
from migsafe.sql import Statement, TableName
from migsafe.volatility import is_non_volatile

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


# What an ALTER TABLE does over the rows of its table; work-after-access-exclusive-lock uses
# it too (it could move to a shared module beside locks.py).

# One ALTER TABLE makes a single pass for all its rewrites and its CHECK / NOT NULL checks
# (COMBINED); the other passes run on their own however the statements are written.
REWRITE, SCAN = "a table rewrite", "a full-table scan"
VALIDATION, INDEX_BUILD, COPY = "a validation scan", "an index build", "a copy of the table"
COMBINED = (REWRITE, SCAN)
_REWRITES = {
    AlterTableType.AT_SetLogged,
    AlterTableType.AT_SetUnLogged,
    AlterTableType.AT_SetAccessMethod,
}
_CHECKED = {ConstrType.CONSTR_CHECK, ConstrType.CONSTR_NOTNULL}
_INDEXED = {ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION}


def statement_passes(rev: RevisionContext, stmt: Statement) -> list[str]:
    """The passes over its table's rows an ALTER TABLE statement makes, one per subcommand
    that rewrites, scans or indexes the table (empty for catalog-only changes)."""
    if not isinstance(stmt.node, ast.AlterTableStmt):
        return []
    return [p for cmd in stmt.node.cmds or () if (p := command_pass(rev, stmt, cmd)) is not None]


def command_pass(rev: RevisionContext, stmt: Statement, cmd: ast.AlterTableCmd) -> str | None:
    """What one subcommand does over the rows: a rewrite, a scan, an index build, or None."""
    kind = cmd.subtype
    if kind in _REWRITES:
        return REWRITE
    if kind == AlterTableType.AT_SetTableSpace:
        return COPY
    if kind == AlterTableType.AT_AlterColumnType:
        old, new = _before(rev, stmt, cmd.name, "type"), cmd.def_.typeName
        keeps = old is not None and keeps_contents(cmd.def_.raw_default, cmd.name, new)
        return None if keeps and no_rewrite(old, new) else REWRITE
    if kind == AlterTableType.AT_SetNotNull:
        nullable = getattr(stmt.operation, "existing_nullable", None)
        if nullable is False or _before(rev, stmt, cmd.name, "nullable") is False:
            return None  # already NOT NULL: nothing to check
        return None if rev.pg_version >= 12 and rev.not_null_proven(stmt, cmd.name) else SCAN
    if kind == AlterTableType.AT_ValidateConstraint:
        return VALIDATION
    if kind == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        return _constraint_pass(cmd.def_)
    if kind == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        return _added_column_pass(cmd.def_, rev.pg_version)
    return None


def _before(rev: RevisionContext, stmt: Statement, column: str, what: str) -> Any:
    """The column's type (or nullability) before the statement: the Alembic call's
    ``existing_type=``, else what the earlier revisions made it (None: unknown)."""
    if what == "type" and (given := existing_type(stmt.operation)) is not None:
        return given
    if rev.schema_before is None or stmt.table is None or rev.is_new_table(stmt):
        return None
    table = rev.schema_before.table(stmt.table.key)
    known = table.columns.get(column) if table is not None else None
    return getattr(known, what) if known is not None else None


def _constraint_pass(constraint: ast.Constraint) -> str | None:
    if constraint.contype in _CHECKED:
        return None if constraint.skip_validation else SCAN
    if constraint.contype == ConstrType.CONSTR_FOREIGN:
        return None if constraint.skip_validation else VALIDATION
    if constraint.contype in _INDEXED:
        return None if constraint.indexname else INDEX_BUILD  # USING INDEX: built already
    return None


def _added_column_pass(column: ast.ColumnDef, pg_version: int) -> str | None:
    """A new column that fills every row (a rewrite), or checks or indexes them."""
    if is_serial(column):
        return REWRITE
    passes = []
    for constraint in column.constraints or ():
        kind = constraint.contype
        fills = kind in (ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED) or (
            kind == ConstrType.CONSTR_DEFAULT and _default_rewrites(constraint, pg_version)
        )
        if fills:
            passes.append(REWRITE)
        elif kind in _INDEXED:
            passes.append(INDEX_BUILD)
        elif kind == ConstrType.CONSTR_CHECK:
            passes.append(SCAN)
        elif kind == ConstrType.CONSTR_FOREIGN:
            passes.append(VALIDATION)
    return min(passes, key=(REWRITE, INDEX_BUILD, VALIDATION, SCAN).index) if passes else None


def _default_rewrites(constraint: ast.Constraint, pg_version: int) -> bool:
    expr = constraint.raw_expr
    if isinstance(expr, ast.A_Const) and expr.isnull:
        return False
    if pg_version < 11:
        return True  # any default was written into every row before PostgreSQL 11
    calls = _Calls()
    calls(expr)
    return any(not is_non_volatile(name) for name in calls.names)


class _Calls(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_FuncCall(self, ancestors: object, node: ast.FuncCall) -> None:
        self.names.append(".".join(part.sval for part in node.funcname))

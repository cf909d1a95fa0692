"""unbatched-update: an UPDATE or DELETE of every row of a table in one statement."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import (
    AlterTableType,
    ConstrType,
    NullTestType,
)

from migsafe.findings import Finding, Severity
from migsafe.revision import (
    RevisionContext,
    alter_commands,
    constraint_types,
    is_version_table,
)
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.rules._batches import batched, empties_for_a_required_column
from migsafe.sql import Statement, quote_identifier

RULE = Rule(
    code="MS035",
    name="unbatched-update",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Backfill in batches, each committed on its own: migsafe.runtime.batched_update().",
    references=(
        PG_DOCS + "sql-update.html",
        PG_DOCS + "routine-vacuuming.html",
        "https://github.com/migsafe/migsafe/blob/main/docs/runbook.md",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="An UPDATE or DELETE of the whole table locks every row until the migration commits.",
    why=(
        "One UPDATE or DELETE of every row of a table is one transaction: each row it changes "
        "stays locked until the migration commits, so the application's writes to any of "
        "them wait for the whole statement and what follows it; every updated row leaves a "
        "dead copy behind, so the table and its indexes bloat until VACUUM catches up; and "
        "replicas receive it as one burst of WAL. Done in batches of a few thousand rows, "
        "each committed on its own, locks are short and VACUUM keeps up. "
        "migsafe.runtime.batched_update() does that by ranges of a key, and picks up where "
        "it stopped if a deploy is interrupted. Only statements that match every row are "
        "flagged: no WHERE, WHERE TRUE, or a backfill's WHERE col IS NULL on the column it "
        "sets."
    ),
    fix="{recipe}",
    bad=(
        """\
def upgrade():
    op.execute("UPDATE users SET email = lower(email)")
""",
        """\
def upgrade():
    op.execute("DELETE FROM sessions")
""",
    ),
    good=(
        """\
def upgrade():
    from migsafe.runtime import batched_update

    with op.get_context().autocommit_block():
        batched_update(op.get_bind(), "users", "email = lower(email)")
""",
        """\
def upgrade():
    op.execute("UPDATE users SET email = lower(email) WHERE id = 42")
""",
        """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.execute("INSERT INTO tags (id) SELECT id FROM users")
    op.execute("UPDATE tags SET name = 'none'")
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        node = stmt.node
        if not isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)) or not is_judged(rev, stmt):
            continue
        if empties_for_a_required_column(rev, stmt):
            continue
        scope = _whole_table(rev, stmt)
        if scope is None:
            continue
        table = stmt.table.sql
        # in an autocommit block the statement is a transaction of its own
        until = "the migration commits" if stmt.in_transaction else "the statement ends"
        if isinstance(node, ast.UpdateStmt):
            # named, so that a loop's UPDATEs of one table read apart (rucio's, a column each)
            columns = ", ".join(dict.fromkeys(target.name for target in node.targetList or ()))
            message = (
                f"UPDATE of {table} (SET {columns}) changes every row ({scope}) in one "
                "transaction: each stays "
                f"locked until {until} (the application's writes to it wait), and the table "
                "bloats with a dead copy of each."
            )
        else:
            message = (
                f"DELETE FROM {table} removes every row ({scope}) in one transaction: each "
                f"stays locked until {until} (the application's writes to it wait), and "
                "their space stays dead until VACUUM."
            )
        yield rev.finding(RULE, stmt, message, recipe=batched(rev, stmt))


def is_judged(rev: RevisionContext, stmt: Statement) -> bool:
    """A data change on a table of the application that existed before, not already written
    with ``batched_update()`` (which writes one statement when migrations are written out)."""
    if stmt.table is None or is_version_table(stmt.table) or rev.is_new_table(stmt):
        return False
    source = rev.source_at(stmt.line) or ""
    return "batched_update(" not in source


def _whole_table(rev: RevisionContext, stmt: Statement) -> str | None:
    """How the statement matches every row (None: it may not)."""
    node = stmt.node
    where = node.whereClause
    if where is None:
        return "no WHERE"
    if isinstance(where, ast.A_Const) and isinstance(where.val, ast.Boolean) and where.val.boolval:
        return "WHERE TRUE"
    if (
        isinstance(node, ast.UpdateStmt)
        and isinstance(where, ast.NullTest)
        and where.nulltesttype == NullTestType.IS_NULL
        and isinstance(where.arg, ast.ColumnRef)
        and isinstance(where.arg.fields[-1], ast.String)
        and where.arg.fields[-1].sval in {target.name for target in node.targetList}
        and _added_without_default(rev, stmt, where.arg.fields[-1].sval)
    ):
        column = quote_identifier(where.arg.fields[-1].sval)
        return f"WHERE {column} IS NULL, a column added just before"
    return None


def _added_without_default(rev: RevisionContext, update: Statement, column: str) -> bool:
    """Whether the same function added ``column`` to the table before, with no default: then
    every row has it NULL (a column that existed before may have few NULLs)."""
    for stmt in rev.downgrade if update.direction == DOWNGRADE else rev.upgrade:
        if stmt is update:
            return False
        if stmt.table != update.table:
            continue
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            if cmd.def_.colname == column and not _FILLED & constraint_types(cmd.def_):
                return True
    return False


_FILLED = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}

"""add-exclusion-constraint: an EXCLUDE constraint builds its index with the table locked."""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import AlterTableType, ConstrType

from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule

RULE = Rule(
    code="MS020",
    name="add-exclusion-constraint",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="No online form exists: run it with a lock_timeout at a quiet time, or swap in a copy.",
    references=(
        PG_DOCS + "sql-altertable.html",
        PG_DOCS + "sql-createtable.html#SQL-CREATETABLE-EXCLUDE",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="Adding an EXCLUDE constraint builds its index while reads and writes are blocked.",
    why=(
        "ALTER TABLE ... ADD CONSTRAINT ... EXCLUDE takes an ACCESS EXCLUSIVE lock and builds "
        "the constraint's index (usually GiST) over every row before it commits, checking "
        "each pair of conflicting rows on the way: on a large table no query gets through "
        "for minutes. Unlike the other constraints it has no way around the lock: NOT VALID "
        "is accepted only for CHECK and FOREIGN KEY, and ADD CONSTRAINT ... USING INDEX only "
        "for UNIQUE and PRIMARY KEY, so an index built CONCURRENTLY cannot be attached. What "
        "is left: on a small table (or at a quiet time), run it with a short lock_timeout so "
        "that it fails instead of queueing every query behind it; on a large one, build a "
        "copy of the table with the constraint, fill and keep it current, then swap the "
        "names in one short transaction."
    ),
    fix="""\
# EXCLUDE has no NOT VALID, CONCURRENTLY or USING INDEX form: the index is built locked.
# A small table, or a quiet time: keep the statement, and give up rather than queue:
{timeout}{statement}
# A large table: create a copy of {table_sql} with the constraint, fill it in batches while a
# trigger keeps it current, then rename both in one short transaction.""",
    bad=(
        """\
def upgrade():
    op.create_exclude_constraint("ex_bookings_no_overlap", "bookings",
                                 ("room_id", "="), ("during", "&&"), using="gist")
""",
    ),
    good=(
        """\
def upgrade():
    op.execute("CREATE TABLE bookings (room_id integer, during tstzrange)")
    op.create_exclude_constraint("ex_bookings_no_overlap", "bookings",
                                 ("room_id", "="), ("during", "&&"), using="gist")
""",
    ),
    since="0.3.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddConstraint):
            constraint = cmd.def_
            if constraint.contype != ConstrType.CONSTR_EXCLUSION:
                continue
            table = stmt.table
            name = constraint.conname or f"{table.name}_excl"
            lock = alter_table_command_lock(cmd)
            yield rev.finding(
                RULE,
                stmt,
                f'Adding EXCLUDE constraint "{name}" to {table.sql} builds its index under an '
                f"{lock.label} lock: {lock.blocks} wait, and PostgreSQL has no online form "
                "of it.",
                table_sql=table.sql,
                timeout=""
                if rev.setting_before(stmt, "lock_timeout")
                else "op.execute(\"SET LOCAL lock_timeout = '5s'\")\n",
                statement=rev.own_statement(stmt),
            )

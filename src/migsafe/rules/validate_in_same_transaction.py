"""validate-in-same-transaction: VALIDATE CONSTRAINT while the ADD's full lock is still held."""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import AlterTableType, ConstrType

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode, alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.sql import TableName

RULE = Rule(
    code="MS018",
    name="validate-in-same-transaction",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Commit the ADD ... NOT VALID first: VALIDATE in an autocommit_block or a later revision.",
    references=(
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-NOTES",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="Validating a constraint in the transaction that added it NOT VALID gains nothing.",
    why=(
        "NOT VALID makes ADD CONSTRAINT instant so that the scan of the old rows can run "
        "later, in VALIDATE CONSTRAINT, under a SHARE UPDATE EXCLUSIVE lock that lets reads "
        "and writes through. But a lock is held until its transaction ends: a VALIDATE in the "
        "transaction of the ADD scans the whole table while the ACCESS EXCLUSIVE lock of the "
        "ADD CHECK (the NOT NULL of PostgreSQL 18) is still held, exactly as if NOT VALID had "
        "not been written. Alembic runs a migration in one transaction, and every revision of "
        "one `alembic upgrade` in the same one unless env.py sets "
        "transaction_per_migration=True; autocommit_block() commits what ran before it. "
        "Foreign keys are add-foreign-key-validated's to report."
    ),
    fix="""\
# the ADD ... NOT VALID stays where it is; commit it before validating:
with op.get_context().autocommit_block():  # commits the ADD, releasing its lock
    op.execute('ALTER TABLE {table_sql} VALIDATE CONSTRAINT "{name}"')""",
    bad=(
        """\
def upgrade():
    op.create_check_constraint("ck_orders_total_positive", "orders", "total >= 0",
                               postgresql_not_valid=True)
    op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "ck_orders_total_positive"')
""",
    ),
    good=(
        """\
def upgrade():
    op.create_check_constraint("ck_orders_total_positive", "orders", "total >= 0",
                               postgresql_not_valid=True)
    with op.get_context().autocommit_block():
        op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "ck_orders_total_positive"')
""",
    ),
    since="0.3.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    # Constraints other than foreign keys added NOT VALID in the open transaction, with the
    # line and the lock of their ADD.
    not_valid: dict[tuple[str, TableName, str], tuple[int, LockMode]] = {}
    for stmt in rev.statements(RULE):
        if not stmt.in_transaction:  # a COMMIT or autocommit: earlier locks are released
            not_valid.clear()
        if stmt.node is None or stmt.table is None or rev.is_new_table(stmt):
            continue
        for cmd in alter_commands(
            stmt.node, AlterTableType.AT_AddConstraint, AlterTableType.AT_ValidateConstraint
        ):
            key = (stmt.direction, stmt.table, cmd.name or "")
            if cmd.subtype == AlterTableType.AT_ValidateConstraint:
                added = not_valid.pop(key, None)
                if added is None:
                    continue
                line, lock = added
                yield rev.finding(
                    RULE,
                    stmt,
                    f'Constraint "{cmd.name}" on {stmt.table.sql} is validated in the '
                    f"transaction that added it NOT VALID (line {line}): the {lock.label} lock "
                    f"of the ADD is still held, so {lock.blocks} wait for the whole scan.",
                    name=cmd.name,
                    **table_values(stmt.table),
                )
                continue
            constraint = cmd.def_
            if (
                constraint.skip_validation
                and constraint.contype != ConstrType.CONSTR_FOREIGN
                and constraint.conname
                and (constraint.is_enforced or constraint.contype != ConstrType.CONSTR_CHECK)
                and stmt.in_transaction
            ):
                key = (stmt.direction, stmt.table, constraint.conname)
                not_valid[key] = (stmt.line, alter_table_command_lock(cmd))

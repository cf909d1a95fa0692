"""add-check-constraint-validated: a CHECK added without NOT VALID scans the table locked."""

from __future__ import annotations

import copy
from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.stream import RawStream

from migsafe.catalog import named_after
from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.rules._same_revision import added_without_values, not_null_check_column
from migsafe.sql import Statement

RULE = Rule(
    code="MS017",
    name="add-check-constraint-validated",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Add the CHECK with postgresql_not_valid=True, then VALIDATE it in its own transaction.",
    references=(
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-NOTES",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="Adding a CHECK constraint checks every row while reads and writes are blocked.",
    why=(
        "ALTER TABLE ... ADD CONSTRAINT ... CHECK takes an ACCESS EXCLUSIVE lock and reads "
        "every existing row to prove the condition before it commits: on a large table no "
        "query gets through for the whole scan. Added NOT VALID, the constraint is enforced "
        "for new and updated rows at once and the ADD is instant; VALIDATE CONSTRAINT then "
        "checks the old rows under a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes "
        "through, provided it runs in a later transaction: inside the ADD's transaction the "
        "ACCESS EXCLUSIVE lock is still held (validate-in-same-transaction). A CHECK declared "
        "on a column in ADD COLUMN is checked the same way. Alembic passes "
        "postgresql_not_valid=True to SQLAlchemy's CheckConstraint (SQLAlchemy 1.4.32 or "
        "later); with an older one, write the ADD CONSTRAINT ... NOT VALID in op.execute()."
    ),
    fix="""\
{add_column}op.create_check_constraint({name_code}, {table!r}, {condition!r},
                           postgresql_not_valid=True{schema})
with op.get_context().autocommit_block():  # validate in its own transaction
    op.execute('ALTER TABLE {table_sql} VALIDATE CONSTRAINT "{name}"')""",
    bad=(
        """\
def upgrade():
    op.create_check_constraint("ck_orders_total_positive", "orders", "total >= 0")
""",
        """\
def upgrade():
    op.execute("ALTER TABLE orders ADD CONSTRAINT ck_orders_total_positive CHECK (total >= 0)")
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
        """\
def upgrade():
    op.create_table("refunds", sa.Column("amount", sa.Integer()))
    op.create_check_constraint("ck_refunds_amount_positive", "refunds", "amount > 0")
""",
    ),
    since="0.3.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(
            stmt.node, AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn
        ):
            if cmd.subtype == AlterTableType.AT_AddConstraint:
                column = not_null_check_column(cmd.def_)
                if column and added_without_values(rev, stmt, column):
                    continue  # it fails on the first row: add-column-not-null-without-default
                if _validated_check(cmd.def_):
                    yield _finding(rev, stmt, cmd.def_, add_column="")
                continue
            column: ast.ColumnDef = cmd.def_
            for constraint in column.constraints or ():
                if _validated_check(constraint):
                    yield _finding(
                        rev,
                        stmt,
                        constraint,
                        column=column.colname,
                        add_column=_add_column_without_check(stmt.node, column, constraint),
                    )


def _validated_check(node: ast.Node | None) -> bool:
    """A CHECK that PostgreSQL proves on the existing rows as it is added (PostgreSQL 18's
    NOT ENFORCED ones are never checked: they are skipped as NOT VALID ones are)."""
    return (
        isinstance(node, ast.Constraint)
        and node.contype == ConstrType.CONSTR_CHECK
        and not node.skip_validation
    )


def _finding(
    rev: RevisionContext,
    stmt: Statement,
    constraint: ast.Constraint,
    add_column: str,
    column: str | None = None,
) -> Finding:
    table = stmt.table
    assert table is not None
    name = constraint.conname or rev.name_chosen(stmt, named_after(constraint, column), "check")
    key = f'"{name}"' if constraint.conname else f'"{name}" (unnamed: PostgreSQL\'s name for it)'
    condition = RawStream()(constraint.raw_expr)
    on = f'column "{column}" of {table.sql}' if column else table.sql
    lock = LockMode.ACCESS_EXCLUSIVE  # ADD CONSTRAINT and ADD COLUMN both take it
    return rev.finding(
        RULE,
        stmt,
        f"CHECK constraint {key} on {on} is validated as it is added: every row is "
        f"checked under an {lock.label} lock while {lock.blocks} wait.",
        name=name,
        name_code=rev.name_code(name, "ck"),
        condition=condition,
        add_column=add_column,
        **table_values(table),
    )


def _add_column_without_check(
    node: ast.AlterTableStmt, column: ast.ColumnDef, check: ast.Constraint
) -> str:
    """The first step of the recipe for a CHECK declared in ADD COLUMN: the same ALTER TABLE,
    the CHECK left out (it follows NOT VALID), as SQL for ``op.execute``."""
    node = copy.deepcopy(node)
    for cmd in node.cmds:
        if cmd.subtype == AlterTableType.AT_AddColumn and cmd.def_.colname == column.colname:
            cmd.def_.constraints = tuple(c for c in cmd.def_.constraints if c != check) or None
    return f"op.execute({py_literal(RawStream()(node))})\n"

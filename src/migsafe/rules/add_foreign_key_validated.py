"""add-foreign-key-validated: a validated foreign key scans the table under a write lock."""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import AlterTableType, ConstrType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import Rule
from migsafe.sql import qualified

RULE = Rule(
    code="MS010",
    name="add-foreign-key-validated",
    severity=Severity.WARNING,
    summary="Adding a foreign key validates every row while writes to both tables are blocked.",
    why=(
        "ADD FOREIGN KEY takes a SHARE ROW EXCLUSIVE lock on the table and on the referenced "
        "table, then checks every existing row before releasing them: writes to both tables "
        "wait for the whole scan. Added NOT VALID, the constraint is enforced for new rows "
        "at once, and VALIDATE CONSTRAINT later checks the old rows under a lock that lets "
        "writes through."
    ),
    fix="""\
op.create_foreign_key({name!r}, {table!r}, {referred!r}, {columns!r}, {referred_columns!r},
                      postgresql_not_valid=True)
# then, in a separate transaction (a later revision, or after an autocommit_block):
op.execute('ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"')""",
    bad=(
        """\
def upgrade():
    op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"])
""",
    ),
    good=(
        """\
def upgrade():
    op.create_foreign_key("fk_orders_user_id_users", "orders", "users", ["user_id"], ["id"],
                          postgresql_not_valid=True)
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements():
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddConstraint):
            constraint = cmd.def_
            if constraint.contype != ConstrType.CONSTR_FOREIGN or constraint.skip_validation:
                continue
            referred = qualified(constraint.pktable)
            name = constraint.conname or f"fk_{stmt.table}_{referred}"
            yield rev.finding(
                RULE,
                stmt.line,
                f'Foreign key "{name}" on "{stmt.table}" is validated as it is added: writes to '
                f'"{stmt.table}" and "{referred}" are blocked (SHARE ROW EXCLUSIVE) while every '
                "row is checked.",
                name=name,
                table=stmt.table,
                referred=referred,
                columns=[s.sval for s in constraint.fk_attrs or ()],
                referred_columns=[s.sval for s in constraint.pk_attrs or ()],
            )

"""set-not-null: SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock."""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import AlterTableType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import Rule

RULE = Rule(
    code="MS011",
    name="set-not-null",
    severity=Severity.WARNING,
    summary="SET NOT NULL scans the whole table while reads and writes are blocked.",
    why=(
        "ALTER COLUMN ... SET NOT NULL takes an ACCESS EXCLUSIVE lock and reads every row to "
        "prove there is no NULL: on a large table that is a long outage. Since PostgreSQL 12 "
        "the scan is skipped when a validated CHECK (col IS NOT NULL) constraint already "
        "proves it, and that CHECK can be added NOT VALID and validated under a lock that "
        "lets reads and writes through."
    ),
    fix="""\
op.create_check_constraint({check!r}, {table!r}, '"{column}" IS NOT NULL',
                           postgresql_not_valid=True)
with op.get_context().autocommit_block():  # validate in its own transaction
    op.execute('ALTER TABLE "{table}" VALIDATE CONSTRAINT "{check}"')
op.alter_column({table!r}, {column!r}, nullable=False)  # no scan on PostgreSQL >= 12
op.drop_constraint({check!r}, {table!r}, type_="check")""",
    bad=(
        """\
def upgrade():
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
""",
    ),
    good=(
        """\
def upgrade():
    op.alter_column("users", "email", existing_type=sa.String(100), type_=sa.String(200),
                    existing_nullable=False, nullable=False)
""",
        """\
def upgrade():
    op.create_check_constraint("ck_users_email_not_null", "users", '"email" IS NOT NULL',
                               postgresql_not_valid=True)
    with op.get_context().autocommit_block():
        op.execute('ALTER TABLE "users" VALIDATE CONSTRAINT "ck_users_email_not_null"')
    op.alter_column("users", "email", existing_type=sa.Text(), nullable=False)
    op.drop_constraint("ck_users_email_not_null", "users", type_="check")
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    validated: set[str] = set()
    for stmt in rev.existing_table_statements():
        if any(alter_commands(stmt.node, AlterTableType.AT_ValidateConstraint)):
            validated.add(stmt.table)
        for cmd in alter_commands(stmt.node, AlterTableType.AT_SetNotNull):
            if rev.pg_version >= 12 and stmt.table in validated:
                continue
            if getattr(stmt.operation, "existing_nullable", None) is False:
                continue  # already NOT NULL: PostgreSQL skips the scan
            yield rev.finding(
                RULE,
                stmt.line,
                f'SET NOT NULL on "{stmt.table}"."{cmd.name}" scans the whole table under an '
                "ACCESS EXCLUSIVE lock: all reads and writes wait.",
                table=stmt.table,
                column=cmd.name,
                check=f"ck_{stmt.table.rsplit('.', 1)[-1]}_{cmd.name}_not_null",
            )

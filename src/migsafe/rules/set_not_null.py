"""set-not-null: SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock."""

from __future__ import annotations

from collections.abc import Iterator

from alembic.operations import ops
from pglast.enums import AlterTableType

from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.rules._same_revision import added_without_values
from migsafe.sql import Statement

RULE = Rule(
    code="MS011",
    name="set-not-null",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Prove NOT NULL with a CHECK added NOT VALID and validated, then SET NOT NULL (PG 12+).",
    references=(PG_DOCS + "sql-altertable.html", PG_DOCS + "explicit-locking.html#LOCKING-TABLES"),
    directions=(UPGRADE, DOWNGRADE),
    summary="SET NOT NULL scans the whole table while reads and writes are blocked.",
    why=(
        "ALTER COLUMN ... SET NOT NULL takes an ACCESS EXCLUSIVE lock and reads every row to "
        "prove there is no NULL: on a large table that is a long outage. Since PostgreSQL 12 "
        "the scan is skipped when a validated CHECK (col IS NOT NULL) constraint already "
        "proves it, and that CHECK can be added NOT VALID and validated under a lock that "
        "lets reads and writes through."
    ),
    fix="""\
op.create_check_constraint({check_code}, {table!r}, '"{column}" IS NOT NULL',
                           postgresql_not_valid=True{schema})
with op.get_context().autocommit_block():  # validate in its own transaction
    op.execute('ALTER TABLE {table_sql} VALIDATE CONSTRAINT "{check}"')
op.alter_column({table!r}, {column!r}, nullable=False{schema})  # no scan on PostgreSQL >= 12
op.drop_constraint({check_code}, {table!r}, type_="check"{schema})""",
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
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, AlterTableType.AT_SetNotNull):
            if rev.pg_version >= 12 and rev.not_null_proven(stmt, cmd.name):
                continue
            if getattr(stmt.operation, "existing_nullable", None) is False:
                continue  # already NOT NULL: PostgreSQL skips the scan
            before = rev.column_before(stmt, cmd.name, "nullable")
            if before is False:
                continue  # the same, known from the revisions before this one
            if added_without_values(rev, stmt, cmd.name):
                continue  # it fails on the first row: add-column-not-null-without-default
            lock = alter_table_command_lock(cmd)
            unless = _unless_known(rev, stmt, cmd.name, before)
            check = f"ck_{stmt.table.name}_{cmd.name}_not_null"
            yield rev.finding(
                RULE,
                stmt,
                f'SET NOT NULL on {stmt.table.sql}."{cmd.name}" scans the whole table under '
                f"an {lock.label} lock: {lock.blocks} wait{unless}.",
                **table_values(stmt.table),
                column=cmd.name,
                check=check,
                check_code=rev.name_code(check, "ck"),
            )


def _unless_known(rev: RevisionContext, stmt: Statement, column: str, before: bool | None) -> str:
    """When the history built tables but neither it nor the call says whether this column
    allows NULLs (a table of another history: neutron's plugins alter neutron's tables), it
    may be NOT NULL already, and then nothing is scanned; so may it be when a revision before
    was not captured to its end, unless the column was made (or made NULL) since, in this
    revision too (dstack adds it, fills it, sets it NOT NULL). Also when the history made no
    table, if an earlier revision altered this one (neutron-dynamic-routing's tables are
    neutron's). A script checked alone knows no history to speak of."""
    schema = rev.schema_at(stmt) or rev.schema_before
    table = stmt.table.key if stmt.table is not None else None
    settled = schema is not None and table is not None and schema.nullability_known(table, column)
    if before is not None and schema is not None and not settled:
        cause = _made_unknown_by(rev, stmt)  # (``schema`` is not valid after this call)
        if cause is not None:  # fab's DO block runs ALTER TABLE built from a catalog query
            return (
                f" (unless it is NOT NULL already: line {cause.line} changes the schema in "
                "ways not followed)"
            )
        # airflow's 0069 set it NOT NULL after the line where its capture stopped
        return " (unless it is NOT NULL already: a revision before it was not checked to its end)"
    if before is not None or schema is None:
        return ""
    altered = schema.tables.get(table) if table is not None else None
    if not any(t.created_by for t in schema.tables.values()) and not (altered and altered.partial):
        return ""  # nothing known of any table: a script checked alone
    if isinstance(stmt.operation, ops.AlterColumnOp):
        return (
            " (unless it is NOT NULL already, which the history does not tell: then say so "
            "with existing_nullable=False)"
        )
    return " (unless it is NOT NULL already, which the history does not tell)"


def _made_unknown_by(rev: RevisionContext, stmt: Statement) -> Statement | None:
    """The statement of this revision, before ``stmt``, after which the schema is no longer
    known whole (a DO block running dynamic SQL); None when it was not known whole before
    the revision either."""
    before = rev.schema_before
    if before is None or not before.exact:
        return None
    previous = None
    for earlier in [*rev.earlier(stmt), stmt]:
        schema = rev.schema_at(earlier)
        if schema is not None and not schema.exact:
            return previous
        previous = earlier
    return None

"""add-foreign-key-validated: a validated foreign key scans the table under a write lock."""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import AlterTableType, ConstrType

from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.sql import TableName

RULE = Rule(
    code="MS010",
    name="add-foreign-key-validated",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a separate transaction.",
    references=(PG_DOCS + "sql-altertable.html", PG_DOCS + "explicit-locking.html#LOCKING-TABLES"),
    directions=(UPGRADE, DOWNGRADE),
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
                      postgresql_not_valid=True{source_schema}{referent_schema})
# then, in a separate transaction (a later revision, or after an autocommit_block):
op.execute('ALTER TABLE {table_sql} VALIDATE CONSTRAINT "{name}"')""",
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
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddConstraint):
            constraint = cmd.def_
            if constraint.contype != ConstrType.CONSTR_FOREIGN or constraint.skip_validation:
                continue
            referred = TableName.of(constraint.pktable)
            name = constraint.conname or f"fk_{stmt.table.name}_{referred.name}"
            lock = alter_table_command_lock(cmd)
            yield rev.finding(
                RULE,
                stmt,
                f'Foreign key "{name}" on {stmt.table.sql} is validated as it is added: '
                f"{lock.blocks} on {stmt.table.sql} and {referred.sql} wait ({lock.label}) "
                "while every row is checked.",
                name=name,
                **table_values(stmt.table),
                referred=referred.name,
                source_schema=_keyword("source_schema", stmt.table.schema),
                referent_schema=_keyword("referent_schema", referred.schema),
                columns=[s.sval for s in constraint.fk_attrs or ()],
                referred_columns=[s.sval for s in constraint.pk_attrs or ()],
            )


def _keyword(name: str, schema: str | None) -> str:
    """``, source_schema="app"`` for Alembic's create_foreign_key, when qualified."""
    return f", {name}={py_literal(schema)}" if schema else ""

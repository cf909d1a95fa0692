"""add-foreign-key-validated: a validated foreign key scans the table under a write lock."""

from __future__ import annotations

from collections.abc import Iterator

from alembic.operations import ops
from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode, alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands, column_type_code, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.sql import Statement, TableName

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
{col}op.create_foreign_key({name_code}, {table!r}, {referred!r}, {columns!r}, {referred_columns!r},
                      postgresql_not_valid=True{options}{source_schema}{referent_schema})
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


# Referential actions as pglast spells them; "a" (NO ACTION) is the default, left out.
_ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def check(rev: RevisionContext) -> Iterator[Finding]:
    # Foreign keys added NOT VALID in the open transaction: validating one there scans while
    # the SHARE ROW EXCLUSIVE locks of the ADD are still held, as if it had been validated.
    not_valid: dict[tuple[str, TableName, str], tuple[ast.Constraint, LockMode]] = {}
    for stmt in rev.statements(RULE):
        if not stmt.in_transaction:  # a COMMIT or autocommit: earlier locks are released
            not_valid.clear()
        if stmt.node is None or stmt.table is None or rev.is_new_table(stmt):
            continue
        for cmd in alter_commands(
            stmt.node, AlterTableType.AT_AddConstraint, AlterTableType.AT_ValidateConstraint
        ):
            if cmd.subtype == AlterTableType.AT_ValidateConstraint:
                added = not_valid.pop((stmt.direction, stmt.table, cmd.name), None)
                if added is not None:
                    how = "is validated in the transaction that added it NOT VALID"
                    yield _finding(rev, stmt, *added, how)
                continue
            constraint = cmd.def_
            if constraint.contype != ConstrType.CONSTR_FOREIGN:
                continue
            lock = alter_table_command_lock(cmd)
            if not constraint.skip_validation:
                yield _finding(rev, stmt, constraint, lock, "is validated as it is added")
            elif stmt.in_transaction and constraint.conname:
                not_valid[(stmt.direction, stmt.table, constraint.conname)] = (constraint, lock)


def _finding(
    rev: RevisionContext, stmt: Statement, constraint: ast.Constraint, lock: LockMode, how: str
) -> Finding:
    table = stmt.table
    assert table is not None
    referred = TableName.of(constraint.pktable)
    columns = tuple(s.sval for s in constraint.fk_attrs or ())
    name = constraint.conname or rev.name_chosen(stmt, columns, "foreign key")
    key = f'"{name}"' if constraint.conname else f'"{name}" (unnamed: PostgreSQL\'s name for it)'
    # a key to its own table (a tree of rows), or to one this function made (no session but
    # the migration's sees it yet: placement's consumer_types), blocks that one table
    alone = referred.key == table.key or rev.is_new_table(stmt, referred)
    tables = table.sql if alone else f"{table.sql} and {referred.sql}"
    return rev.finding(
        RULE,
        stmt,
        f"Foreign key {key} on {table.sql} {how}: {lock.blocks} on {tables} wait "
        f"({lock.label}) while every row is checked.",
        name=name,
        name_code=rev.name_code(name, "fk"),
        **table_values(table),
        referred=referred.name,
        options=_options(constraint),
        source_schema=_keyword("source_schema", table.schema),
        referent_schema=_keyword("referent_schema", referred.schema),
        columns=list(columns),
        referred_columns=[s.sval for s in constraint.pk_attrs or ()],
        col=_column_first(stmt, table),
    )


def _column_first(stmt: Statement, table: TableName) -> str:
    """The column itself, when the key came with it (invenio-accounts'
    ``add_column(sa.Column("user_id", ..., sa.ForeignKey(...)))``): the recipe replaces that
    call, so it adds the column, without its key, first."""
    operation = stmt.operation
    if not isinstance(operation, ops.AddColumnOp):
        return ""
    name = py_literal(operation.column.name)
    kind = column_type_code(operation, None)
    return (
        f"op.add_column({py_literal(table.name)}, sa.Column({name}, {kind}){table.schema_argument})"
        "  # without its ForeignKey\n"
    )


def _options(constraint: ast.Constraint) -> str:
    """The key's ON DELETE, ON UPDATE, DEFERRABLE and MATCH FULL as create_foreign_key
    keywords: the recipe replaces the user's key, so it must behave the same."""
    options = {
        "ondelete": _ACTIONS.get(constraint.fk_del_action),
        "onupdate": _ACTIONS.get(constraint.fk_upd_action),
        "deferrable": True if constraint.deferrable else None,
        "initially": "DEFERRED" if constraint.initdeferred else None,
        "match": "FULL" if constraint.fk_matchtype == "f" else None,
    }
    return "".join(f", {key}={py_literal(value)}" for key, value in options.items() if value)


def _keyword(name: str, schema: str | None) -> str:
    """``, source_schema="app"`` for Alembic's create_foreign_key, when qualified."""
    return f", {name}={py_literal(schema)}" if schema else ""

"""add-column-with-foreign-key: ADD COLUMN ... REFERENCES checks every row with both tables
locked."""

from __future__ import annotations

import copy
from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType
from pglast.stream import RawStream

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.sql import TableName

RULE = Rule(
    code="MS022",
    name="add-column-with-foreign-key",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Add the column, then the foreign key NOT VALID, then VALIDATE it in its own transaction.",
    references=(
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-NOTES",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="A column added with REFERENCES is checked row by row while both tables are locked.",
    why=(
        "ALTER TABLE ... ADD COLUMN ... REFERENCES adds a foreign key that PostgreSQL checks "
        "on every existing row before it commits, and a key declared on a column cannot be "
        "NOT VALID: the table stays under ADD COLUMN's ACCESS EXCLUSIVE lock (no reads, no "
        "writes) and the referenced table under a SHARE ROW EXCLUSIVE lock (no writes) for "
        "the whole scan. Add the column alone, which is instant, then the foreign key NOT "
        "VALID, which checks new rows only, then VALIDATE CONSTRAINT in a later transaction, "
        "which checks the old rows while reads and writes go on. (op.add_column() with an "
        "sa.ForeignKey renders the key as a separate ADD FOREIGN KEY statement, which "
        "add-foreign-key-validated reports.)"
    ),
    fix="""\
op.execute({add_column})
op.execute({add_foreign_key})
with op.get_context().autocommit_block():  # validate in its own transaction
    op.execute('ALTER TABLE {table_sql} VALIDATE CONSTRAINT "{name}"')""",
    bad=(
        """\
def upgrade():
    op.execute("ALTER TABLE orders ADD COLUMN user_id integer REFERENCES users (id)")
""",
    ),
    good=(
        """\
def upgrade():
    op.execute("ALTER TABLE orders ADD COLUMN user_id integer")
    op.execute("ALTER TABLE orders ADD CONSTRAINT fk_orders_user_id_users "
               "FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID")
    with op.get_context().autocommit_block():
        op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "fk_orders_user_id_users"')
""",
    ),
    since="0.3.0",
)

# The clauses after REFERENCES that the raw parser keeps as constraints of their own.
_ATTRIBUTES = {
    ConstrType.CONSTR_ATTR_DEFERRABLE,
    ConstrType.CONSTR_ATTR_NOT_DEFERRABLE,
    ConstrType.CONSTR_ATTR_DEFERRED,
    ConstrType.CONSTR_ATTR_IMMEDIATE,
}


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        table = stmt.table
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            column: ast.ColumnDef = cmd.def_
            key, attributes = _foreign_key(column)
            if key is None:
                continue
            referred = TableName.of(key.pktable)
            name = key.conname or rev.name_chosen(stmt, (column.colname,), "foreign key")
            access, share = LockMode.ACCESS_EXCLUSIVE, LockMode.SHARE_ROW_EXCLUSIVE
            yield rev.finding(
                RULE,
                stmt,
                f'Adding column "{column.colname}" to {table.sql} with REFERENCES '
                f"{referred.sql} checks every row while {access.blocks} on {table.sql} "
                f"({access.label}) and {share.blocks} on {referred.sql} ({share.label}) wait.",
                name=name,
                **table_values(table),
                add_column=_sql(_without(stmt.node, column.colname, key, attributes)),
                add_foreign_key=_sql(_not_valid_key(stmt.node, column, key, attributes, name)),
            )


def _foreign_key(
    column: ast.ColumnDef,
) -> tuple[ast.Constraint | None, list[ast.Constraint]]:
    """The column's REFERENCES clause, with the DEFERRABLE/INITIALLY clauses after it."""
    key, attributes = None, []
    for constraint in column.constraints or ():
        if constraint.contype == ConstrType.CONSTR_FOREIGN:
            key, attributes = constraint, []
        elif constraint.contype in _ATTRIBUTES and key is not None:
            attributes.append(constraint)
    return key, attributes


def _without(
    node: ast.AlterTableStmt, column: str, key: ast.Constraint, attributes: list[ast.Constraint]
) -> ast.AlterTableStmt:
    """The user's ALTER TABLE without the REFERENCES clause (and its attributes)."""
    dropped = [key, *attributes]
    node = copy.deepcopy(node)
    for cmd in node.cmds:
        if cmd.subtype == AlterTableType.AT_AddColumn and cmd.def_.colname == column:
            kept = tuple(c for c in cmd.def_.constraints if c not in dropped)
            cmd.def_.constraints = kept or None
    return node


def _not_valid_key(
    node: ast.AlterTableStmt,
    column: ast.ColumnDef,
    key: ast.Constraint,
    attributes: list[ast.Constraint],
    name: str,
) -> ast.AlterTableStmt:
    """The same foreign key as ALTER TABLE ... ADD CONSTRAINT ... NOT VALID."""
    key = copy.deepcopy(key)
    key.conname = name
    key.fk_attrs = (ast.String(sval=column.colname),)
    key.skip_validation, key.initially_valid = True, False
    for attribute in attributes:
        if attribute.contype == ConstrType.CONSTR_ATTR_DEFERRABLE:
            key.deferrable = True
        elif attribute.contype == ConstrType.CONSTR_ATTR_DEFERRED:
            key.deferrable = key.initdeferred = True
    add = ast.AlterTableCmd(subtype=AlterTableType.AT_AddConstraint, def_=key)
    return ast.AlterTableStmt(relation=node.relation, cmds=(add,), objtype=ObjectType.OBJECT_TABLE)


def _sql(node: ast.Node) -> str:
    return py_literal(RawStream()(node))

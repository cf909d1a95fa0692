"""add-primary-key: ADD PRIMARY KEY USING INDEX still scans for NULLs with the table locked."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import (
    SERIAL_TYPES,
    RevisionContext,
    alter_commands,
    constraint_types,
    is_version_table,
    table_values,
)
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal, sql_code
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS023",
    name="add-primary-key",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Prove the key's columns NOT NULL with validated CHECKs before attaching the index.",
    references=(
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="ADD PRIMARY KEY USING INDEX scans the table for NULLs when its columns allow them.",
    why=(
        "Attaching a unique index built CONCURRENTLY as the primary key (ADD CONSTRAINT ... "
        "PRIMARY KEY USING INDEX) skips the index build, but a primary key's columns must be "
        "NOT NULL: for each column that is not, PostgreSQL sets NOT NULL as part of the "
        "statement, and reads every row to prove it under the ACCESS EXCLUSIVE lock of ALTER "
        "TABLE. Since PostgreSQL 12 that scan is skipped when a validated CHECK (col IS NOT "
        "NULL) proves it, and such a CHECK can be added NOT VALID and validated while reads "
        "and writes go on. (ADD PRIMARY KEY without USING INDEX also builds the index under "
        "that lock: add-unique-constraint reports it, and its recipe leads here.)"
    ),
    fix="{steps}",
    bad=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("pk_orders", "orders", ["id"], unique=True, postgresql_concurrently=True)
    op.execute("ALTER TABLE orders ADD CONSTRAINT pk_orders PRIMARY KEY USING INDEX pk_orders")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_check_constraint("ck_orders_id_not_null", "orders", '"id" IS NOT NULL',
                               postgresql_not_valid=True)
    with op.get_context().autocommit_block():
        op.execute('ALTER TABLE "orders" VALIDATE CONSTRAINT "ck_orders_id_not_null"')
        op.create_index("pk_orders", "orders", ["id"], unique=True, postgresql_concurrently=True)
    op.alter_column("orders", "id", nullable=False)
    op.execute("ALTER TABLE orders ADD CONSTRAINT pk_orders PRIMARY KEY USING INDEX pk_orders")
    op.drop_constraint("ck_orders_id_not_null", "orders", type_="check")
""",
    ),
    since="0.3.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        table = stmt.table
        if not isinstance(stmt.node, ast.AlterTableStmt) or is_version_table(table):
            continue
        for at, cmd in enumerate(stmt.node.cmds or ()):
            constraint = cmd.def_
            if not (
                cmd.subtype == AlterTableType.AT_AddConstraint
                and constraint.contype == ConstrType.CONSTR_PRIMARY
                and constraint.indexname
            ):
                continue
            columns = _index_columns(rev, stmt, table, constraint.indexname)
            if not columns:
                continue  # an index migsafe does not know: no columns to name
            states = {c: _not_null(rev, stmt, at, c) for c in columns}
            scanned = [c for c, state in states.items() if state is not True]
            if not scanned:
                continue
            yield _finding(rev, stmt, constraint, scanned, unsure=None in states.values())


def _finding(
    rev: RevisionContext,
    stmt: Statement,
    constraint: ast.Constraint,
    columns: list[str],
    unsure: bool,
) -> Finding:
    table = stmt.table
    lock = LockMode.ACCESS_EXCLUSIVE
    names = ", ".join(f'"{c}"' for c in columns)
    one = len(columns) == 1
    unless = f"unless {'it is' if one else 'they are'} NOT NULL already, " if unsure else ""
    old = rev.pg_version < 12
    message = (
        f'ADD PRIMARY KEY USING INDEX "{constraint.indexname}" makes {names} of {table.sql} '
        f"NOT NULL: {unless}PostgreSQL scans the whole table for NULLs under an {lock.label} "
        f"lock while {lock.blocks} wait"
        + (f" (PostgreSQL {rev.pg_version} cannot skip the scan)." if old else ".")
    )
    return rev.finding(RULE, stmt, message, steps=_steps(rev, stmt, columns))


def _steps(rev: RevisionContext, stmt: Statement, columns: list[str]) -> str:
    table = stmt.table
    values = table_values(table)
    name, schema = py_literal(values["table"]), values["schema"]
    own = rev.own_statement(stmt)
    if rev.pg_version < 12:
        return (
            f"# PostgreSQL {rev.pg_version} cannot prove NOT NULL without the scan (12 can, "
            "with a validated CHECK):\n# run it at a quiet time, and give up rather than queue:\n"
            "op.execute(\"SET LOCAL lock_timeout = '5s'\")\n" + own
        )
    lines = []
    checks = [(column, py_literal(f"ck_{table.name}_{column}_not_null")) for column in columns]
    for column, check in checks:
        lines += [
            f"op.create_check_constraint({check}, {name}, "
            f"{sql_code(_quoted(column) + ' IS NOT NULL')},",
            f"                           postgresql_not_valid=True{schema})",
        ]
    lines.append("with op.get_context().autocommit_block():  # validate in its own transaction")
    for _, check in checks:
        constraint = _quoted(check.strip('"'))
        lines.append(f"    op.execute('ALTER TABLE {table.sql} VALIDATE CONSTRAINT {constraint}')")
    for column, _ in checks:
        lines.append(
            f"op.alter_column({name}, {py_literal(column)}, nullable=False{schema})"
            "  # no scan: the CHECK proves it"
        )
    lines.append(own + "  # now without a scan")
    for _, check in checks:
        lines.append(f'op.drop_constraint({check}, {name}, type_="check"{schema})')
    return "\n".join(lines)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _index_columns(
    rev: RevisionContext, stmt: Statement, table: TableName, index: str
) -> list[str] | None:
    """The columns of the index, as created earlier in the function (the usual recipe:
    CREATE UNIQUE INDEX CONCURRENTLY just before) or by an earlier revision."""
    columns = None
    for earlier in rev.earlier(stmt):
        node = earlier.node
        if (
            isinstance(node, ast.IndexStmt)
            and node.idxname == index
            and TableName.of(node.relation) == table
        ):
            columns = [e.name for e in node.indexParams or ()]
    if columns is None and rev.schema_before is not None:
        known = rev.schema_before.indexes.get((table.key[0], index))
        if known is not None and known.table == table.key:
            columns = list(known.columns)
    if columns is None or None in columns:  # an expression cannot be a key column
        return None
    return columns


def _not_null(rev: RevisionContext, stmt: Statement, at: int, column: str) -> bool | None:
    """Whether ``column`` is NOT NULL when the statement's subcommand ``at`` runs: True, False,
    or None when neither the history nor the function says. A validated CHECK that proves it
    counts as NOT NULL on PostgreSQL 12 and later."""
    table = stmt.table
    if rev.pg_version >= 12 and rev.not_null_proven(stmt, column):
        return True
    state = None
    known = rev.schema_before.table(table.key) if rev.schema_before is not None else None
    if known is not None and column in known.columns:
        state = not known.columns[column].nullable
    earlier_commands = [
        cmd for s in rev.earlier(stmt) if s.table == table for cmd in _commands(s.node)
    ]
    for cmd in [*earlier_commands, *(stmt.node.cmds or ())[:at]]:
        if cmd.subtype == AlterTableType.AT_SetNotNull and cmd.name == column:
            state = True
        elif cmd.subtype == AlterTableType.AT_DropNotNull and cmd.name == column:
            state = False
        elif cmd.subtype == AlterTableType.AT_AddColumn and cmd.def_.colname == column:
            state = _declared_not_null(cmd.def_)
        elif cmd.subtype == AlterTableType.AT_AddConstraint and (
            cmd.def_.contype == ConstrType.CONSTR_PRIMARY
            and column in [k.sval for k in cmd.def_.keys or ()]
        ):
            state = True
    return state


def _commands(node: ast.Node | None) -> Iterator[ast.AlterTableCmd]:
    return alter_commands(
        node,
        AlterTableType.AT_SetNotNull,
        AlterTableType.AT_DropNotNull,
        AlterTableType.AT_AddColumn,
        AlterTableType.AT_AddConstraint,
    )


def _declared_not_null(column: ast.ColumnDef) -> bool:
    kinds = constraint_types(column)
    return bool(
        kinds & {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_IDENTITY}
        or (column.typeName and column.typeName.names[-1].sval in SERIAL_TYPES)
    )

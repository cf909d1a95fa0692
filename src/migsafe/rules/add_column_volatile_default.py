"""add-column-volatile-default: a volatile default rewrites the whole table."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.stream import RawStream
from pglast.visitors import Visitor

from migsafe.builtins import is_non_volatile
from migsafe.catalog import object_name
from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import (
    RevisionContext,
    alter_commands,
    column_type_code,
    is_null_constant,
    is_serial,
    table_values,
)
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.rules._batches import key_of
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS013",
    name="add-column-volatile-default",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Add the column without a default, set the default afterwards, backfill in batches.",
    references=(
        PG_DOCS + "sql-altertable.html",
        PG_DOCS + "ddl-alter.html#DDL-ALTER-ADDING-A-COLUMN",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="Adding a column whose default is volatile rewrites the table under a full lock.",
    why=(
        "Since PostgreSQL 11 a column added with a constant or stable default (a literal, "
        "now()) is instant: the value is stored once in the catalog. A volatile default "
        "(gen_random_uuid(), random(), clock_timestamp(), a serial or identity sequence) or a "
        "stored generated column must be computed per row, so the table and its indexes are "
        "rewritten under an ACCESS EXCLUSIVE lock. Before PostgreSQL 11 every default does "
        "this. A virtual generated column (PostgreSQL 18) is computed when read: no rewrite."
    ),
    fix="{steps}",
    bad=(
        """\
def upgrade():
    op.add_column("users", sa.Column("token", sa.Uuid(), nullable=False,
                                     server_default=sa.text("gen_random_uuid()")))
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("users", sa.Column("created_at", sa.DateTime(), nullable=False,
                                     server_default=sa.func.now()))
""",
        """\
def upgrade():
    op.add_column("users", sa.Column("token", sa.Uuid(), nullable=True))
    op.alter_column("users", "token", server_default=sa.text("gen_random_uuid()"))
""",
    ),
)


class _VolatileCalls(Visitor):
    """The calls that make a default volatile: every function not on the built-in allowlist.

    A function of the user's counts too: its volatility is declared where migsafe cannot see
    it. coalesce(), CURRENT_TIMESTAMP and the like are no FuncCall nodes, so no call to judge.
    """

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_FuncCall(self, ancestors: object, node: ast.FuncCall) -> None:
        name = ".".join(part.sval for part in node.funcname)
        if not is_non_volatile(name):
            self.names.append(name)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            column = cmd.def_
            reason = _rewrite_reason(column, rev.pg_version)
            if reason:
                lock = alter_table_command_lock(cmd)
                values = {
                    **table_values(stmt.table),
                    "column": py_literal(column.colname),
                    "column_sql": quote_identifier(column.colname),
                    "column_bare": column.colname,
                    "type": column_type_code(stmt.operation, column.typeName),
                    "default": _default_code(stmt.operation, column),
                    "key": _batch_key(rev, stmt, column.colname),
                    "sequence": _sequence(stmt.table, column.colname),
                }
                yield rev.finding(
                    RULE,
                    stmt,
                    f'Adding column "{column.colname}" to {stmt.table.sql} with {reason} '
                    f"rewrites the table under an {lock.label} lock.",
                    steps=_STEPS[_kind(column)].format(
                        **values, table_py=py_literal(stmt.table.name)
                    ),
                )


def _sequence(table: TableName, column: str) -> str:
    """The sequence a serial column would get, as SQL: in the table's schema (indico's
    ``roombooking``; without it the sequence went to ``public``), named as PostgreSQL names
    it."""
    parts = [*([table.schema] if table.schema else []), object_name(table.name, column, "seq")]
    sql = ".".join(p if _PLAIN.fullmatch(p) else quote_identifier(p) for p in parts)
    return sql.replace('"', '\\"')  # it goes inside a string of Python code


_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")  # an identifier PostgreSQL takes unquoted


def _batch_key(rev: RevisionContext, stmt: Statement, column: str) -> str:
    """The column the backfill's batches range over: the table's key, when the schema knows
    one other than the column being added (lemur adds its serial ``id`` itself)."""
    key, known = key_of(rev, stmt.table, stmt)
    if not known and column != "id":
        return "id"  # the usual name, for a table the history does not show
    return quote_identifier(key) if key and key != column else "<a unique column>"


_STEPS = {
    "default": (
        "# add the column without a default, then set the default for new rows only:\n"
        "op.add_column({table_py}, sa.Column({column}, {type}, nullable=True){schema})\n"
        "op.alter_column({table_py}, {column}, server_default={default}{schema})\n"
        "# backfill existing rows in batches: "
        "UPDATE {table_sql} SET {column_bare} = ... WHERE {key} BETWEEN ..."
    ),
    "sequence": """\
# add the column plain, give new rows their numbers, number the old rows in batches:
op.add_column({table_py}, sa.Column({column}, {type}, nullable=True){schema})
op.execute("CREATE SEQUENCE IF NOT EXISTS {sequence}")
op.alter_column({table_py}, {column},
                server_default=sa.text("nextval('{sequence}')"){schema})
# backfill in batches:
#   UPDATE {table_sql} SET {column_sql} = nextval(...)
#   WHERE {column_sql} IS NULL AND {key} BETWEEN ...
# then NOT NULL through a validated CHECK (see set-not-null); an identity column can come
# after that without a rewrite: ALTER COLUMN {column_sql} ADD GENERATED BY DEFAULT AS IDENTITY""",
    "generated": """\
# PostgreSQL 18: a VIRTUAL generated column is computed when read, with no rewrite.
# Before 18: add a plain column, keep it computed for new rows with a trigger, and fill
# the existing rows in batches:
op.add_column({table_py}, sa.Column({column}, {type}, nullable=True){schema})
# backfill in batches:
#   UPDATE {table_sql} SET {column_sql} = <expression> WHERE {key} BETWEEN ...""",
}


def _kind(column: ast.ColumnDef) -> str:
    """Which recipe: a sequence (serial, identity), a stored expression, or a default."""
    if is_serial(column):
        return "sequence"
    for constraint in column.constraints or ():
        if constraint.contype == ConstrType.CONSTR_IDENTITY:
            return "sequence"
        if constraint.contype == ConstrType.CONSTR_GENERATED:
            return "generated"
    return "default"


def _rewrite_reason(column: ast.ColumnDef, pg_version: int) -> str | None:
    if is_serial(column):
        return "a serial type (a nextval() default)"
    for constraint in column.constraints or ():
        if constraint.contype == ConstrType.CONSTR_IDENTITY:
            return "an identity sequence"
        stored = constraint.generated_kind == "s"  # VIRTUAL (PostgreSQL 18): computed on read
        if constraint.contype == ConstrType.CONSTR_GENERATED and stored:
            return "a stored generated expression"
        if constraint.contype == ConstrType.CONSTR_DEFAULT:
            if pg_version < 11 and not is_null_constant(constraint.raw_expr):
                return f"a default (PostgreSQL {pg_version} rewrites for any default)"
            visitor = _VolatileCalls()
            visitor(constraint.raw_expr)
            if visitor.names:
                return f"the volatile default {visitor.names[0]}()"
    return None


def _default_code(operation: object, column: ast.ColumnDef) -> str:
    """The column's default as an argument for ``alter_column``: a plain string as the user
    passed it, since Alembic quotes it as a literal; any expression as ``sa.text()`` of its
    SQL, since the same string would set the literal text ``'gen_random_uuid()'``; ``...``
    when the column has no DEFAULT (serial, identity, generated)."""
    column_op = getattr(operation, "column", None)
    arg = getattr(getattr(column_op, "server_default", None), "arg", None)
    if isinstance(arg, str):
        return py_literal(arg)
    for constraint in column.constraints or ():
        if constraint.contype == ConstrType.CONSTR_DEFAULT:
            return f"sa.text({py_literal(RawStream()(constraint.raw_expr))})"
    return "..."

"""prefer-bigint: an integer key of a new table runs out at 2.1 billion."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migsafe.catalog import sql_text
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import PG_DOCS, Category, Rule
from migsafe.rules._columns import (
    ALTER,
    ColumnDefined,
    column_recipe,
    columns_defined,
    identity_code,
    identity_sql,
)
from migsafe.sql import TableName

RULE = Rule(
    code="MS045",
    name="prefer-bigint",
    severity=Severity.NOTICE,
    category=Category.SCHEMA,
    help="Make keys bigint (sa.BigInteger()) when the table is created.",
    references=(PG_DOCS + "datatype-numeric.html",),
    summary="A new key column that counts up from a sequence (serial, identity) is integer.",
    why=(
        "An integer key holds values up to 2,147,483,647 (smallint: 32,767). A busy table "
        "gets there sooner than expected, since a sequence also spends the values of "
        "rolled-back inserts and of INSERT ... ON CONFLICT, and then every insert fails. "
        "Widening the key afterwards rewrites the table, its indexes and every foreign key "
        "column that refers to it, each under an ACCESS EXCLUSIVE lock: the longest outage "
        "of all, on the biggest tables (and a serial column's sequence stays integer until "
        "it is altered too). bigint costs 4 more bytes a row, often none after "
        "alignment. Only keys (the primary key, or a column a foreign key refers to) whose "
        "values come from a sequence (serial, an identity column, DEFAULT nextval()) are "
        "flagged: a key the application assigns itself (autoincrement=False, a table of "
        "codes) has the range the application gives it, and a column whose values come from "
        "another table's key (a foreign key in a composite primary key) follows that key."
    ),
    fix="{definition}",
    bad=(
        """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.BigInteger(), primary_key=True))
""",
        """\
def upgrade():
    op.create_table("countries", sa.Column("id", sa.SmallInteger(), primary_key=True,
                                           autoincrement=False))
""",
        """\
def upgrade():
    op.create_table(
        "order_tags",
        sa.Column("order_id", sa.BigInteger(), sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("tags.id"), primary_key=True),
    )
""",
    ),
    opt_in=True,
    since="0.2.0",
)

# the types that run out, as a message names them, and their largest value
_SMALL = {
    "int4": ("integer", 2_147_483_647),
    "serial": ("serial", 2_147_483_647),
    "serial4": ("serial", 2_147_483_647),
    "int2": ("smallint", 32_767),
    "smallserial": ("smallserial", 32_767),
    "serial2": ("smallserial", 32_767),
}
_SERIAL = {"serial", "serial4", "smallserial", "serial2"}


def check(rev: RevisionContext) -> Iterator[Finding]:
    referenced = _referenced_columns(rev)
    referencing = {
        stmt.table: _foreign_key_columns(stmt.node)
        for stmt in rev.statements(RULE)
        if isinstance(stmt.node, ast.CreateStmt) and stmt.table is not None
    }
    for column in columns_defined(rev, RULE):
        small = _SMALL.get(column.base_type or "")
        if column.how == ALTER or small is None or column.is_array or not _generated(column):
            continue
        is_key = column.primary_key or column.name in referenced.get(column.table.key, ())
        if not is_key or column.name in referencing.get(column.table, ()):
            continue  # not a key, or one whose values come from the key it refers to
        declared, largest = small
        role = "Primary key" if column.primary_key else "Key"
        serial = column.base_type in _SERIAL
        sql_type = "bigserial" if serial else f"bigint{identity_sql(column)}"
        definition = column_recipe(column, "sa.BigInteger()", sql_type, identity_code(column), rev)
        yield rev.finding(
            RULE,
            column.stmt,
            f"{role} {column.sql} is {declared}: it runs out at {largest:,}, and widening it "
            "later rewrites the table and every column that refers to it.",
            definition=definition + "\n# and bigint in the foreign key columns that refer to it",
        )


def _generated(column: ColumnDefined) -> bool:
    """Whether the column's values come from a sequence: serial, identity, or a DEFAULT
    that calls nextval()."""
    if column.base_type in _SERIAL or column.has(ConstrType.CONSTR_IDENTITY):
        return True
    return any(
        c.contype == ConstrType.CONSTR_DEFAULT and "nextval(" in (sql_text(c.raw_expr) or "")
        for c in column.constraints
    )


def _foreign_key_columns(node: ast.CreateStmt) -> set[str]:
    """The columns of a new table that are (part of) one of its foreign keys."""
    columns: set[str] = set()
    for element in node.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            if any(c.contype == ConstrType.CONSTR_FOREIGN for c in element.constraints or ()):
                columns.add(element.colname)
        elif isinstance(element, ast.Constraint) and element.contype == ConstrType.CONSTR_FOREIGN:
            columns.update(a.sval for a in element.fk_attrs or ())
    return columns


def _referenced_columns(rev: RevisionContext) -> dict[tuple[str, str], set[str]]:
    """The columns the foreign keys of this revision's upgrade name in the table they refer
    to, by table (a foreign key naming no column refers to the primary key, which is
    flagged as such)."""
    found: dict[tuple[str, str], set[str]] = {}
    for stmt in rev.statements(RULE):
        for constraint in _foreign_keys(stmt.node):
            table = TableName.of(constraint.pktable)
            if table is not None:
                found.setdefault(table.key, set()).update(a.sval for a in constraint.pk_attrs or ())
    return found


def _foreign_keys(node: ast.Node | None) -> Iterator[ast.Constraint]:
    constraints: list[ast.Node] = []
    if isinstance(node, ast.CreateStmt):
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                constraints.extend(element.constraints or ())
            else:
                constraints.append(element)
    for command in alter_commands(node, AlterTableType.AT_AddConstraint):
        constraints.append(command.def_)
    for command in alter_commands(node, AlterTableType.AT_AddColumn):
        constraints.extend(command.def_.constraints or ())
    for constraint in constraints:
        if (
            isinstance(constraint, ast.Constraint)
            and constraint.contype == ConstrType.CONSTR_FOREIGN
        ):
            yield constraint

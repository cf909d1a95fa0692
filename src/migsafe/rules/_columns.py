"""What the rules about column types share: the columns a revision defines (CREATE TABLE,
ADD COLUMN, ALTER COLUMN ... TYPE) and a recipe that rewrites one in the form the user wrote
it (an Alembic call, or SQL).

Not a rule (its name starts with an underscore, so the catalogue skips it).
"""

from __future__ import annotations

import ast as ast_py
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

from alembic.operations import ops
from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from sqlalchemy.types import TypeDecorator, UserDefinedType

from migsafe.catalog import BATCH_COPY, sql_text
from migsafe.revision import (
    RevisionContext,
    alter_commands,
    has_unknown_modifier,
    is_version_table,
)
from migsafe.rule import Rule, py_literal, sql_code
from migsafe.sql import Statement, TableName, quote_identifier

CREATE, ADD, ALTER = "create", "add", "alter"


@dataclass(frozen=True)
class ColumnDefined:
    """One column a statement defines or retypes, with what its statement says of it."""

    stmt: Statement
    table: TableName
    name: str
    type: ast.TypeName
    how: str  # CREATE (in CREATE TABLE), ADD (ADD COLUMN) or ALTER (ALTER COLUMN ... TYPE)
    constraints: tuple[ast.Constraint, ...] = ()  # its column constraints (NOT NULL, ...)
    primary_key: bool = False  # in its table's primary key, as the statement declares it

    @property
    def base_type(self) -> str | None:
        """The built-in type's name (``varchar``, ``timestamp``, ``serial``); None for a type
        of the application's own: one of its database schema, one whose module could not be
        imported, or its own SQLAlchemy type (a ``TypeDecorator`` over ``sa.String(255)``,
        whose recipe would not be ``sa.Text()``), or whose length comes from such a module.
        Rules do not judge those."""
        if isinstance(self.sqlalchemy_type, (TypeDecorator, UserDefinedType)):
            return None
        if has_unknown_modifier(self.type):
            return None
        names = [n.sval for n in self.type.names]
        return names[-1] if len(names) == 1 or names[0] == "pg_catalog" else None

    @property
    def sql(self) -> str:
        """The column as messages name it: ``"app"."users"."email"``."""
        return f"{self.table.sql}.{quote_identifier(self.name)}"

    @property
    def modifiers(self) -> list[int]:
        return [m.val.ival for m in self.type.typmods or () if isinstance(m, ast.A_Const)]

    @property
    def is_array(self) -> bool:
        return bool(self.type.arrayBounds)

    @property
    def brackets(self) -> str:
        """``[]`` after the type's name in a message when the column is an array."""
        return "[]" if self.is_array else ""

    @property
    def verb(self) -> str:
        """``is``, or ``becomes`` for a column whose type a statement changes."""
        return "becomes" if self.how == ALTER else "is"

    def has(self, kind: ConstrType) -> bool:
        return any(c.contype == kind for c in self.constraints)

    @property
    def sqlalchemy_column(self) -> object | None:
        """The ``sa.Column`` of the Alembic call that defines the column; None for SQL."""
        operation = self.stmt.operation
        if isinstance(operation, ops.AddColumnOp):
            return operation.column
        if isinstance(operation, ops.CreateTableOp):
            for column in operation.columns:
                if getattr(column, "name", None) == self.name and hasattr(column, "type"):
                    return column
        return None

    @property
    def sqlalchemy_type(self) -> object | None:
        """The SQLAlchemy type the Alembic call gave this column; None for SQL."""
        operation = self.stmt.operation
        if isinstance(operation, ops.AlterColumnOp):
            return operation.modify_type
        return getattr(self.sqlalchemy_column, "type", None)


def columns_defined(rev: RevisionContext, rule: Rule) -> Iterator[ColumnDefined]:
    """Every column the statements ``rule`` judges define or retype, in order."""
    for stmt in rev.statements(rule):
        node, table = stmt.node, stmt.table
        if table is None or alembics_own(table):
            continue
        if isinstance(node, ast.CreateStmt):
            keys = primary_key_columns(node)
            for element in node.tableElts or ():
                if isinstance(element, ast.ColumnDef) and element.typeName is not None:
                    yield ColumnDefined(
                        stmt, table, element.colname, element.typeName, CREATE,
                        tuple(element.constraints or ()), element.colname in keys,
                    )  # fmt: skip
        for command in alter_commands(node, AlterTableType.AT_AddColumn):
            column = command.def_
            if column.typeName is not None:
                constraints = tuple(column.constraints or ())
                key = any(c.contype == ConstrType.CONSTR_PRIMARY for c in constraints)
                yield ColumnDefined(stmt, table, column.colname, column.typeName, ADD,
                                    constraints, key)  # fmt: skip
        for command in alter_commands(node, AlterTableType.AT_AlterColumnType):
            yield ColumnDefined(stmt, table, command.name, command.def_.typeName, ALTER)


def alembics_own(table: TableName) -> bool:
    """Alembic's version table, or batch mode's copy of a table that exists already: tables
    whose names and columns the migration did not design."""
    return is_version_table(table) or table.name.startswith(BATCH_COPY)


def primary_key_columns(node: ast.CreateStmt) -> set[str]:
    """The columns a CREATE TABLE puts in the primary key, column or table constraint."""
    keys: set[str] = set()
    for element in node.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            if any(c.contype == ConstrType.CONSTR_PRIMARY for c in element.constraints or ()):
                keys.add(element.colname)
        elif isinstance(element, ast.Constraint) and element.contype == ConstrType.CONSTR_PRIMARY:
            keys.update(k.sval for k in element.keys or ())
    return keys


def written_in_sql(stmt: Statement) -> bool:
    """True when the user wrote the statement as SQL (``op.execute``), not an Alembic call."""
    return not isinstance(stmt.operation, (ops.CreateTableOp, ops.AddColumnOp, ops.AlterColumnOp))


def column_recipe(
    column: ColumnDefined,
    type_code: str,
    sql_type: str,
    extra: str = "",
    rev: RevisionContext | None = None,
) -> str:
    """The column again with another type, as the user wrote it: ``sa.Column(...)`` in
    ``op.create_table``, ``op.add_column``, ``op.alter_column``, or SQL. ``extra`` goes after
    the type in ``sa.Column`` (``sa.Identity()``). Given ``rev``, the user's own call is
    rewritten in place, keeping every other argument (foreign keys, comments, ...); when its
    source does not name the column literally (a loop, a helper), the call is rebuilt."""
    if column.is_array:
        type_code, sql_type = f"sa.ARRAY({type_code})", f"{sql_type}[]"
    table, schema = py_literal(column.table.name), column.table.schema_argument
    name = py_literal(column.name)
    if written_in_sql(column.stmt):
        if column.how == ALTER:
            sql = f"ALTER TABLE {column.table.sql} ALTER COLUMN {quote_identifier(column.name)}"
            return f"op.execute({sql_code(f'{sql} TYPE {sql_type}')})"
        return f"# in the SQL: {quote_identifier(column.name)} {sql_type}"
    in_create = f"  # in op.create_table({table}, ...{schema})"
    rewritten = _rewritten(rev, column, type_code, extra) if rev is not None else None
    if rewritten is not None:
        return rewritten + in_create if column.how == CREATE else rewritten
    if column.how == ALTER:
        return f"op.alter_column({table}, {name}, type_={type_code}{schema})"
    arguments = [name, type_code, *filter(None, [extra]), *_column_keywords(column)]
    definition = f"sa.Column({', '.join(arguments)})"
    if column.how == ADD:
        return f"op.add_column({table}, {definition}{schema})"
    return f"{definition},{in_create}"


# what may follow a column's name in sa.Column() when its type is left out
_SCHEMA_ITEMS = frozenset(
    {"ForeignKey", "Identity", "Sequence", "Computed", "CheckConstraint", "FetchedValue",
     "DefaultClause"}
)  # fmt: skip


def _rewritten(
    rev: RevisionContext, column: ColumnDefined, type_code: str, extra: str
) -> str | None:
    """The user's own source with the column's type replaced: the ``sa.Column(...)`` (with
    the comma that follows it) in a ``create_table``, else the whole ``add_column`` or
    ``alter_column`` call. None when the source does not name the column literally."""
    source = rev.source_at(column.stmt.line)
    if source is None:
        return None
    try:
        tree = ast_py.parse(source)
    except SyntaxError:
        return None
    lines = source.encode().splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:  # ast offsets count UTF-8 bytes
        return starts[lineno - 1] + col

    found = _type_argument(tree, column)
    if found is None:
        return None
    call, argument = found
    new = type_code
    if extra and not any(_called(a) == "Identity" for a in call.args):
        new += f", {extra}"
    encoded = source.encode()
    start = offset(argument.lineno, argument.col_offset)
    end = offset(argument.end_lineno or argument.lineno, argument.end_col_offset or 0)
    encoded = encoded[:start] + new.encode() + encoded[end:]
    shift = len(new.encode()) - (end - start)
    if column.how != CREATE:
        return encoded.decode().strip()
    begin = offset(call.lineno, call.col_offset)
    finish = offset(call.end_lineno or call.lineno, call.end_col_offset or 0) + shift
    indent = b" " * (begin - encoded.rfind(b"\n", 0, begin) - 1)
    return textwrap.dedent((indent + encoded[begin:finish]).decode()) + ","


def _type_argument(
    tree: ast_py.Module, column: ColumnDefined
) -> tuple[ast_py.Call, ast_py.expr] | None:
    """The call that defines the column in ``tree`` and its type argument: ``sa.Column``'s
    second positional argument or ``type_=``, or ``alter_column``'s ``type_=``."""
    for node in ast_py.walk(tree):
        if not isinstance(node, ast_py.Call):
            continue
        keyword = next((k.value for k in node.keywords if k.arg == "type_"), None)
        if column.how == ALTER:
            names = [a.value for a in node.args if isinstance(a, ast_py.Constant)]
            if _called(node) == "alter_column" and column.name in names and keyword:
                return node, keyword
            continue
        first = node.args[0] if node.args else None
        if _called(node) != "Column" or not isinstance(first, ast_py.Constant):
            continue
        if first.value != column.name:
            continue
        if keyword is not None:
            return node, keyword
        if len(node.args) > 1 and _called(node.args[1]) not in _SCHEMA_ITEMS:
            return node, node.args[1]
        return None
    return None


def _called(node: ast_py.expr) -> str | None:
    """The name a call calls, ``Column`` for ``sa.Column(...)``; None for anything else."""
    if not isinstance(node, ast_py.Call):
        return None
    func = node.func
    if isinstance(func, ast_py.Attribute):
        return func.attr
    return func.id if isinstance(func, ast_py.Name) else None


def check_recipe(rev: RevisionContext, column: ColumnDefined, condition: str) -> str:
    """A CHECK of ``condition`` (SQL) on the column, in the form the user wrote the column;
    NOT VALID on a table with rows, so that adding it does not scan them under an ACCESS
    EXCLUSIVE lock."""
    if written_in_sql(column.stmt):
        return f"# in the SQL: CHECK ({condition})"
    name = f"op.f({py_literal(f'{column.table.name}_{column.name}_check')})"
    if column.how == CREATE:
        return f"sa.CheckConstraint({sql_code(condition)}, name={name}),"
    table, schema = py_literal(column.table.name), column.table.schema_argument
    call = f"op.create_check_constraint({name}, {table}, {sql_code(condition)}"
    if rev.is_new_table(column.stmt):
        return f"{call}{schema})"
    indent = " " * len("op.create_check_constraint(")
    return f"{call},\n{indent}postgresql_not_valid=True{schema})  # then VALIDATE it"


def _column_keywords(column: ColumnDefined) -> list[str]:
    key = column.primary_key or getattr(column.sqlalchemy_column, "primary_key", False)
    keywords = ["primary_key=True"] if key else []
    if column.has(ConstrType.CONSTR_NOTNULL) and not key:
        keywords.append("nullable=False")
    for constraint in column.constraints:
        if constraint.contype == ConstrType.CONSTR_DEFAULT:
            keywords.append(f"server_default=sa.text({py_literal(sql_text(constraint.raw_expr))})")
    return keywords


def identity_code(column: ColumnDefined) -> str:
    """``sa.Identity()`` (``always=True`` for GENERATED ALWAYS) when the column is an
    identity column, else nothing."""
    for constraint in column.constraints:
        if constraint.contype == ConstrType.CONSTR_IDENTITY:
            return (
                "sa.Identity(always=True)" if constraint.generated_when == "a" else "sa.Identity()"
            )
    return ""


def identity_sql(column: ColumnDefined) -> str:
    for constraint in column.constraints:
        if constraint.contype == ConstrType.CONSTR_IDENTITY:
            when = "ALWAYS" if constraint.generated_when == "a" else "BY DEFAULT"
            return f" GENERATED {when} AS IDENTITY"
    return ""


def text_code(column: ColumnDefined) -> str:
    """``sa.Text()``, with the collation the column's SQLAlchemy type gave (``sa.String(20,
    collation="C")``), for a string column that becomes text."""
    sql_type = column.sqlalchemy_type
    sql_type = getattr(sql_type, "item_type", sql_type)  # an ARRAY's elements
    collation = getattr(sql_type, "collation", None)
    return f"sa.Text(collation={py_literal(collation)})" if collation else "sa.Text()"

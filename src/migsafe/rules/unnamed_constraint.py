"""unnamed-constraint: a constraint created without a name gets one no migration says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from alembic.operations import ops
from pglast import ast
from pglast.enums import ConstrType

from migsafe.catalog import sql_text, unnamed_constraint_name
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, is_version_table
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.rules._same_revision import table_dropped_later
from migsafe.sql import Statement, TableName, quote_identifier
from migsafe.sqltree import constraints_added

RULE = Rule(
    code="MS052",
    name="unnamed-constraint",
    severity=Severity.NOTICE,
    category=Category.ROLLBACK,
    help="Name every constraint, or give the MetaData a naming convention (migsafe init's "
    "models.py has one).",
    references=(PG_DOCS + "ddl-constraints.html",),
    summary="A constraint (unique, foreign key, check, exclusion) is created without a name.",
    why=(
        "PostgreSQL names a constraint created without one (users_email_key, "
        "orders_user_id_fkey, or with a number added when that name is taken), and no "
        "migration ever says that name. A later migration that drops or changes the "
        "constraint must guess it, and autogenerate writes op.drop_constraint(None, ...), "
        "which fails when it runs: typically in the downgrade, the day it is needed. The "
        "recipe names each constraint with the name PostgreSQL already gives it, so the "
        "databases migrated before keep matching. A naming convention on the MetaData (as in "
        "the models.py `migsafe init` writes) makes autogenerate write every name; with one "
        "in env.py's target_metadata, Alembic also names the constraints of hand-written "
        "operations when they run, which migsafe cannot see: ignore this rule then. Primary "
        "keys are not flagged: PostgreSQL always calls them <table>_pkey, the name a "
        "convention would give, and autogenerate never drops one by itself; nor are the "
        "constraints of Alembic's version table or of a table the revision drops again."
    ),
    fix="""\
{named}
# or name them all: MetaData(naming_convention=...), as in migsafe init's models.py
# ({{"pk": "%(table_name)s_pkey", "fk": "%(table_name)s_%(column_0_N_name)s_fkey", ...}})""",
    bad=(
        """\
def upgrade():
    op.create_foreign_key(None, "orders", "users", ["user_id"], ["id"])
""",
    ),
    good=(
        """\
def upgrade():
    op.create_foreign_key(op.f("orders_user_id_fkey"), "orders", "users", ["user_id"], ["id"])
""",
    ),
    opt_in=True,
    since="0.2.0",
)

_KINDS = {
    ConstrType.CONSTR_PRIMARY: ("PRIMARY KEY", "pkey"),
    ConstrType.CONSTR_UNIQUE: ("UNIQUE", "key"),
    ConstrType.CONSTR_FOREIGN: ("FOREIGN KEY", "fkey"),
    ConstrType.CONSTR_CHECK: ("CHECK", "check"),
    ConstrType.CONSTR_EXCLUSION: ("EXCLUDE", "excl"),
}
_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT", "r": "RESTRICT"}
_ALEMBIC_CREATE = (
    ops.CreateForeignKeyOp,
    ops.CreateUniqueConstraintOp,
    ops.CreateCheckConstraintOp,
    ops.CreatePrimaryKeyOp,
)


@dataclass(frozen=True)
class Unnamed:
    constraint: ast.Constraint
    column: str | None  # the column of a column constraint

    @property
    def kind(self) -> str:
        return _KINDS[self.constraint.contype][0]

    @property
    def columns(self) -> list[str]:
        c = self.constraint
        named = [n.sval for n in (c.fk_attrs or c.keys or ()) if isinstance(n, ast.String)]
        if c.contype == ConstrType.CONSTR_EXCLUSION:
            named = [e[0].name for e in c.exclusions or () if getattr(e[0], "name", None)]
        return named or ([self.column] if self.column else [])

    def describe(self) -> str:
        if self.constraint.contype == ConstrType.CONSTR_CHECK:
            return f"CHECK ({sql_text(self.constraint.raw_expr)})"
        columns = self.columns
        return f"{self.kind} ({', '.join(columns)})" if columns else self.kind

    def default_name(self, table: str) -> str:
        """The name PostgreSQL gives it (before adding a number to a name already taken)."""
        return unnamed_constraint_name(table, self.constraint, self.column)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for at, stmt in enumerate(rev.upgrade):
        table = stmt.table
        if table is None or is_version_table(table) or table_dropped_later(rev, at, table):
            continue  # a scratch table: no later migration will name its constraints
        unnamed = list(_unnamed(stmt.node))
        if not unnamed:
            continue
        if len(unnamed) == 1:
            (one,) = unnamed
            message = (
                f"{one.describe()} on {table.sql} has no name: PostgreSQL calls it "
                f'"{one.default_name(table.name)}", a name no migration says, so '
                "op.drop_constraint(None, ...) cannot drop it."
            )
        else:
            listed = ", ".join(u.describe() for u in unnamed)
            message = (
                f"{len(unnamed)} constraints on {table.sql} have no name ({listed}): "
                "PostgreSQL names them, but no migration says those names, so "
                "op.drop_constraint(None, ...) cannot drop them."
            )
        yield rev.finding(RULE, stmt, message, named=_recipe(rev, stmt, table, unnamed))


def _unnamed(node: ast.Node | None) -> Iterator[Unnamed]:
    """The constraints a statement creates without a name: not a primary key (always
    <table>_pkey), nor ADD ... USING INDEX (it takes the index's name), nor a UNIQUE on the
    columns of the statement's primary key or of a UNIQUE before it: PostgreSQL makes one
    constraint of those (nbgrader's ``unique=True`` on its primary key, aim's UNIQUE twice)."""
    added = [Unnamed(constraint, column) for constraint, column in constraints_added(node)]
    keys = {tuple(u.columns) for u in added if u.constraint.contype == ConstrType.CONSTR_PRIMARY}
    for unnamed in added:
        constraint = unnamed.constraint
        if constraint.contype == ConstrType.CONSTR_UNIQUE:
            if tuple(unnamed.columns) in keys:
                continue
            keys.add(tuple(unnamed.columns))
        if (
            constraint.contype in _KINDS
            and constraint.contype != ConstrType.CONSTR_PRIMARY
            and not constraint.conname
            and not constraint.indexname
        ):
            yield unnamed


def _recipe(rev: RevisionContext, stmt: Statement, table: TableName, unnamed: list[Unnamed]) -> str:
    """Each constraint with its name, in the form the user wrote it."""
    operation = stmt.operation
    if isinstance(operation, _ALEMBIC_CREATE):
        name = f"op.f({py_literal(unnamed[0].default_name(table.name))})"
        source = rev.source_at(stmt.line) or ""
        named, replaced = re.subn(r"\(\s*None\b", f"({name}", source.strip(), count=1)
        if replaced:
            return named
        return f"# pass name={name}"
    if isinstance(operation, ops.CreateTableOp):
        lines = [f"# in op.create_table({py_literal(table.name)}, ...):"]
        return "\n".join([*lines, *(_table_code(u, table, operation) for u in unnamed)])
    if isinstance(operation, ops.AddColumnOp):
        return "\n".join(_added_column_code(u, table) for u in unnamed)
    return "\n".join(
        f"# in the SQL: CONSTRAINT {quote_identifier(u.default_name(table.name))} "
        f"{sql_text(u.constraint)}"
        for u in unnamed
    )


def _table_code(unnamed: Unnamed, table: TableName, operation: ops.CreateTableOp) -> str:
    """The named constraint for ``op.create_table``, where the user declared it: a
    ``sa.ForeignKey`` or a ``sa.CheckConstraint`` in its column, or a table constraint."""
    constraint = unnamed.constraint
    name = f"name=op.f({py_literal(unnamed.default_name(table.name))})"
    columns = unnamed.columns
    listed = ", ".join(py_literal(c) for c in columns)
    declared = _column(operation, columns[0]) if len(columns) == 1 else None
    if constraint.contype == ConstrType.CONSTR_UNIQUE:
        instead = (
            f"  # instead of unique=True on {py_literal(columns[0])}"
            if getattr(declared, "unique", False)
            else ""
        )
        return f"sa.UniqueConstraint({listed}, {name}),{instead}"
    if constraint.contype == ConstrType.CONSTR_CHECK:
        code = f"sa.CheckConstraint({py_literal(sql_text(constraint.raw_expr))}, {name}),"
        return (
            f"{code}  # in sa.Column({py_literal(unnamed.column)}, ...)" if unnamed.column else code
        )
    if constraint.contype == ConstrType.CONSTR_FOREIGN:
        remote, actions = _referred(constraint)
        in_column = declared is not None and not _table_foreign_key(operation, columns)
        if in_column and len(remote) == 1:
            return (
                f"sa.ForeignKey({py_literal(remote[0])}, {name}{actions}),"
                f"  # in sa.Column({py_literal(columns[0])}, ...)"
            )
        return f"sa.ForeignKeyConstraint([{listed}], {py_literal(remote)}, {name}{actions}),"
    return f"# {unnamed.describe()}: {name}"


def _added_column_code(unnamed: Unnamed, table: TableName) -> str:
    """The named constraint for ``op.add_column``: in its ``sa.Column``, or (UNIQUE, which
    ``unique=True`` cannot name) a constraint of its own after it."""
    constraint = unnamed.constraint
    raw_name = unnamed.default_name(table.name)
    name = f"name=op.f({py_literal(raw_name)})"
    column = py_literal(unnamed.columns[0]) if unnamed.columns else "..."
    if constraint.contype == ConstrType.CONSTR_FOREIGN:
        remote, actions = _referred(constraint)
        target = py_literal(remote[0] if remote else "")
        return f"sa.ForeignKey({target}, {name}{actions}),  # in sa.Column({column}, ...)"
    if constraint.contype == ConstrType.CONSTR_CHECK:
        condition = py_literal(sql_text(constraint.raw_expr))
        return f"sa.CheckConstraint({condition}, {name}),  # in sa.Column({column}, ...)"
    if constraint.contype == ConstrType.CONSTR_UNIQUE:
        listed = ", ".join(py_literal(c) for c in unnamed.columns)
        return (
            f"# instead of unique=True, after op.add_column({py_literal(table.name)}, ...):\n"
            f"op.create_unique_constraint(op.f({py_literal(raw_name)}), "
            f"{py_literal(table.name)}, [{listed}]{table.schema_argument})"
        )
    return f"# {unnamed.describe()}: {name}"


def _table_foreign_key(operation: ops.CreateTableOp, columns: list[str]) -> bool:
    """The user wrote the foreign key as a ``sa.ForeignKeyConstraint`` of the table."""
    return any(
        isinstance(item, sa.ForeignKeyConstraint) and list(item.column_keys) == columns
        for item in operation.columns
    )


def _column(operation: ops.CreateTableOp, name: str) -> object | None:
    """The ``sa.Column`` of ``op.create_table`` named ``name``."""
    for column in operation.columns:
        if isinstance(column, sa.Column) and column.name == name:
            return column
    return None


def _referred(constraint: ast.Constraint) -> tuple[list[str], str]:
    """A foreign key's remote columns as SQLAlchemy names them (``schema.table.column``),
    and its ``ondelete=``/``onupdate=`` arguments."""
    referred = TableName.of(constraint.pktable)
    prefix = str(referred)
    remote = [f"{prefix}.{a.sval}" for a in constraint.pk_attrs or ()]
    actions = "".join(
        f", {keyword}={py_literal(_ACTIONS[action])}"
        for keyword, action in (
            ("ondelete", constraint.fk_del_action),
            ("onupdate", constraint.fk_upd_action),
        )
        if action in _ACTIONS
    )
    return remote, actions

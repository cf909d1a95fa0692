"""add-unique-constraint: UNIQUE/PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migsafe.catalog import default_constraint_name
from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal

RULE = Rule(
    code="MS014",
    name="add-unique-constraint",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Build the unique index CONCURRENTLY first, then add the constraint USING INDEX.",
    references=(
        PG_DOCS + "sql-altertable.html",
        PG_DOCS + "sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="Adding a UNIQUE or PRIMARY KEY constraint builds an index while the table is locked.",
    why=(
        "ADD CONSTRAINT ... UNIQUE (or PRIMARY KEY) builds a new unique index while holding "
        "an ACCESS EXCLUSIVE lock: no reads or writes until every row is indexed. Build the "
        "index CONCURRENTLY first, then attach it with USING INDEX, which is instant. (NOT "
        "VALID does not help here: PostgreSQL only accepts it for CHECK and FOREIGN KEY.)"
    ),
    fix="""\
with op.get_context().autocommit_block():
    op.create_index({name!r}, {table!r}, {columns!r}, unique=True,
                    postgresql_concurrently=True{schema}{index_options})
op.execute('ALTER TABLE {table_sql} ADD CONSTRAINT "{name}" {kind} USING INDEX "{name}"{defer}')""",
    bad=(
        """\
def upgrade():
    op.create_unique_constraint("uq_users_email", "users", ["email"])
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("uq_users_email", "users", ["email"], unique=True,
                        postgresql_concurrently=True)
    op.execute(
        'ALTER TABLE "users" ADD CONSTRAINT "uq_users_email" UNIQUE USING INDEX "uq_users_email"'
    )
""",
    ),
)

_KINDS = {ConstrType.CONSTR_UNIQUE: "UNIQUE", ConstrType.CONSTR_PRIMARY: "PRIMARY KEY"}


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        for cmd, constraint, columns in _index_building_constraints(stmt.node):
            kind = _KINDS[constraint.contype]
            name = constraint.conname or default_constraint_name(
                stmt.table.name, tuple(columns), "unique" if kind == "UNIQUE" else "primary key"
            )  # superset's create_unique_constraint(None, ...): PostgreSQL's name for it
            said = (
                f'"{name}"'
                if constraint.conname
                else f'"{name}" (unnamed: PostgreSQL\'s name for it)'
            )
            lock = alter_table_command_lock(cmd)
            yield rev.finding(
                RULE,
                stmt,
                f"Adding {kind} constraint {said} to {stmt.table.sql} builds its index under "
                f"an {lock.label} lock: {lock.blocks} wait.",
                name=name,
                **table_values(stmt.table),
                columns=columns,
                kind=kind,
                index_options=_index_options(constraint),
                defer=_defer(constraint),
            )


def _index_building_constraints(
    node: ast.Node | None,
) -> Iterator[tuple[ast.AlterTableCmd, ast.Constraint, list[str]]]:
    """The UNIQUE and PRIMARY KEY constraints ``node`` adds that build their own index, with
    their columns: those of ADD CONSTRAINT, and those declared inline on an added column."""
    for cmd in alter_commands(node, AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn):
        if cmd.subtype == AlterTableType.AT_AddColumn:
            column = cmd.def_
            found = [(c, [column.colname]) for c in column.constraints or ()]
        else:
            found = [(cmd.def_, [key.sval for key in cmd.def_.keys or ()])]
        for constraint, columns in found:
            if constraint.contype in _KINDS and not constraint.indexname:
                yield cmd, constraint, columns


def _index_options(constraint: ast.Constraint) -> str:
    """What the constraint's own index would have: without it the recipe's index (and so the
    constraint) is a different one."""
    options = ""
    if constraint.including:
        options += f", postgresql_include={py_literal([c.sval for c in constraint.including])}"
    if constraint.nulls_not_distinct:
        options += ", postgresql_nulls_not_distinct=True"
    return options


def _defer(constraint: ast.Constraint) -> str:
    """DEFERRABLE belongs to the constraint, so USING INDEX must say it again."""
    if constraint.initdeferred:
        return " DEFERRABLE INITIALLY DEFERRED"
    return " DEFERRABLE" if constraint.deferrable else ""

"""add-unique-constraint: UNIQUE/PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock."""

from __future__ import annotations

import re
from collections.abc import Iterator

from alembic.operations import ops
from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migsafe.catalog import Constraint
from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import (
    DOWNGRADE,
    PG_DOCS,
    UPGRADE,
    Category,
    Rule,
    filled,
    py_literal,
    sql_code,
)
from migsafe.sql import Statement

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
        "VALID does not help here: PostgreSQL only accepts it for CHECK and FOREIGN KEY.) "
        "A constraint dropped and added again on the same columns under a new name is a "
        "rename: ALTER TABLE ... RENAME CONSTRAINT renames its index too, without building it."
    ),
    fix="{recipe}",
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
_CATALOG_KINDS = {"UNIQUE": "unique", "PRIMARY KEY": "primary key"}

_CONCURRENTLY = """\
with op.get_context().autocommit_block():
    op.create_index({name!r}, {table!r}, {columns!r}, unique=True,
                    postgresql_concurrently=True{schema}{index_options})
op.execute('ALTER TABLE {table_sql} ADD CONSTRAINT "{name}" {kind} USING INDEX "{name}"{defer}')"""

_AFTER_DROP = """\
# the table must not be left without "{old}" (dropped at line {line}) between commits:
# build the new index first, under a name of its own, before line {line}
with op.get_context().autocommit_block():
    op.create_index({index!r}, {table!r}, {columns!r}, unique=True,
                    postgresql_concurrently=True{schema}{index_options})
# then drop "{old}" at line {line} as the revision does, and here, in the same transaction,
# add the key on that index (it takes the key's name):
op.execute('ALTER TABLE {table_sql} ADD CONSTRAINT "{name}" {kind} USING INDEX "{index}"{defer}')"""

_RENAME = """\
# only its name changes: rename it (its index is renamed with it) instead of dropping it at
# line {line} and adding it again; instant, though under the same lock
op.execute({rename})"""


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        for cmd, constraint, columns in _index_building_constraints(stmt.node):
            kind = _KINDS[constraint.contype]
            name = constraint.conname or rev.name_chosen(
                stmt, tuple(columns), "unique" if kind == "UNIQUE" else "primary key"
            )  # superset's create_unique_constraint(None, ...): PostgreSQL's name for it
            said = (
                f'"{name}"'
                if constraint.conname
                else f'"{name}" (unnamed: PostgreSQL\'s name for it)'
            )
            lock = alter_table_command_lock(cmd)
            dropped = _dropped_alike(rev, stmt, _CATALOG_KINDS[kind], tuple(columns))
            if dropped is not None and dropped[0] != name:  # nonebot-plugin-uninfo's renames
                old, line = dropped
                rename = f'ALTER TABLE {stmt.table.sql} RENAME CONSTRAINT "{old}" TO "{name}"'
                yield rev.finding(
                    RULE,
                    stmt,
                    f'Dropping {kind} constraint "{old}" (line {line}) and adding {said} on '
                    f"the same columns builds its index again under an {lock.label} lock: "
                    f"{lock.blocks} wait, for a new name.",
                    recipe=_RENAME.format(line=line, rename=sql_code(rename)),
                )
                continue
            values = dict(
                name=name, **table_values(stmt.table), columns=columns, kind=kind,
                index_options=_index_options(constraint), defer=_defer(constraint),
            )  # fmt: skip
            replaced = _dropped_before(rev, stmt, kind, name)
            if replaced is not None:  # invenio-files-rest drops its primary key, then adds
                old, line = replaced  # one on other columns under the same name
                recipe = filled(_AFTER_DROP, old=old, line=line, index=f"{name}_new", **values)
            else:
                recipe = filled(_CONCURRENTLY, **values)
            new_column = cmd.subtype == AlterTableType.AT_AddColumn
            if new_column or isinstance(stmt.operation, ops.AddColumnOp):  # getitfixed's
                recipe = f"{_column_first(rev, stmt, kind)}\n{recipe}"
            yield rev.finding(
                RULE,
                stmt,
                f"Adding {kind} constraint {said} to {stmt.table.sql} builds its index under "
                f"an {lock.label} lock: {lock.blocks} wait.",
                recipe=recipe,
            )


_FLAGS = {"UNIQUE": "unique", "PRIMARY KEY": "primary_key"}


def _column_first(rev: RevisionContext, stmt: Statement, kind: str) -> str:
    """The column of an ``add_column(..., unique=True)`` added first, without the flag that
    makes the constraint under the lock: the recipe's index and constraint come after."""
    flag = _FLAGS[kind]
    source = rev.source_at(stmt.line) or ""
    plain, found = re.subn(rf",\s*{flag}\s*=\s*True\b", "", source)
    if found != 1:
        return f"# the column first, without its {kind} (which adds the constraint)"
    return f"# the column first, without {flag}=True (it adds the constraint):\n{plain}"


def _dropped_alike(
    rev: RevisionContext, stmt: Statement, kind: str, columns: tuple[str, ...]
) -> tuple[str, int] | None:
    """The constraint of the same kind on the same columns, in the same order, that the
    function dropped from the table before ``stmt`` (its name and line): the add is a
    rename."""
    return next(
        (
            (name, line) for name, line, known in _dropped_earlier(rev, stmt)
            if known is not None and known.kind == kind and known.columns == columns
        ),
        None,
    )  # fmt: skip


def _dropped_before(
    rev: RevisionContext, stmt: Statement, kind: str, name: str
) -> tuple[str, int] | None:
    """The constraint the function dropped from the table before ``stmt`` that the new one
    takes the place of (its name and line): the primary key, for a primary key (a table
    has one), or one of the same name. An index built for the new one, and committed,
    before the drop would clash with it; after the drop, a commit leaves the table without
    either."""
    return next(
        (
            (dropped, line) for dropped, line, known in _dropped_earlier(rev, stmt)
            if dropped == name or (
                kind == "PRIMARY KEY" and known is not None and known.kind == "primary key"
            )
        ),
        None,
    )  # fmt: skip


def _dropped_earlier(
    rev: RevisionContext, stmt: Statement
) -> Iterator[tuple[str, int, Constraint | None]]:
    """Each constraint the function dropped from the table before ``stmt``: its name, the
    line, and what the schema knew of it then."""
    for earlier in rev.earlier(stmt):
        if earlier.table != stmt.table:
            continue
        for cmd in alter_commands(earlier.node, AlterTableType.AT_DropConstraint):
            schema = rev.schema_at(earlier)
            table = schema.tables.get(stmt.table.key) if schema is not None else None
            yield cmd.name, earlier.line, table.constraints.get(cmd.name) if table else None


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

"""object-already-exists: a table, column, index, constraint or enum type the history made is
made again."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from migsafe.catalog import BATCH_COPY, DEFAULT_SCHEMA, Catalog, Name, dotted_name
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal, sql_code
from migsafe.rules._enums import columns_of_type
from migsafe.rules._known_schema import aborted_transactions, on_known_schema
from migsafe.sql import Statement, TableName, quote_identifier
from migsafe.sqltree import walk

RULE = Rule(
    code="MS068",
    name="object-already-exists",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Leave out the statement that makes it again, or drop the object first.",
    references=(PG_DOCS + "sql-createtable.html", PG_DOCS + "sql-altertable.html"),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="A table, column, index, constraint or enum type the history already made is "
    "created again: the statement fails on PostgreSQL.",
    why=(
        "Names are unique: a table, an index or a type in its schema, a column or a "
        "constraint on its table, and a UNIQUE or PRIMARY KEY gives its index its own name. "
        "CREATE TABLE, ADD COLUMN, CREATE INDEX, ADD CONSTRAINT or CREATE TYPE (which "
        "create_table() emits for an "
        "sa.Enum column) of a name an earlier revision (or an earlier statement of the same "
        "function) made, and nothing dropped since, fails "
        'with "already exists", and with it the whole revision, on every database the '
        "history built: a revision copied from another branch, a constraint autogenerate "
        "wrote twice, a downgrade that makes again what its upgrade never dropped. Judged "
        "only where every revision before was captured to its end, so the schema is known "
        "whole; IF NOT EXISTS, and a statement inside a try/except, are left alone."
    ),
    fix="""\
# {what} exists already: leave this statement out; to change it, drop it first:
{drop}""",
    bad=(
        """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_index("ix_users_id", "users", ["id"])
    op.create_index("ix_users_id", "users", ["id"])
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_index("ix_users_id", "users", ["id"])
""",
    ),
    fails=True,
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    yield from aborted_transactions(  # a tester's helper in a try block
        rev,
        RULE,
        "already exists",
        what="what it makes",
        drop="# or keep the transaction going: with op.get_bind().begin_nested(): <it>",
    )
    for schema, stmt in on_known_schema(rev, RULE):
        for what, drop in _made_again(schema, stmt, rev.script.revision):
            yield rev.finding(
                RULE,
                stmt,
                f"{what[0].upper()}{what[1:]} exists already, and this statement makes it "
                "again: it fails on PostgreSQL, and with it the revision.",
                what=what,
                drop=drop,
            )


def _made_again(
    schema: Catalog, stmt: Statement, revision: str | None
) -> Iterator[tuple[str, str]]:
    """What ``stmt`` made that the schema held already, and the call that drops it."""
    node = stmt.node
    if isinstance(node, ast.CreateStmt) and schema.made_again_by(node):
        table_name = TableName.of(node.relation)
        if not table_name.name.startswith(BATCH_COPY):
            yield (
                f"table {table_name.sql}",
                f"op.drop_table({py_literal(table_name.name)}{table_name.schema_argument})",
            )
    elif isinstance(node, ast.CreateEnumStmt) and schema.made_again_by(node):
        yield _enum_made_again(schema, dotted_name(node.typeName), revision)
    elif isinstance(node, ast.RenameStmt) and schema.made_again_by(node):
        yield _renamed_onto(node)
    elif isinstance(node, ast.IndexStmt) and node.idxname and schema.made_again_by(node):
        table_name = TableName.of(node.relation)
        yield (
            f'index "{node.idxname}"',
            f"op.drop_index({py_literal(node.idxname)}, "
            f"table_name={py_literal(table_name.name)}{table_name.schema_argument})",
        )
    if isinstance(node, ast.CreateStmt):  # a key whose index takes a relation's name
        for key in walk(node):
            if isinstance(key, ast.Constraint) and schema.made_again_by(key):
                yield _relation_named(schema, key.conname, stmt)
    for cmd in alter_commands(node, AlterTableType.AT_AddColumn):
        if stmt.table is not None and schema.made_again_by(cmd.def_):
            column = cmd.def_.colname
            yield (
                f'column "{column}" of {stmt.table.sql}',
                f"op.drop_column({py_literal(stmt.table.name)}, {py_literal(column)}"
                f"{stmt.table.schema_argument})",
            )
    for cmd in alter_commands(node, AlterTableType.AT_AddConstraint):
        if stmt.table is not None and schema.made_again_by(cmd.def_):
            name = cmd.def_.conname
            if _is_relation(schema, stmt, name):
                yield _relation_named(schema, name, stmt)
                continue
            yield (
                f'constraint "{name}" of {stmt.table.sql}',
                f"op.drop_constraint({py_literal(name)}, {py_literal(stmt.table.name)}"
                f"{stmt.table.schema_argument})",
            )


def _enum_made_again(schema: Catalog, key: Name, revision: str | None) -> tuple[str, str]:
    """An enum type made again, most often by ``create_table()`` for an ``sa.Enum`` column:
    the column can take the type as it is (``create_type=False``), and a type a column uses
    cannot be dropped (tacker's ``operation``)."""
    schema_name, type_name = key
    qualified = "" if schema_name == DEFAULT_SCHEMA else f"{quote_identifier(schema_name)}."
    labels = "".join(f"{py_literal(label)}, " for label in schema.enums.get(key, ()))
    owner = "" if schema_name == DEFAULT_SCHEMA else f", schema={py_literal(schema_name)}"
    reuse = f"postgresql.ENUM({labels}name={py_literal(type_name)}{owner}, create_type=False)"
    using = columns_of_type(schema, key, revision)
    if using:
        listed = ", ".join(f'{table.sql}."{column}"' for table, column in using)
        drop = (
            f"# it cannot be: {listed} {'uses' if len(using) == 1 else 'use'} it. Give the "
            f"column the type as it is:\n{reuse}"
        )
    else:
        sql = f"DROP TYPE {qualified}{quote_identifier(type_name)}"
        drop = f"op.execute({sql_code(sql)})\n# or give the column the type as it is: {reuse}"
    return f"enum type {qualified}{quote_identifier(type_name)}", drop


def _is_relation(schema: Catalog, stmt: Statement, name: str) -> bool:
    """The name is another relation's (an index of another table, a table) rather than a
    constraint of the statement's own table."""
    assert stmt.table is not None
    own = schema.tables.get(stmt.table.key)
    return own is None or name not in own.constraints


def _renamed_onto(node: ast.RenameStmt) -> tuple[str, str]:
    """A table, view, sequence or index renamed to the name another relation has: what
    holds that name is not told, as the schema before the revision may not have held it."""
    assert node.relation is not None
    taken = TableName.from_key((TableName.of(node.relation).key[0], node.newname))
    return f"relation {taken.sql}", "# rename that one away first, or pick another name"


def _relation_named(schema: Catalog, name: str, stmt: Statement) -> tuple[str, str]:
    """An index (or table) that has the name a key's index would take."""
    assert stmt.table is not None
    index = schema.indexes.get((stmt.table.key[0], name))
    if index is None:
        return (f'a relation named "{name}"', "# rename the constraint")
    table = TableName.from_key(index.table)
    return (
        f'index "{name}" (of {table.sql}), whose name this key\'s index would take,',
        f"op.drop_index({py_literal(name)}, table_name={py_literal(table.name)}"
        f"{table.schema_argument})  # or give this key another name",
    )

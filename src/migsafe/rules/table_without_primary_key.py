"""table-without-primary-key: logical replication cannot replicate UPDATE or DELETE on it."""

from __future__ import annotations

from collections.abc import Iterator

from alembic.operations import ops
from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands, is_version_table, table_values
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.rules._columns import primary_key_columns
from migsafe.rules._same_revision import dropped_tables
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS055",
    name="table-without-primary-key",
    severity=Severity.NOTICE,
    category=Category.SCHEMA,
    help="Give the table a primary key when it is created.",
    references=(
        PG_DOCS + "logical-replication-publication.html",
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-REPLICA-IDENTITY",
    ),
    summary="A table is created without a primary key.",
    why=(
        "Logical replication (an upgrade by replication, a blue/green switch, change data "
        "capture such as Debezium) identifies the rows an UPDATE or DELETE changes by the "
        "table's replica identity, which is its primary key. Once a publication includes a "
        'table that has none, UPDATE and DELETE on it fail ("cannot update table ... '
        'because it does not have a replica identity"), in the application. Rows with no '
        "key also cannot be told apart from their duplicates, and SQLAlchemy cannot map the "
        "table. Adding a key later builds its index under an ACCESS EXCLUSIVE lock. Tables "
        "created with a primary key later in the same revision, or with a REPLICA IDENTITY "
        "set, and temporary, unlogged and partition tables are not flagged."
    ),
    fix="{definition}",
    bad=(
        """\
def upgrade():
    op.create_table("events", sa.Column("name", sa.Text()), sa.Column("payload", sa.Text()))
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text()),
    )
""",
        """\
def upgrade():
    op.create_table("tags", sa.Column("name", sa.Text(), nullable=False))
    op.create_primary_key("tags_pkey", "tags", ["name"])
""",
    ),
    opt_in=True,
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    statements = list(rev.statements(RULE))
    for index, stmt in enumerate(statements):
        node, table = stmt.node, stmt.table
        if not isinstance(node, ast.CreateStmt) or table is None or not _is_plain(node):
            continue
        if is_version_table(table) or primary_key_columns(node):
            continue
        if any(_keys_it(later, table) for later in statements[index + 1 :]):
            continue
        yield rev.finding(
            RULE,
            stmt,
            f"Table {table.sql} has no primary key: once a publication includes it (logical "
            "replication, change data capture), its UPDATEs and DELETEs fail.",
            definition=_recipe(stmt, node, table),
        )


def _is_plain(node: ast.CreateStmt) -> bool:
    """A permanent, logged table of its own: not temporary or unlogged (never replicated),
    not a partition (its parent has the key), not typed or copied with LIKE."""
    return (
        node.relation.relpersistence == "p"
        and node.partbound is None
        and not node.inhRelations
        and node.ofTypename is None
        and not any(isinstance(e, ast.TableLikeClause) for e in node.tableElts or ())
    )


def _keys_it(stmt: Statement, table: TableName) -> bool:
    """True when ``stmt`` gives ``table`` a primary key or a replica identity, or drops it
    (``public`` and no schema are the same table)."""
    node = stmt.node
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        return any(dropped.key == table.key for dropped in dropped_tables(node))
    if stmt.table is None or stmt.table.key != table.key:
        return False
    for command in alter_commands(node, AlterTableType.AT_AddConstraint):
        if command.def_.contype == ConstrType.CONSTR_PRIMARY:
            return True
    for command in alter_commands(node, AlterTableType.AT_AddColumn):
        if any(c.contype == ConstrType.CONSTR_PRIMARY for c in command.def_.constraints or ()):
            return True
    return any(alter_commands(node, AlterTableType.AT_ReplicaIdentity))


def _recipe(stmt: Statement, node: ast.CreateStmt, table: TableName) -> str:
    """The key to give the table: its ``id`` column, else the columns of its first UNIQUE
    constraint, else a new identity column; written as the user wrote the table."""
    columns = [e.colname for e in node.tableElts or () if isinstance(e, ast.ColumnDef)]
    unique = next(
        (
            tuple(k.sval for k in e.keys or ())
            for e in node.tableElts or ()
            if isinstance(e, ast.Constraint) and e.contype == ConstrType.CONSTR_UNIQUE and e.keys
        ),
        None,
    )
    key = ("id",) if "id" in columns else unique
    in_sql = not isinstance(stmt.operation, ops.CreateTableOp)
    values = table_values(table)
    if key is None:
        if in_sql:
            return '# in the SQL: "id" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY'
        return (
            'sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),'
            f"  # in op.create_table({py_literal(values['table'])}, ...)"
        )
    if in_sql:
        return f"# in the SQL: PRIMARY KEY ({', '.join(quote_identifier(c) for c in key)})"
    names = ", ".join(py_literal(c) for c in key)
    name = py_literal(f"{table.name}_pkey")
    instead = "  (instead of the UNIQUE constraint)" if key == unique else ""
    return (
        f"sa.PrimaryKeyConstraint({names}, name=op.f({name})),"
        f"  # in op.create_table({py_literal(values['table'])}, ...){instead}"
    )

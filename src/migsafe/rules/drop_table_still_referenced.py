"""drop-table-still-referenced: DROP TABLE fails while another table's foreign key refers to it."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import DropBehavior, ObjectType

from migsafe.catalog import DEFAULT_SCHEMA, Catalog, Constraint
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.rules._same_revision import dropped_tables
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS064",
    name="drop-table-still-referenced",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Drop the tables (or the foreign keys) that refer to it first.",
    references=(PG_DOCS + "sql-droptable.html", PG_DOCS + "ddl-depend.html"),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="DROP TABLE of a table another table's foreign key still refers to fails.",
    why=(
        "PostgreSQL refuses to drop a table while a foreign key of another table refers to "
        'it ("cannot drop table ... because other objects depend on it"), so the migration '
        "fails there, on deploy or, in downgrade(), exactly when a rollback is needed. It is "
        "the usual mistake of a downgrade() that drops tables in the order upgrade() created "
        "them, parents first. Drop the referring tables first, or their foreign keys; DROP "
        "... CASCADE would drop those foreign keys silently."
    ),
    fix="""\
# first what refers to {table}:
{first}
op.drop_table({name}{schema})""",
    bad=(
        """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id")),
    )


def downgrade():
    op.drop_table("users")
    op.drop_table("orders")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id")),
    )


def downgrade():
    op.drop_table("orders")
    op.drop_table("users")
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        node = stmt.node
        if not isinstance(node, ast.DropStmt) or node.removeType != ObjectType.OBJECT_TABLE:
            continue
        schema = rev.schema_at(stmt)
        if node.behavior == DropBehavior.DROP_CASCADE or schema is None:
            continue
        dropped = {table.key for table in dropped_tables(node)}
        for table in dropped_tables(node):
            referring = [
                (name, constraint)
                for name, constraint in _foreign_keys_to(schema, table.key)
                if name not in dropped  # dropped together, or its own: PostgreSQL allows
                and schema.certain(name, rev.script.revision)
            ]
            if referring:
                yield _finding(rev, stmt, table, referring)


def _finding(
    rev: RevisionContext,
    stmt: Statement,
    table: TableName,
    referring: list[tuple[tuple[str, str], Constraint]],
) -> Finding:
    described = ", ".join(
        f"{TableName(_schema(name), name[1]).sql}'s {constraint.name!r}"
        for name, constraint in referring
    )
    later = _dropped_later(rev, stmt)
    first = []
    for name, constraint in referring:
        values = f"{py_literal(name[1])}{_schema_argument(name)}"
        if name in later:
            first.append(f"op.drop_table({values})  # move it up: it is dropped later")
        else:
            first.append(
                f'op.drop_constraint({py_literal(constraint.name)}, {values}, type_="foreignkey")'
            )
    return rev.finding(
        RULE,
        stmt,
        f"DROP TABLE {table.sql} fails: the foreign key {described} still refers to it, and "
        "PostgreSQL does not drop a table other tables depend on.",
        table=table.sql,
        first="\n".join(dict.fromkeys(first)),
        name=py_literal(table.name),
        schema=table.schema_argument,
    )


def _foreign_keys_to(
    schema: Catalog, table: tuple[str, str]
) -> Iterator[tuple[tuple[str, str], Constraint]]:
    for name, other in schema.tables.items():
        for constraint in other.constraints.values():
            if constraint.kind == "foreign key" and constraint.referred == table:
                yield name, constraint


def _dropped_later(rev: RevisionContext, stmt: Statement) -> set[tuple[str, str]]:
    statements = rev.downgrade if stmt.direction == DOWNGRADE else rev.upgrade
    at = next(index for index, other in enumerate(statements) if other is stmt)
    return {
        table.key
        for later in statements[at + 1 :]
        if isinstance(later.node, ast.DropStmt) and later.node.removeType == ObjectType.OBJECT_TABLE
        for table in dropped_tables(later.node)
    }


def _schema(name: tuple[str, str]) -> str | None:
    return None if name[0] == DEFAULT_SCHEMA else name[0]


def _schema_argument(name: tuple[str, str]) -> str:
    return f", schema={py_literal(name[0])}" if name[0] != DEFAULT_SCHEMA else ""

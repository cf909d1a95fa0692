"""drop-table-still-referenced: DROP TABLE fails while another table's foreign key refers to it."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migsafe.catalog import Catalog, Constraint
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.rules._same_revision import dropped_tables, restricted_drops
from migsafe.sql import Statement, TableName, quote_identifier

_TABLES = """\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id")),
    )
"""  # what both examples create

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
        _TABLES
        + """

def downgrade():
    op.drop_table("users")
    op.drop_table("orders")
""",
    ),
    good=(
        _TABLES
        + """

def downgrade():
    op.drop_table("orders")
    op.drop_table("users")
""",
    ),
    fails=True,
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt, node, schema in restricted_drops(rev, RULE, ObjectType.OBJECT_TABLE):
        dropped = {table.key for table in dropped_tables(node)}
        for table in dropped_tables(node):
            referring = [
                (TableName.from_key(other.name), constraint)
                for other, _, constraint in schema.foreign_keys_to(table.key)
                if other.name not in dropped  # dropped together, or its own: PostgreSQL allows
                # a key the history added is there, also on a table it only altered
                # (buildbot's builders), unless a revision not captured to its end dropped it
                and (schema.exact or schema.certain(other.name, rev.script.revision))
            ]
            if referring:
                yield _finding(rev, stmt, table, referring, schema)


def _finding(
    rev: RevisionContext,
    stmt: Statement,
    table: TableName,
    referring: list[tuple[TableName, Constraint]],
    schema: Catalog,
) -> Finding:
    described = ", ".join(
        f"{other.sql}'s {quote_identifier(constraint.name)}" for other, constraint in referring
    )
    # a table dropped later that this one refers to in turn cannot be dropped first either
    # (datajunction's "column" and "partition" refer to each other): its key goes instead
    own = schema.tables.get(table.key)
    referred = {c.referred for c in own.constraints.values() if c.kind == "foreign key"} if (
        own is not None
    ) else set()  # fmt: skip
    later = _dropped_later(rev, stmt) - referred
    first = []
    for other, constraint in _referrers_first(referring, later, schema):
        values = f"{py_literal(other.name)}{other.schema_argument}"
        if other.key in later:
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


def _referrers_first(
    referring: list[tuple[TableName, Constraint]],
    later: set[tuple[str, str]],
    schema: Catalog,
) -> list[tuple[TableName, Constraint]]:
    """The tables to drop first in an order that works: one whose key refers to another of
    them before that one (buildbot's codebase_branches refers to codebase_commits, and both
    to codebases); the constraints to drop keep their place."""
    moved = {other.key for other, _ in referring if other.key in later}
    waiting, ordered = list(referring), []

    def blocked(item: tuple[TableName, Constraint]) -> bool:
        """A table still to be dropped whose key refers to this one, to be dropped."""
        key = item[0].key
        pending = {other.key for other, _ in waiting if other.key in moved} - {key}
        return key in moved and any(
            referrer.name in pending for referrer, _, _ in schema.foreign_keys_to(key)
        )

    while waiting:
        ready = next((item for item in waiting if not blocked(item)), waiting[0])  # a cycle
        ordered.append(ready)
        waiting.remove(ready)
    return ordered


def _dropped_later(rev: RevisionContext, stmt: Statement) -> set[tuple[str, str]]:
    statements = rev.downgrade if stmt.direction == DOWNGRADE else rev.upgrade
    at = next(index for index, other in enumerate(statements) if other is stmt)
    return {
        table.key
        for later in statements[at + 1 :]
        if isinstance(later.node, ast.DropStmt) and later.node.removeType == ObjectType.OBJECT_TABLE
        for table in dropped_tables(later.node)
    }

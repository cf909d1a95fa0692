"""object-already-exists: a table, index or constraint the history made is created again."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from migsafe.catalog import BATCH_COPY, Catalog, qualified_name
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS068",
    name="object-already-exists",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Leave out the statement that makes it again, or drop the object first.",
    references=(PG_DOCS + "sql-createtable.html", PG_DOCS + "sql-altertable.html"),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="A table, index or constraint the history already made is created again: the "
    "statement fails on PostgreSQL.",
    why=(
        "Names are unique: a table or an index in its schema, a constraint on its table. "
        "CREATE TABLE, CREATE INDEX or ADD CONSTRAINT of a name an earlier revision (or an "
        "earlier statement of the same function) made, and nothing dropped since, fails "
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
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    guarded = rev.script.guarded_lines
    base = not rev.script.down_revisions  # this revision starts a history of its own
    unrendered: set[str] = set()  # the functions with an operation not rendered so far
    for stmt in rev.statements(RULE):
        if stmt.node is None:
            unrendered.add(stmt.direction)
        if stmt.direction in unrendered or stmt.line in guarded:
            continue  # what an operation not rendered did is not known (mwdb's drop by None)
        schema = rev.schema_at(stmt)
        if schema is None or not schema.exact or schema.bases + base > 1:
            continue  # a revision not captured to its end may have dropped it; another
            # history (another base: prefect 2's versions for SQLite) may run elsewhere
        for what, drop in _made_again(schema, stmt):
            yield rev.finding(
                RULE,
                stmt,
                f"{what[0].upper()}{what[1:]} exists already, and this statement makes it "
                "again: it fails on PostgreSQL, and with it the revision.",
                what=what,
                drop=drop,
            )


def _made_again(schema: Catalog, stmt: Statement) -> Iterator[tuple[str, str]]:
    """What ``stmt`` makes that ``schema`` holds, and the call that drops it."""
    node = stmt.node
    if isinstance(node, ast.CreateStmt) and not node.if_not_exists:
        name = qualified_name(node.relation)
        table = schema.tables.get(name)
        if table is not None and not table.partial and not name[1].startswith(BATCH_COPY):
            table_name = TableName.from_key(name)
            yield (
                f"table {table_name.sql}",
                f"op.drop_table({py_literal(table_name.name)}{table_name.schema_argument})",
            )
    elif isinstance(node, ast.IndexStmt) and node.idxname and not node.if_not_exists:
        table_name = TableName.of(node.relation)
        index = schema.indexes.get((table_name.key[0], node.idxname))
        if index is not None:
            yield (
                f'index "{node.idxname}"',
                f"op.drop_index({py_literal(node.idxname)}, "
                f"table_name={py_literal(table_name.name)}{table_name.schema_argument})",
            )
    for cmd in alter_commands(node, AlterTableType.AT_AddConstraint):
        name = cmd.def_.conname if isinstance(cmd.def_, ast.Constraint) else None
        table = schema.table(stmt.table.key) if stmt.table is not None and name else None
        if table is not None and name in table.constraints:
            yield (
                f'constraint "{name}" of {stmt.table.sql}',
                f"op.drop_constraint({py_literal(name)}, {py_literal(stmt.table.name)}"
                f"{stmt.table.schema_argument})",
            )

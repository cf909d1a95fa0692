"""enum-add-value: ALTER TYPE ... ADD VALUE inside the migration's transaction fails before
PostgreSQL 12, and the new value cannot be used before that transaction commits."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.keywords import RESERVED_KEYWORDS
from pglast.visitors import Visitor

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal
from migsafe.sql import Statement, quote_identifier

RULE = Rule(
    code="MS026",
    name="enum-add-value",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Add the enum value in op.get_context().autocommit_block(), before anything uses it.",
    references=(
        PG_DOCS + "sql-altertype.html#SQL-ALTERTYPE-NOTES",
        "https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="An enum value added in the migration's transaction cannot be used in it "
    "(and before PostgreSQL 12 cannot be added in it at all).",
    why=(
        "Alembic runs a migration inside a transaction. Before PostgreSQL 12, ALTER TYPE ... "
        'ADD VALUE refuses to run inside a transaction block ("ALTER TYPE ... ADD cannot run '
        'inside a transaction block"): the deploy fails. Since PostgreSQL 12 it may run there, '
        "but the new value cannot be used until that transaction commits: an UPDATE, INSERT, "
        'default or CHECK that uses it later in the same transaction fails with "unsafe use '
        'of new value". Both restrictions are lifted for an enum type created earlier in the '
        "same transaction. Adding the value in an autocommit_block() commits it at once; IF "
        "NOT EXISTS lets the migration be run again after a later step failed, since the "
        "committed value stays. Without BEFORE or AFTER the value goes last in the enum's "
        "sort order, which is what ORDER BY and < > on the column use."
    ),
    fix="""\
with op.get_context().autocommit_block():  # the value is committed before anything uses it
    op.execute({statement})""",
    bad=(
        """\
def upgrade():
    op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    op.execute("UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded'")
    op.execute("UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL")
""",
        """\
def upgrade():
    op.execute("CREATE TYPE order_status AS ENUM ('new', 'paid')")
    op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    op.execute("UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL")
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for transaction in rev.transactions(RULE):
        yield from _judge(rev, transaction)


def _judge(rev: RevisionContext, transaction: list[Statement]) -> Iterator[Finding]:
    created: list[tuple[str, ...]] = []  # enum types created earlier in this transaction
    added: list[tuple[Statement, ast.AlterEnumStmt]] = []  # values added, not committed
    for stmt in transaction:
        node = stmt.node
        if isinstance(node, ast.CreateEnumStmt):
            created.append(_type_name(node.typeName))
            continue
        if isinstance(node, ast.AlterEnumStmt) and node.oldVal is None and node.newVal:
            if any(_same_type(_type_name(node.typeName), name) for name in created):
                continue  # PostgreSQL allows both on a type of the same transaction
            if rev.pg_version < 12:
                yield rev.finding(
                    RULE,
                    stmt,
                    f"ALTER TYPE {_type_sql(node)} ADD VALUE {_literal(node.newVal)} cannot run "
                    f"inside a transaction block on PostgreSQL {rev.pg_version} (before 12): "
                    "PostgreSQL rejects it and the migration fails.",
                    statement=py_literal(_add_value_sql(node)),
                )
            else:
                added.append((stmt, node))
            continue
        if not added or isinstance(node, (ast.AlterEnumStmt, ast.CommentStmt)) or node is None:
            continue  # nothing added yet: no literal to look for (most statements)
        literals = _string_literals(node)
        for add_stmt, add in added:
            if add.newVal in literals:
                yield rev.finding(
                    RULE,
                    stmt,
                    f"{_literal(add.newVal)} is the value ALTER TYPE {_type_sql(add)} added at "
                    f"line {add_stmt.line}, in the same transaction: PostgreSQL refuses to use "
                    'a new enum value before it is committed ("unsafe use of new value") and '
                    "the migration fails.",
                    statement=py_literal(_add_value_sql(add)),
                )
                break


class _Strings(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()

    def visit_A_Const(self, ancestors: object, node: ast.A_Const) -> None:
        if isinstance(node.val, ast.String):
            self.values.add(node.val.sval)


def _string_literals(node: ast.Node) -> set[str]:
    """Every string constant in a statement: a new enum value is used as one ('refunded')."""
    visitor = _Strings()
    visitor(node)
    return visitor.values


def _type_name(names: tuple[ast.String, ...]) -> tuple[str, ...]:
    return tuple(name.sval for name in names)


def _same_type(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same type, as far as names tell: one left to the search path matches any schema."""
    return a == b or (a[-1] == b[-1] and (len(a) == 1 or len(b) == 1))


def _type_sql(node: ast.AlterEnumStmt) -> str:
    return ".".join(_identifier(part) for part in _type_name(node.typeName))


def _identifier(name: str) -> str:
    """A name as SQL: bare when PostgreSQL reads it back unchanged, else quoted."""
    plain = name.isidentifier() and name == name.lower() and name.isascii()
    return name if plain and name not in RESERVED_KEYWORDS else quote_identifier(name)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _add_value_sql(node: ast.AlterEnumStmt) -> str:
    """The user's ADD VALUE with IF NOT EXISTS: a value committed by an autocommit block
    stays when a later step fails, and the migration is run again."""
    sql = f"ALTER TYPE {_type_sql(node)} ADD VALUE IF NOT EXISTS {_literal(node.newVal)}"
    if node.newValNeighbor:
        sql += f" {'AFTER' if node.newValIsAfter else 'BEFORE'} {_literal(node.newValNeighbor)}"
    return sql

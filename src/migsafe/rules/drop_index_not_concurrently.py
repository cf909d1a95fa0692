"""drop-index-not-concurrently: a plain DROP INDEX locks the table against reads and writes."""

from __future__ import annotations

from collections.abc import Iterator

from alembic.operations import ops
from pglast import ast
from pglast.enums import ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import Rule, py_literal

RULE = Rule(
    code="MS006",
    name="drop-index-not-concurrently",
    severity=Severity.WARNING,
    summary="Dropping an index without CONCURRENTLY locks its table against reads and writes.",
    why=(
        "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table. The drop itself is "
        "quick, but it has to wait for every running query on the table, and everything "
        "queued behind it waits too: one long report query turns into an outage. DROP INDEX "
        "CONCURRENTLY waits without blocking others."
    ),
    fix="""\
with op.get_context().autocommit_block():
    {call}""",
    bad=(
        """\
def upgrade():
    op.drop_index("ix_users_email", table_name="users")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    created_here = {
        stmt.node.idxname for stmt in rev.upgrade if isinstance(stmt.node, ast.IndexStmt)
    }
    for stmt in rev.upgrade:
        node = stmt.node
        if (
            isinstance(node, ast.DropStmt)
            and node.removeType == ObjectType.OBJECT_INDEX
            and not node.concurrent
        ):
            names = [".".join(part.sval for part in obj) for obj in node.objects]
            if all(name.rsplit(".", 1)[-1] in created_here for name in names):
                continue
            table = _table_of(stmt.operation)
            on_table = f' on "{table}"' if table else ""
            yield rev.finding(
                RULE,
                stmt.line,
                f'DROP INDEX "{", ".join(names)}" takes an ACCESS EXCLUSIVE lock{on_table}: '
                "all reads and writes queue behind it until running queries finish.",
                call=_concurrent_call(stmt.operation, names[0]),
            )


def _table_of(operation: object) -> str | None:
    return operation.table_name if isinstance(operation, ops.DropIndexOp) else None


def _concurrent_call(operation: object, name: str) -> str:
    if isinstance(operation, ops.DropIndexOp) and operation.table_name:
        return (
            f"op.drop_index({py_literal(operation.index_name)}, "
            f"table_name={py_literal(operation.table_name)}, postgresql_concurrently=True)"
        )
    return f"op.execute('DROP INDEX CONCURRENTLY IF EXISTS {name}')"

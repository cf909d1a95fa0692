"""concurrently-in-transaction: PostgreSQL refuses CONCURRENTLY inside a transaction block."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal

RULE = Rule(
    code="MS005",
    name="concurrently-in-transaction",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Run CONCURRENTLY statements inside op.get_context().autocommit_block().",
    references=(
        PG_DOCS + "sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
        "https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="CONCURRENTLY cannot run inside the migration's transaction.",
    why=(
        "Alembic runs each migration inside a transaction, and PostgreSQL rejects CREATE INDEX "
        "CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and DETACH PARTITION "
        'CONCURRENTLY there ("cannot run inside a transaction block"): the deploy fails. '
        "Alembic's autocommit_block() commits the migration so far and runs its body outside "
        "any transaction."
    ),
    fix="""\
with op.get_context().autocommit_block():
    {statement}""",
    bad=(
        """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
""",
        """\
def upgrade():
    op.execute("DROP INDEX CONCURRENTLY ix_users_email")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        what = _concurrent_kind(stmt.node)
        if what and stmt.in_transaction:
            yield rev.finding(
                RULE,
                stmt,
                f"{what} cannot run inside a transaction block: PostgreSQL rejects it and the "
                "migration fails.",
                statement=_indented(
                    rev.source_at(stmt.line) or f"op.execute({py_literal(stmt.sql)})"
                ),
            )


def _concurrent_kind(node: ast.Node | None) -> str | None:
    if isinstance(node, ast.IndexStmt) and node.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if isinstance(node, ast.DropStmt) and node.concurrent:
        return "DROP INDEX CONCURRENTLY" if node.removeType == ObjectType.OBJECT_INDEX else None
    if isinstance(node, ast.ReindexStmt) and any(
        p.defname == "concurrently" for p in node.params or ()
    ):
        return "REINDEX CONCURRENTLY"
    if isinstance(node, ast.AlterTableStmt):
        for cmd in alter_commands(node, AlterTableType.AT_DetachPartition):
            if getattr(cmd.def_, "concurrent", False):
                return "DETACH PARTITION CONCURRENTLY"
    return None


def _indented(code: str) -> str:
    return code.replace("\n", "\n    ")

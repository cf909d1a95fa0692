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
    fails=True,
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    shared = _shared_texts(rev)
    reported: set[tuple[str, int, tuple[str, ...]]] = set()
    for stmt in rev.statements(RULE):
        what = _concurrent_kind(stmt.node)
        if what is None:
            continue
        text = shared.get((stmt.direction, stmt.line, stmt.sql))
        if text is not None:
            if (stmt.direction, stmt.line, text) not in reported:
                reported.add((stmt.direction, stmt.line, text))
                yield rev.finding(
                    RULE,
                    stmt,
                    f"{what} shares one op.execute() with other statements: PostgreSQL runs "
                    "them as one transaction block, rejects it and the migration fails.",
                    statement="\n    ".join(f"op.execute({py_literal(sql)})" for sql in text),
                )
        elif stmt.in_transaction:
            yield rev.finding(
                RULE,
                stmt,
                f"{what} cannot run inside a transaction block: PostgreSQL rejects it and the "
                "migration fails.",
                statement=_indented(rev.own_statement(stmt)),
            )


def _shared_texts(rev: RevisionContext) -> dict[tuple[str, int, str], tuple[str, ...]]:
    """For each statement of a text that holds several, the text's statements one by one.

    PostgreSQL runs a multi-statement text as one implicit transaction block, even in
    autocommit mode and even after a COMMIT in the text: CONCURRENTLY needs a text of its
    own. Transaction control is left out of the split, autocommit_block() replaces it.
    """
    shared: dict[tuple[str, int, str], tuple[str, ...]] = {}
    for direction, capture in ((UPGRADE, rev.upgrade_capture), (DOWNGRADE, rev.downgrade_capture)):
        for item in capture.judged:
            if len(item.parsed) > 1:
                split = tuple(
                    sql for sql, node in item.parsed if not isinstance(node, ast.TransactionStmt)
                )
                shared.update(((direction, item.line, sql), split) for sql, _ in item.parsed)
    return shared


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

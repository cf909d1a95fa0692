"""autocommit-without-transaction-per-migration: autocommit_block() commits other revisions."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import TransactionStmtKind

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import UPGRADE, Category, Rule

RULE = Rule(
    code="MS060",
    name="autocommit-without-transaction-per-migration",
    severity=Severity.WARNING,
    category=Category.ROLLBACK,
    help="Pass transaction_per_migration=True to context.configure() in env.py.",
    references=(
        "https://alembic.sqlalchemy.org/en/latest/api/runtime.html"
        "#alembic.runtime.migration.MigrationContext.autocommit_block",
    ),
    directions=(UPGRADE,),
    since="0.2.0",
    summary="autocommit_block() in a project whose env.py runs every revision in one transaction.",
    why=(
        "Without transaction_per_migration, `alembic upgrade` runs all pending revisions in "
        "one transaction, and autocommit_block() first commits that transaction: everything "
        "the revisions before it did in this run is committed halfway through, and a failure "
        "after it leaves the database between revisions, with alembic_version saying "
        "otherwise. migsafe reads env.py to know; a file-level linter cannot."
    ),
    fix="""\
# env.py, where the migrations run on a connection: add to the context.configure() call,
# keeping what it passes already,
    transaction_per_migration=True,""",
    bad=(),
    good=(),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    if rev.environment.transaction_per_migration is not False:
        return
    before = rev.schema_before
    if not rev.script.down_revisions and (before is None or not before.bases):
        return  # the first revision of a run (skypilot's): no revision before it to commit
    for stmt in rev.upgrade:
        if stmt.node is not None and not stmt.in_transaction:
            block = "autocommit_block" in (rev.source_at(stmt.line) or "")
            after = ""
            if block:
                what = "This statement runs in an autocommit block, which commits"
            elif _is_rollback(stmt.node):  # a Session's block that raised, caught
                what, after = "This ROLLBACK undoes", ", and Alembic goes on as if it had not"
            else:  # bodhi's op.execute("COMMIT"), a bind's commit()
                what = "This COMMIT commits"
            yield rev.finding(
                RULE,
                stmt,
                f"{what} everything this `alembic upgrade` did before it, earlier revisions "
                f"included{after}: env.py runs every revision in one transaction (no "
                "transaction_per_migration=True).",
            )
            return


def _is_rollback(node: ast.Node) -> bool:
    return (
        isinstance(node, ast.TransactionStmt)
        and node.kind == TransactionStmtKind.TRANS_STMT_ROLLBACK
    )

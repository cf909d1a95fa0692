"""create-index-not-concurrently: a plain CREATE INDEX blocks all writes while it builds."""

from __future__ import annotations

from collections.abc import Iterator

from alembic.operations import ops
from pglast import ast

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.rules._index_calls import concurrent_call
from migsafe.sql import Statement

RULE = Rule(
    code="MS004",
    name="create-index-not-concurrently",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Create the index with postgresql_concurrently=True inside an autocommit_block().",
    references=(
        PG_DOCS + "sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="Creating an index without CONCURRENTLY blocks writes to the table while it builds.",
    why=(
        "CREATE INDEX takes a SHARE lock on the table for the whole build: every INSERT, "
        "UPDATE and DELETE waits, which on a large table means minutes of failed requests. "
        "CREATE INDEX CONCURRENTLY builds the index without blocking writes; it must run "
        "outside a transaction, hence the autocommit block. On PostgreSQL 14.0 to 14.3 a bug "
        "could leave an index built concurrently silently missing entries (fixed in 14.4): "
        "with postgres-version 14, the recipe says to check the server's minor version."
    ),
    fix="""\
{bug}with op.get_context().autocommit_block():
    {call}""",
    bad=(
        """\
def upgrade():
    op.create_index("ix_users_email", "users", ["email"])
""",
        """\
def upgrade():
    op.execute("CREATE UNIQUE INDEX ix_orders_ref ON orders (reference)")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
""",
        """\
def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
    op.create_index("ix_tags_name", "tags", ["name"])
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        node = stmt.node
        if isinstance(node, ast.IndexStmt) and not node.concurrent:
            schema = rev.schema_at(stmt)
            waits = (  # only a materialized view has indexes among views: no row is written
                "its REFRESH MATERIALIZED VIEW waits"
                if schema is not None and stmt.table.key in schema.views
                else f"{stmt.lock.blocks} to it wait"
            )
            after = len(rev.later_in_transaction(stmt))  # the lock is held until commit
            until = (
                f"until the migration commits, after the {after} statement"
                f"{'s' if after > 1 else ''} that follow{'' if after > 1 else 's'} it"
                if after
                else "until the index is built"
            )  # mirrormanager2 builds 17 indexes in one transaction
            yield rev.finding(
                RULE,
                stmt,
                f'CREATE INDEX "{node.idxname}" takes a {stmt.lock.label} lock on '
                f"{stmt.table.sql}: {waits} {until}.",
                call=concurrent_call(stmt.operation, node) + _index_flag_note(stmt),
                bug=_BUG_14 if rev.pg_version == 14 else "",
            )


def _index_flag_note(stmt: Statement) -> str:
    """An index of ``add_column()``'s ``Column(..., index=True)``: that call builds it again
    unless the flag goes (Kotti's ``path``)."""
    if isinstance(stmt.operation, ops.AddColumnOp):
        return "\n# and leave index=True out of the add_column() call, which builds it too"
    return ""


_BUG_14 = "# PostgreSQL 14.0-14.3 could corrupt indexes built CONCURRENTLY: run 14.4 or later\n"

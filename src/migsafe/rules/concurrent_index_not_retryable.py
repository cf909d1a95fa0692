"""concurrent-index-not-retryable: a failed deploy leaves the index, and the re-run fails."""

from __future__ import annotations

import re
from collections.abc import Iterator

from alembic.operations import ops
from pglast import ast
from pglast.enums import ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal, sql_code
from migsafe.rules._index_calls import create_index_call
from migsafe.sql import Statement, quote_identifier

RULE = Rule(
    code="MS044",
    name="concurrent-index-not-retryable",
    severity=Severity.NOTICE,
    category=Category.ROLLBACK,
    help="Drop what a failed run left (DROP INDEX CONCURRENTLY IF EXISTS) before the build.",
    references=(
        PG_DOCS + "sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
        "https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.create_index",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="CREATE INDEX CONCURRENTLY without IF NOT EXISTS cannot be re-run after a failure.",
    why=(
        "In an autocommit block each statement commits on its own: when the deploy fails "
        "after the index was built (a later statement, a lock timeout), the revision is not "
        'recorded, and running it again stops at "relation already exists". A concurrent '
        "build that fails itself (a deadlock, a duplicate for a unique index, a cancelled "
        "statement) leaves an INVALID index behind, which takes writes but serves no query. "
        "IF NOT EXISTS alone makes the re-run go on, but keeps an INVALID index as it is. "
        "Dropping the index IF EXISTS before the build handles both (a valid one is "
        "built again); migsafe.runtime.create_index_concurrently() drops only an INVALID one "
        "and keeps a valid one (IF NOT EXISTS). An index on a table the revision "
        "creates, and a build in the migration's transaction (concurrently-in-transaction's "
        "to judge), are not flagged."
    ),
    fix="{recipe}",
    bad=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
""",
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY ix_users_email ON users (email)")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True,
                      if_exists=True)
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
""",
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_users_email")
        op.execute("CREATE INDEX CONCURRENTLY ix_users_email ON users (email)")
""",
        """\
def upgrade():
    from migsafe.runtime import create_index_concurrently

    create_index_concurrently("ix_users_email", "users", ["email"])
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    """CREATE INDEX CONCURRENTLY outside a transaction, without IF NOT EXISTS, on a table
    that existed before, unless the function drops the index IF EXISTS before it."""
    for stmt in rev.existing_table_statements(RULE):
        node = stmt.node
        if not (
            isinstance(node, ast.IndexStmt)
            and node.concurrent
            and not node.if_not_exists
            and not stmt.in_transaction
        ):
            continue
        if node.idxname is None or _dropped_first(rev, stmt, node.idxname):
            continue  # an unnamed index gets a new name on each run
        if _looks_first(rev, stmt):
            continue  # it builds what is not there yet: retry-safe, as far as can be told
        schema = stmt.table.schema
        index_sql = ".".join(quote_identifier(p) for p in (schema, node.idxname) if p)
        yield rev.finding(
            RULE,
            stmt,
            f"CREATE INDEX CONCURRENTLY {quote_identifier(node.idxname)} on {stmt.table.sql} "
            "has no IF NOT EXISTS: after a failed deploy the index (maybe INVALID) stays, and "
            'running the revision again fails with "already exists".',
            recipe=_recipe(rev, stmt, node, index_sql),
        )


def _looks_first(rev: RevisionContext, create: Statement) -> bool:
    """The function looked up the indexes that exist (reflection, or a query of pg_index or
    pg_indexes) before the build: it builds only what is missing, which a database answered
    as empty cannot show."""
    capture = rev.downgrade_capture if create.direction == DOWNGRADE else rev.upgrade_capture
    looked = [*capture.index_lookups]
    looked += [r.line for r in capture.reads if re.search(r"\bpg_(index|indexes|class)\b", r.sql)]
    return any(line <= create.line for line in looked)


def _dropped_first(rev: RevisionContext, create: Statement, name: str) -> bool:
    """The index is dropped IF EXISTS earlier in the same function: a re-run runs the whole
    function again, so it drops what the failed run left, valid or not."""
    statements = rev.downgrade if create.direction == DOWNGRADE else rev.upgrade
    for stmt in statements:
        if stmt is create:
            return False
        node = stmt.node
        if (
            isinstance(node, ast.DropStmt)
            and node.removeType == ObjectType.OBJECT_INDEX
            and node.missing_ok
            and any(item[-1].sval == name for item in node.objects or ())
        ):
            return True
    return False


_HELPER = """\
# or keep a valid index an earlier run built, dropping only an INVALID one:
# from migsafe.runtime import create_index_concurrently
# {helper}"""


def _recipe(rev: RevisionContext, stmt: Statement, node: ast.IndexStmt, index_sql: str) -> str:
    """The user's own build, preceded by a drop of what a failed run left; and migsafe's
    helper, which keeps a valid index and drops an INVALID one."""
    table = stmt.table
    helper = None
    call = (
        create_index_call(stmt.operation) if isinstance(stmt.operation, ops.CreateIndexOp) else None
    )
    if call is not None:
        helper = call.replace("op.create_index(", "create_index_concurrently(", 1)
        helper = helper.replace(", postgresql_concurrently=True", "")
        helper = helper.replace(", if_not_exists=False", "")
        drop = (
            f"op.drop_index({py_literal(node.idxname)}, table_name={py_literal(table.name)}"
            f"{table.schema_argument}, postgresql_concurrently=True, if_exists=True)"
        )
    else:
        drop = f"op.execute({sql_code(f'DROP INDEX CONCURRENTLY IF EXISTS {index_sql}')})"
        call = f"op.execute({sql_code(stmt.sql)})"
    recipe = (
        "with op.get_context().autocommit_block():\n"
        "    # what a failed run left goes first: the index, INVALID if its build failed\n"
        f"    {drop}\n    {call}"
    )
    return recipe + ("\n" + _HELPER.format(helper=helper) if helper is not None else "")

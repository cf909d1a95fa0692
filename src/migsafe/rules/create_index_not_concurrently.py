"""create-index-not-concurrently: a plain CREATE INDEX blocks all writes while it builds."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator

from alembic.operations import ops
from pglast import ast
from pglast.stream import RawStream
from sqlalchemy.sql.elements import TextClause, conv

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, py_literal

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
            yield rev.finding(
                RULE,
                stmt,
                f'CREATE INDEX "{node.idxname}" takes a {stmt.lock.label} lock on '
                f"{stmt.table.sql}: {stmt.lock.blocks} to it wait until the index is built.",
                call=concurrent_call(stmt.operation, node),
                bug=_BUG_14 if rev.pg_version == 14 else "",
            )


_BUG_14 = "# PostgreSQL 14.0-14.3 could corrupt indexes built CONCURRENTLY: run 14.4 or later\n"


def concurrent_call(operation: object, node: ast.IndexStmt) -> str:
    """The user's own call, made concurrent; as SQL when an argument cannot be written back."""
    if isinstance(operation, ops.CreateIndexOp):
        call = create_index_call(operation)
        if call is not None:
            return call
    concurrent = copy.deepcopy(node)
    concurrent.concurrent = True
    return f"op.execute({py_literal(RawStream()(concurrent))})"


def create_index_call(operation: ops.CreateIndexOp) -> str | None:
    """``op.create_index(...)`` with every argument of ``operation`` (a WHERE, a USING, an
    expression column): a recipe that drops one builds another index. None when an argument
    is an SQLAlchemy expression this cannot write back as code."""
    name = _code(operation.index_name)
    columns = _code(list(operation.columns))
    options: dict[str, object] = {}
    if operation.unique:
        options["unique"] = True
    if operation.schema:
        options["schema"] = operation.schema
    if operation.if_not_exists:
        options["if_not_exists"] = True
    options.update((k, v) for k, v in operation.kw.items() if k != "postgresql_concurrently")
    keywords = {k: _code(v) for k, v in options.items()}
    if name is None or columns is None or None in keywords.values():
        return None
    args = [name, py_literal(operation.table_name), columns]
    args += [f"{k}={v}" for k, v in keywords.items()]
    return f"op.create_index({', '.join(args)}, postgresql_concurrently=True)"


def _code(value: object) -> str | None:
    """``value`` as Python source when it is a literal, ``op.f()`` or ``sa.text()``."""
    if isinstance(value, conv):
        return f"op.f({py_literal(str(value))})"
    if isinstance(value, TextClause):
        return f"sa.text({py_literal(value.text)})"
    if value is None or isinstance(value, (str, bool, int, float)):
        return py_literal(value)
    if isinstance(value, (list, tuple)):
        items = _all_code(value)
        return None if items is None else f"[{', '.join(items)}]"
    if isinstance(value, dict):
        keys, values = _all_code(value.keys()), _all_code(value.values())
        if keys is None or values is None:
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, values, strict=True)) + "}"
    return None


def _all_code(values: Iterable[object]) -> list[str] | None:
    codes = [_code(value) for value in values]
    return [code for code in codes if code is not None] if None not in codes else None

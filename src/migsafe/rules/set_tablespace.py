"""set-tablespace: SET TABLESPACE copies a table or an index while it is locked against reads
and writes."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS030",
    name="set-tablespace",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Move indexes with REINDEX (TABLESPACE ...) CONCURRENTLY (PG 14+), tables with pg_repack.",
    references=(
        PG_DOCS + "sql-altertable.html",
        PG_DOCS + "sql-reindex.html",
        "https://reorg.github.io/pg_repack/",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="SET TABLESPACE copies the whole table or index while reads and writes are blocked.",
    why=(
        "ALTER TABLE ... SET TABLESPACE and ALTER INDEX ... SET TABLESPACE copy every block of "
        "the relation to the new tablespace under an ACCESS EXCLUSIVE lock. For a table, every "
        "query on it waits for the copy; for an index too, since planning any query on a table "
        "locks all of its indexes. Since PostgreSQL 14, REINDEX (TABLESPACE ...) INDEX "
        "CONCURRENTLY builds the index anew in the other tablespace while reads and writes go "
        "on; pg_repack --tablespace moves a table online, holding the ACCESS EXCLUSIVE lock "
        "only for a moment at the start and at the end."
    ),
    fix="{recipe}",
    bad=(
        """\
def upgrade():
    op.execute("ALTER TABLE events SET TABLESPACE archive")
""",
        """\
def upgrade():
    op.execute("ALTER INDEX ix_events_created_at SET TABLESPACE fast")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("REINDEX (TABLESPACE fast) INDEX CONCURRENTLY ix_events_created_at")
""",
        """\
def upgrade():
    op.create_table("events", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("ALTER TABLE events SET TABLESPACE archive")
""",
    ),
    since="0.2.0",
)

_PG_REPACK = (
    "# Outside migrations: pg_repack moves {what} online (ACCESS EXCLUSIVE only for a moment,\n"
    "# at the start and at the end), or run the ALTER in a maintenance window:\n"
    "#   {command}"
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        node = stmt.node
        if isinstance(node, ast.AlterTableMoveAllStmt):
            yield _move_all(rev, stmt, node)
            continue
        for cmd in alter_commands(node, AlterTableType.AT_SetTableSpace):
            if node.objtype == ObjectType.OBJECT_INDEX:
                finding = _index(rev, stmt, cmd)
            else:
                finding = _table(rev, stmt, cmd)
            if finding is not None:
                yield finding


def _table(rev: RevisionContext, stmt: Statement, cmd: ast.AlterTableCmd) -> Finding | None:
    if rev.is_new_table(stmt):
        return None
    lock, table, tablespace = alter_table_command_lock(cmd), stmt.table, cmd.name
    matview = stmt.node.objtype == ObjectType.OBJECT_MATVIEW
    kind = "materialized view" if matview else "table"
    if matview:  # pg_repack takes tables only
        recipe = (
            f"# No online form for a materialized view: move {table.sql} in a maintenance "
            "window, outside migrations, or create it in that tablespace to begin with."
        )
    else:
        command = f"pg_repack --table={table} --tablespace={tablespace} --moveidx --dbname=DBNAME"
        recipe = _PG_REPACK.format(what=f"{table.sql} and its indexes", command=command)
    return rev.finding(
        RULE,
        stmt,
        f"SET TABLESPACE {quote_identifier(tablespace)} copies the whole {kind} {table.sql} "
        f"under an {lock.label} lock: {lock.blocks} wait until the copy is done.",
        recipe=recipe,
    )


def _index(rev: RevisionContext, stmt: Statement, cmd: ast.AlterTableCmd) -> Finding | None:
    index, tablespace = stmt.table, cmd.name  # ALTER INDEX names the index as its relation
    table = _table_of_index(rev, stmt, index)
    if table is False:
        return None
    lock = alter_table_command_lock(cmd)
    if rev.pg_version >= 14:
        reindex = (
            f"REINDEX (TABLESPACE {quote_identifier(tablespace)}) INDEX CONCURRENTLY {index.sql}"
        )
        recipe = (
            "with op.get_context().autocommit_block():  # CONCURRENTLY: not in a transaction\n"
            f"    op.execute({sql_code(reindex)})"
        )
    else:
        command = f"pg_repack --index={index} --tablespace={tablespace} --dbname=DBNAME"
        recipe = (
            f"# PostgreSQL {rev.pg_version} has no REINDEX (TABLESPACE ...) (14 and later do).\n"
            + _PG_REPACK.format(what=f"the index {index.sql}", command=command)
        )
    of_table = table.sql if table else "its table"
    return rev.finding(
        RULE,
        stmt,
        f"ALTER INDEX {index.sql} SET TABLESPACE {quote_identifier(tablespace)} copies the "
        f"index under an {lock.label} lock on it: {lock.blocks} of {of_table} wait until the "
        "copy is done (planning a query locks every index of its table).",
        recipe=recipe,
    )


def _table_of_index(
    rev: RevisionContext, stmt: Statement, index: TableName
) -> TableName | bool | None:
    """The table of the index (None: unknown); False when the index or its table is new
    in this function, so that nothing uses it yet."""
    statements = rev.downgrade if stmt.direction == DOWNGRADE else rev.upgrade
    for earlier in statements:
        if earlier is stmt:
            break
        node = earlier.node
        if isinstance(node, ast.IndexStmt) and node.idxname == index.name:
            return False  # only this transaction sees it yet
    if rev.schema_before is None:
        return None
    found = rev.schema_before.indexes.get((index.schema or "public", index.name))
    if found is None:
        return None
    table = TableName(index.schema, found.table[1])  # an index lives in its table's schema
    return False if rev.is_new_table(stmt, table) else table


def _move_all(rev: RevisionContext, stmt: Statement, node: ast.AlterTableMoveAllStmt) -> Finding:
    lock = alter_table_command_lock(ast.AlterTableCmd(subtype=AlterTableType.AT_SetTableSpace))
    kinds = {
        ObjectType.OBJECT_INDEX: "index",
        ObjectType.OBJECT_MATVIEW: "materialized view",
    }
    kind = kinds.get(node.objtype, "table")
    source, target = node.orig_tablespacename, node.new_tablespacename
    option = "--index=INDEX" if kind == "index" else "--table=TABLE --moveidx"
    command = f"pg_repack {option} --tablespace={target} --dbname=DBNAME"
    return rev.finding(
        RULE,
        stmt,
        f"ALL IN TABLESPACE {quote_identifier(source)} SET TABLESPACE "
        f"{quote_identifier(target)} copies every {kind} there, each under an {lock.label} "
        f"lock: {lock.blocks} wait until its copy is done.",
        recipe=_PG_REPACK.format(what=f"each {kind}", command=command),
    )

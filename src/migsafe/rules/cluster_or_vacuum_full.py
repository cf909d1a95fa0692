"""cluster-or-vacuum-full: CLUSTER and VACUUM FULL rewrite a table while it is locked against
reads and writes."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, is_version_table
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule, sql_code
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS029",
    name="cluster-or-vacuum-full",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Rewrite tables with pg_repack (online) or in a maintenance window, not in a migration.",
    references=(
        PG_DOCS + "sql-cluster.html",
        PG_DOCS + "sql-vacuum.html",
        "https://reorg.github.io/pg_repack/",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="CLUSTER and VACUUM FULL rewrite the whole table while reads and writes are blocked.",
    why=(
        "CLUSTER and VACUUM FULL write a new copy of the table and of all its indexes under an "
        "ACCESS EXCLUSIVE lock: every query on the table waits until the copy is done, which "
        "on a large table is a long outage. VACUUM, full or not, also cannot run inside a "
        "transaction block, where Alembic runs migrations, and neither can CLUSTER without a "
        "table. pg_repack does the same rewrite online, holding the ACCESS EXCLUSIVE lock "
        "only for a moment at the start and at the end; run it (or the rewrite, in a "
        "maintenance window) outside the migrations. A plain VACUUM makes dead rows' space "
        "reusable without blocking reads or writes."
    ),
    fix="""\
# Outside migrations: pg_repack rewrites {what} online (ACCESS EXCLUSIVE only for a moment,
# at the start and at the end), or run {command} in a maintenance window:
#   {repack}
{in_migration}""",
    bad=(
        """\
def upgrade():
    op.execute("CLUSTER users USING ix_users_created_at")
""",
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("VACUUM FULL events")
""",
    ),
    good=(
        """\
def upgrade():
    with op.get_context().autocommit_block():
        op.execute("VACUUM (ANALYZE) events")
""",
        """\
def upgrade():
    op.execute("ALTER TABLE users CLUSTER ON ix_users_created_at")
""",
        """\
def upgrade():
    op.create_table("events", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("CLUSTER events USING events_pkey")
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        node = stmt.node
        if isinstance(node, ast.ClusterStmt):
            command = "CLUSTER"
            named = [TableName.of(node.relation)] if node.relation else []
        elif isinstance(node, ast.VacuumStmt) and node.is_vacuumcmd and _full(node):
            command = "VACUUM FULL"
            named = [TableName.of(r.relation) for r in node.rels or () if r.relation]
        else:
            continue
        tables = [t for t in named if not _exempt(rev, stmt, t)]
        if named and not tables:
            continue
        yield _finding(rev, stmt, command, tables)


def _finding(
    rev: RevisionContext, stmt: Statement, command: str, tables: list[TableName]
) -> Finding:
    lock = stmt.lock
    names = ", ".join(t.sql for t in tables)
    if tables:
        target = f"{command} {names} rewrites {'it' if len(tables) == 1 else 'them'}"
    elif command == "CLUSTER":
        target = "CLUSTER without a table rewrites every table clustered before"
    else:
        target = "VACUUM FULL without a table rewrites every table of the database"
    refused = ""
    if stmt.in_transaction and (command == "VACUUM FULL" or not tables):
        refused = ", and PostgreSQL refuses to run it inside the migration's transaction"
    index = getattr(stmt.node, "indexname", None)
    if command == "CLUSTER":
        in_migration = ""
        if tables and index:
            cluster_on = f"ALTER TABLE {names} CLUSTER ON {quote_identifier(index)}"
            in_migration = (
                "# In the migration, only choose the index it orders by (no rewrite, reads and "
                f"writes go on):\nop.execute({sql_code(cluster_on)})"
            )
    else:
        vacuums = [f"VACUUM (ANALYZE) {t.sql}" for t in tables] or ["VACUUM (ANALYZE)"]
        in_migration = (
            "# In the migration, a plain VACUUM makes dead rows' space reusable, and reads and "
            "writes go on:\n"
            "with op.get_context().autocommit_block():  # VACUUM cannot run in a transaction\n"
            + "\n".join(f"    op.execute({sql_code(sql)})" for sql in vacuums)
        )
    repack = "pg_repack" + ("" if command == "CLUSTER" else " --no-order")
    repack += "".join(f" --table={t}" for t in tables) + " --dbname=DBNAME"
    return rev.finding(
        RULE,
        stmt,
        f"{target} under an {lock.label} lock: {lock.blocks} wait until the copy is done{refused}.",
        what=names or "the tables",
        command=command,
        repack=repack,
        in_migration=in_migration,
    )


def _full(node: ast.VacuumStmt) -> bool:
    for option in node.options or ():
        if option.defname == "full":
            return _true(option.arg)
    return False


def _true(arg: ast.Node | None) -> bool:
    """A VACUUM option's value: given alone, or as a boolean word or number."""
    if arg is None:
        return True
    if isinstance(arg, ast.Integer):
        return arg.ival != 0
    if isinstance(arg, ast.Boolean):
        return bool(arg.boolval)
    return str(getattr(arg, "sval", "true")).lower() not in ("false", "off", "no", "0")


def _exempt(rev: RevisionContext, stmt: Statement, table: TableName) -> bool:
    return is_version_table(table) or rev.is_new_table(stmt, table)

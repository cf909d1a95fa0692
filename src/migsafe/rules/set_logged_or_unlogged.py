"""set-logged-or-unlogged: SET LOGGED and SET UNLOGGED rewrite the table while it is locked
against reads and writes."""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import AlterTableType

from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule

RULE = Rule(
    code="MS031",
    name="set-logged-or-unlogged",
    severity=Severity.ERROR,
    category=Category.LOCKING,
    help="Choose the table's persistence when it is created; there is no online form.",
    references=(
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-DESC-SET-LOGGED-UNLOGGED",
        PG_DOCS + "sql-createtable.html#SQL-CREATETABLE-UNLOGGED",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="SET LOGGED / SET UNLOGGED rewrite the whole table while reads and writes are blocked.",
    why=(
        "ALTER TABLE ... SET LOGGED and SET UNLOGGED write a new copy of the table and its "
        "indexes (SET LOGGED writes all of it to the WAL as well) under an ACCESS EXCLUSIVE "
        "lock: every query on the table waits until the copy is done. There is no concurrent "
        "form. An unlogged table is also emptied after a crash and cannot be read on "
        "standbys, so SET UNLOGGED on a table of the application loses data on a failover. "
        "Give a table the persistence it needs when it is created (an empty table rewrites "
        "at once), or build a copy, fill it in batches and swap the names, or do it in a "
        "maintenance window."
    ),
    fix="""\
# No online form: in a maintenance window, outside migrations, or build {persistence}
# copy of {table_sql}, fill it in batches and swap the names in one short transaction.
# A table a revision creates gets its persistence when it is created:
op.create_table({table!r}, ...{prefixes}{schema})""",
    bad=(
        """\
def upgrade():
    op.execute("ALTER TABLE events SET LOGGED")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table("staging_events", sa.Column("id", sa.Integer()), prefixes=["UNLOGGED"])
    op.execute("INSERT INTO staging_events SELECT id FROM events")
    op.execute("ALTER TABLE staging_events SET LOGGED")
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(
            stmt.node, AlterTableType.AT_SetLogged, AlterTableType.AT_SetUnLogged
        ):
            lock = alter_table_command_lock(cmd)
            logged = cmd.subtype == AlterTableType.AT_SetLogged
            if logged:
                what = f"SET LOGGED rewrites {stmt.table.sql} into the WAL"
                after = ""
            else:
                what = f"SET UNLOGGED rewrites {stmt.table.sql}"
                after = ", and from then on a crash empties it and standbys cannot read it"
            yield rev.finding(
                RULE,
                stmt,
                f"{what} under an {lock.label} lock: {lock.blocks} wait until the copy is "
                f"done{after}.",
                **table_values(stmt.table),
                persistence="a logged" if logged else "an unlogged",
                prefixes="" if logged else ', prefixes=["UNLOGGED"]',
            )

"""disable-trigger: DISABLE TRIGGER blocks writes, and writes made while it is disabled skip
the trigger (with ALL, the foreign key checks too)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from migsafe.findings import Finding, Severity
from migsafe.locks import alter_table_command_lock
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.sql import Statement, quote_identifier

RULE = Rule(
    code="MS032",
    name="disable-trigger",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help="Skip triggers for the migration's own writes with session_replication_role instead.",
    references=(
        PG_DOCS + "sql-altertable.html#SQL-ALTERTABLE-DESC-DISABLE-ENABLE-TRIGGER",
        PG_DOCS + "runtime-config-client.html#GUC-SESSION-REPLICATION-ROLE",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="DISABLE TRIGGER blocks writes, and rows written meanwhile skip the trigger.",
    why=(
        "ALTER TABLE ... DISABLE TRIGGER takes a SHARE ROW EXCLUSIVE lock, held until the "
        "migration commits: every INSERT, UPDATE and DELETE on the table waits for the rest "
        "of the migration. While the trigger is disabled, rows written skip it: an audit "
        "trail or a denormalised column is silently wrong, and with DISABLE TRIGGER ALL the "
        "internal triggers of foreign keys do not run either, so nothing checks the rows "
        "written meanwhile against their references. Left disabled when the migration ends, "
        "it stays off for the application's writes too. To skip triggers for the "
        "migration's own writes only, set session_replication_role to replica for its "
        "transaction: no lock, and the application's writes still fire them."
    ),
    fix="""\
# Skip the triggers of {table_sql} for this transaction's own writes only: no lock on the
# table, and the application's writes still fire them (it needs superuser, or on
# PostgreSQL 15+ the SET privilege on session_replication_role).
op.execute("SET LOCAL session_replication_role = replica")
# ... the writes that must not fire them, with no DISABLE / ENABLE TRIGGER ...
op.execute("SET LOCAL session_replication_role = DEFAULT"){check_references}{left_disabled}""",
    bad=(
        """\
def upgrade():
    op.execute("ALTER TABLE orders DISABLE TRIGGER ALL")
    op.execute("UPDATE orders SET total = total * 100")
    op.execute("ALTER TABLE orders ENABLE TRIGGER ALL")
""",
        """\
def upgrade():
    op.execute("ALTER TABLE orders DISABLE TRIGGER orders_audit")
""",
    ),
    good=(
        """\
def upgrade():
    op.execute("SET LOCAL session_replication_role = replica")
    op.execute("UPDATE orders SET total = total * 100")
    op.execute("SET LOCAL session_replication_role = DEFAULT")
""",
        """\
def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("ALTER TABLE orders DISABLE TRIGGER ALL")
""",
    ),
    since="0.2.0",
)

_DISABLE = {
    AlterTableType.AT_DisableTrig: None,  # one trigger, by name
    AlterTableType.AT_DisableTrigAll: "ALL",
    AlterTableType.AT_DisableTrigUser: "USER",
}
_ENABLE = {
    AlterTableType.AT_EnableTrig: None,
    AlterTableType.AT_EnableAlwaysTrig: None,
    AlterTableType.AT_EnableReplicaTrig: None,
    AlterTableType.AT_EnableTrigAll: "ALL",
    AlterTableType.AT_EnableTrigUser: "USER",
}


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.existing_table_statements(RULE):
        for cmd in alter_commands(stmt.node, *_DISABLE):
            scope = _DISABLE[cmd.subtype]
            what = f"DISABLE TRIGGER {scope or quote_identifier(cmd.name)}"
            lock = alter_table_command_lock(cmd)
            skipped = (
                "its triggers, foreign key checks included"
                if scope == "ALL"
                else ("its user triggers" if scope == "USER" else "the trigger")
            )
            enabled = _enabled_again(rev, stmt, cmd)
            if enabled == "same transaction":
                outcome = (
                    f"held until the migration commits: {lock.blocks} wait, and the rows the "
                    f"migration writes meanwhile skip {skipped}"
                )
            elif enabled == "later":
                outcome = (
                    f"and until it is enabled again in a later transaction, the application's "
                    f"writes skip {skipped}"
                )
            else:
                outcome = (
                    f"and it stays disabled after the migration: from then on the "
                    f"application's writes skip {skipped}"
                )
            check_references = ""
            if scope == "ALL":
                check_references = (
                    "\n# session_replication_role = replica skips the foreign key checks too: "
                    "check the rows written"
                )
            yield rev.finding(
                RULE,
                stmt,
                f"{what} on {stmt.table.sql} takes a {lock.label} lock, {outcome}.",
                **table_values(stmt.table),
                check_references=check_references,
                left_disabled=""
                if enabled
                else "\n# A trigger the application must no longer fire: drop it (DROP TRIGGER) "
                "once no code relies on it",
            )


def _enabled_again(rev: RevisionContext, disable: Statement, cmd: ast.AlterTableCmd) -> str | None:
    """Where the same function enables the trigger(s) again: ``"same transaction"``,
    ``"later"`` (after a COMMIT), or None (never)."""
    statements = rev.downgrade if disable.direction == DOWNGRADE else rev.upgrade
    same_transaction = disable.in_transaction
    after = next(i for i, stmt in enumerate(statements) if stmt is disable) + 1
    for stmt in statements[after:]:
        if not stmt.in_transaction or isinstance(stmt.node, ast.TransactionStmt):
            same_transaction = False
        if stmt.table != disable.table:
            continue
        for enable in alter_commands(stmt.node, *_ENABLE):
            if _covers(enable, cmd):
                return "same transaction" if same_transaction else "later"
    return None


def _covers(enable: ast.AlterTableCmd, disable: ast.AlterTableCmd) -> bool:
    """Whether the ENABLE turns on again what the DISABLE turned off (ALL covers all,
    USER the user triggers, a name that trigger)."""
    enabled, disabled = _ENABLE[enable.subtype], _DISABLE[disable.subtype]
    if enabled == "ALL":
        return True
    if enabled == "USER":
        return disabled != "ALL"
    return disabled is None and enable.name == disable.name

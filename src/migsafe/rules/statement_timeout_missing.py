"""statement-timeout-missing: nothing bounds how long a migration's statement holds its lock."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import PG_DOCS, UPGRADE, Category, Rule

RULE = Rule(
    code="MS059",
    name="statement-timeout-missing",
    severity=Severity.NOTICE,
    category=Category.LOCKING,
    help="Set statement_timeout for every migration in env.py (migsafe init does).",
    references=(PG_DOCS + "runtime-config-client.html#GUC-STATEMENT-TIMEOUT",),
    directions=(UPGRADE,),
    opt_in=True,
    since="0.2.0",
    summary="A migration changes a table that has traffic with no statement_timeout set.",
    why=(
        "A statement that runs longer than expected (a rewrite, a scan, a backfill on a table "
        "bigger than in staging) holds its locks the whole time. statement_timeout ends it "
        "instead; lift it (SET statement_timeout = 0) only where a long statement takes no "
        "blocking lock, such as CREATE INDEX CONCURRENTLY in an autocommit block: "
        "migsafe init's env.py does both."
    ),
    fix="""\
# for every migration, in env.py (what migsafe init writes), or first thing in upgrade():
op.execute("SET statement_timeout = '15min'")""",
    bad=(),
    good=(),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    if rev.environment.statement_timeout is None:
        return  # without env.py nothing can be told
    for stmt in rev.statements(RULE):
        if stmt.node is None or stmt.in_transaction is False:
            continue  # in an autocommit block a long statement is expected
        held = [
            (table, mode)
            for table, mode in rev.tables_locked(stmt)
            if not rev.is_new_table(stmt, table)
        ]
        if held and not rev.setting_before(stmt, "statement_timeout"):
            table, mode = max(held, key=lambda locked: locked[1])
            yield rev.finding(
                RULE,
                stmt,
                f"Nothing bounds how long this statement on {table.sql} runs, holding its "
                f"{mode.label} lock: no statement_timeout is set.",
            )
            return

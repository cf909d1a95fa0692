"""setting-does-not-exist: SET of a parameter PostgreSQL does not have (MySQL's, mostly)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import VariableSetKind

from migsafe.builtins import is_parameter
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.sql import Statement

RULE = Rule(
    code="MS072",
    name="setting-does-not-exist",
    severity=Severity.ERROR,
    category=Category.ROLLBACK,
    help="Leave MySQL's settings out on PostgreSQL (under a dialect check), or set the "
    "PostgreSQL parameter that does the same.",
    references=(PG_DOCS + "runtime-config.html", PG_DOCS + "sql-set.html"),
    directions=(UPGRADE, DOWNGRADE),
    since="0.3.0",
    summary="SET (or RESET, set_config()) of a parameter PostgreSQL does not have, as "
    "MySQL's FOREIGN_KEY_CHECKS: the statement fails.",
    why=(
        "A migration written for MySQL turns its checks off around a change: `SET "
        "FOREIGN_KEY_CHECKS = 0`, `SET sql_mode = ''`. PostgreSQL has no such parameters, "
        'and the statement fails with "unrecognized configuration parameter", and with it '
        "the revision (group-based-policy's, refstack's). A name with a dot "
        "(`app.tenant_id`) is a placeholder PostgreSQL accepts; every other name is checked "
        "against the parameters PostgreSQL has (pg_settings), in any supported major."
    ),
    fix="""\
# PostgreSQL has no parameter {name}{instead}:
if op.get_bind().dialect.name == "mysql":
    {statement}""",
    bad=(
        """\
def upgrade():
    op.execute("SET FOREIGN_KEY_CHECKS = 0")
    op.drop_table("service_profiles")
""",
    ),
    good=(
        """\
def upgrade():
    op.drop_table("service_profiles")
""",
    ),
    fails=True,
)

# what PostgreSQL does instead of MySQL's most used settings
_INSTEAD = {
    "foreign_key_checks": (
        " (its foreign keys are always checked; SET session_replication_role = replica "
        "skips their triggers, for a superuser)"
    ),
    "unique_checks": " (unique indexes are always checked)",
    "sql_mode": "",
    "time_zone": " (it is TimeZone: SET TIME ZONE 'UTC')",
    "lock_wait_timeout": " (it is lock_timeout)",
    "innodb_lock_wait_timeout": " (it is lock_timeout)",
    "max_execution_time": " (it is statement_timeout)",
}

# the forms that set a parameter (not SET TRANSACTION, RESET ALL)
_NAMED = (
    VariableSetKind.VAR_SET_VALUE, VariableSetKind.VAR_SET_DEFAULT,
    VariableSetKind.VAR_SET_CURRENT, VariableSetKind.VAR_RESET,
)  # fmt: skip


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        for name in dict.fromkeys(_parameters_set(stmt)):
            if is_parameter(name):
                continue
            yield rev.finding(
                RULE,
                stmt,
                f'PostgreSQL has no parameter "{name}": the statement fails ("unrecognized '
                'configuration parameter"), and with it the revision.',
                name=name,
                instead=_INSTEAD.get(name.lower(), ""),
                statement=rev.own_statement(stmt),
            )


def _parameters_set(stmt: Statement) -> Iterator[str]:
    """The parameters a statement sets: SET, RESET, and ``set_config('name', ...)`` with a
    constant name."""
    node = stmt.node
    if isinstance(node, ast.VariableSetStmt) and node.kind in _NAMED and node.name:
        yield node.name
        return
    for call in stmt.nodes(ast.FuncCall):
        if (
            call.funcname[-1].sval == "set_config"
            and call.args and isinstance(call.args[0], ast.A_Const)
            and isinstance(call.args[0].val, ast.String)
        ):  # fmt: skip
            yield call.args[0].val.sval

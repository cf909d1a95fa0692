"""change-column-default: the running code's inserts that leave the column out change."""

from __future__ import annotations

from collections.abc import Iterator

import pglast
from pglast.enums import AlterTableType
from sqlalchemy.sql.elements import TextClause

from migsafe.catalog import Column, sql_text
from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import PG_DOCS, Category, Rule, py_literal
from migsafe.rules._same_revision import (
    columns_dropped_later,
    named_in_revision,
    table_dropped_later,
)
from migsafe.sql import Statement, TableName, clipped, parse_sql, quote_identifier

RULE = Rule(
    code="MS042",
    name="change-column-default",
    severity=Severity.NOTICE,
    category=Category.COMPATIBILITY,
    help="Make the running code set the column itself before its server default changes.",
    references=(PG_DOCS + "sql-altertable.html", PG_DOCS + "ddl-default.html"),
    opt_in=True,
    summary="Changing a column's default changes what the running code's inserts store.",
    why=(
        "An INSERT that leaves a column out gets its server default. The application still "
        "running during a deploy was written against the old default: from the moment the "
        "change commits, its inserts store the new value, or NULL when the default is "
        "dropped (and fail on a NOT NULL column). Often that is the intent; this opt-in "
        "notice asks to check."
    ),
    fix="""\
# The running code's inserts that leave {column_sql} out {effect} at once.
# If they must not, deploy code that sets {column_sql} itself first (a Python-side
# default= on the model), then change it:
op.alter_column({table!r}, {column!r}, server_default={default}{schema})""",
    bad=(
        """\
def upgrade():
    op.alter_column("orders", "status", server_default="pending")
""",
        """\
def upgrade():
    op.execute("ALTER TABLE orders ALTER COLUMN status DROP DEFAULT")
""",
    ),
    good=(
        """\
def upgrade():
    op.create_table("payments", sa.Column("id", sa.BigInteger(), primary_key=True),
                    sa.Column("status", sa.Text(), nullable=False, server_default="new"))
    op.alter_column("payments", "status", server_default=None)
""",
    ),
    since="0.2.0",
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    """SET DEFAULT and DROP DEFAULT on columns of existing tables; not on a column added
    earlier in the function or dropped later in it, nor a default that stays what it was."""
    added: set[tuple[TableName, str]] = set()
    for at, stmt in enumerate(rev.upgrade):
        table = stmt.table
        for cmd in alter_commands(stmt.node, AlterTableType.AT_AddColumn):
            added.add((table, cmd.def_.colname))
        for cmd in alter_commands(stmt.node, AlterTableType.AT_ColumnDefault):
            column = cmd.name
            new = sql_text(cmd.def_)
            if (
                (table, column) in added
                or named_in_revision(rev, at, table)
                or _unchanged(rev, stmt, column, new)
                or table_dropped_later(rev, at, table)
                or column in columns_dropped_later(rev, at, table)
            ):
                continue
            before = _known(rev, stmt, column)
            where = f"{table.sql}.{quote_identifier(column)}"
            old = before.default if before else _existing_default(stmt.operation)
            was = f" (was {clipped(old)})" if old else ""
            nullable = (
                before.nullable if before else getattr(stmt.operation, "existing_nullable", None)
            )
            if new is None:
                if nullable is False:
                    effect, why = "fail", " (it is NOT NULL)"
                else:
                    effect = "store NULL"
                    why = "" if nullable else " (or fail, if it is NOT NULL)"
                message = (
                    f"DROP DEFAULT on {where}{was}: the running code's inserts that leave it "
                    f"out {effect} from now on{why}."
                )
            else:
                effect = "get the new default"
                message = (
                    f"SET DEFAULT {clipped(new)} on {where}{was} changes what the running code's "
                    "inserts that leave it out store."
                )
            yield rev.finding(
                RULE,
                stmt,
                message,
                **table_values(table),
                column=column,
                column_sql=quote_identifier(column),
                effect=effect,
                default=_default_code(stmt.operation, new),
            )


def _known(rev: RevisionContext, stmt: Statement, column: str) -> Column | None:
    """The column as the earlier revisions left it."""
    table = rev.schema_before.table(stmt.table.key) if rev.schema_before else None
    return table.columns.get(column) if table is not None else None


def _unchanged(rev: RevisionContext, stmt: Statement, column: str, new: str | None) -> bool:
    """The earlier revisions left the column with this very default (or none to drop), or
    the call's ``existing_server_default=`` says it has it already."""
    known = _known(rev, stmt, column)
    if known is not None:
        return not known.identity and known.default == new
    return new is not None and _existing_default(stmt.operation) == new


def _existing_default(operation: object) -> str | None:
    """The ``existing_server_default=`` of an Alembic call as SQL, as PostgreSQL's parser
    renders it; None when not given (or not SQL)."""
    given = getattr(operation, "existing_server_default", None)
    if isinstance(given, str):
        expression = "'" + given.replace("'", "''") + "'"
    elif isinstance(given, TextClause):
        expression = given.text
    else:
        return None
    try:
        (raw,) = parse_sql(f"SELECT {expression}")
    except pglast.parser.ParseError:
        return None
    return sql_text(raw.stmt.targetList[0].val)


def _default_code(operation: object, new: str | None) -> str:
    """``server_default=`` as the user wrote it, else the SQL as ``sa.text()``."""
    if new is None:
        return "None"
    given = getattr(operation, "modify_server_default", False)
    if isinstance(given, str):
        return py_literal(given)
    if isinstance(given, TextClause):
        return f"sa.text({py_literal(given.text)})"
    return f"sa.text({py_literal(new)})"

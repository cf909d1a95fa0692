"""batch-recreate-table: a batch_alter_table() block that recreates a live table copies all of
its rows into a new one and drops the old."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migsafe.catalog import BATCH_COPY
from migsafe.findings import Finding, Severity
from migsafe.locks import LockMode
from migsafe.revision import RevisionContext
from migsafe.rule import DOWNGRADE, PG_DOCS, UPGRADE, Category, Rule
from migsafe.sql import Statement, TableName

RULE = Rule(
    code="MS074",
    name="batch-recreate-table",
    severity=Severity.WARNING,
    category=Category.LOCKING,
    help='Leave out recreate="always": on PostgreSQL, batch_alter_table() runs its operations '
    "as ALTER TABLE statements, in place.",
    references=(
        "https://alembic.sqlalchemy.org/en/latest/batch.html",
        PG_DOCS + "explicit-locking.html#LOCKING-TABLES",
    ),
    directions=(UPGRADE, DOWNGRADE),
    summary="A batch_alter_table() block that recreates a table copies every row of it into a "
    "new table, then drops the old one.",
    why=(
        'With `recreate="always"`, Alembic\'s batch mode does on PostgreSQL what it does for '
        "SQLite: it creates `_alembic_tmp_<table>`, copies every row into it with INSERT ... "
        "SELECT, drops the table and renames the copy into its place. The copy takes as long "
        "as reading and writing the whole table. If an earlier statement of the transaction "
        "locked the table ACCESS EXCLUSIVE (batch mode drops the table's constraints first), "
        "every read and write of it waits for the copy; if none did, the application goes on "
        "writing to the old table while it is copied, and what it writes then is lost with "
        "it. Views on the table and foreign keys other tables hold on it stop the DROP, and "
        "its grants, triggers and statistics do not come over. On PostgreSQL every operation "
        "batch mode offers runs as an ALTER TABLE of the table in place: leave the option out "
        '(the default, `recreate="auto"`, recreates only on SQLite). A table the revision '
        "creates has no traffic yet, and is not flagged."
    ),
    fix="""\
{block}""",
    bad=(
        """\
def upgrade():
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.Text()))
""",
    ),
    good=(
        """\
def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.Text()))
""",
        """\
def upgrade():
    op.create_table("imports", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("imports", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("source", sa.Text()))
""",
    ),
    since="0.3.0",
    history="""\
def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.Text()))
""",
)

_RECREATE = re.compile(r",?\s*recreate\s*=\s*(['\"])always\1")


def check(rev: RevisionContext) -> Iterator[Finding]:
    for stmt in rev.statements(RULE):
        table = _copied(rev, stmt)
        if table is None or rev.is_new_table(stmt, table):
            continue
        schema = rev.schema_at(stmt)
        if schema is None or schema.table(table.key) is None:
            continue  # not a table the history shows: not one batch mode could copy
        lock = _locked_before(rev, stmt, table)
        where = (  # batch mode drops the table's named constraints before it copies it
            "by the block, as it drops its constraints first,"
            if lock is not None and lock.line == stmt.line
            else f"at line {lock.line}"
            if lock is not None
            else ""
        )
        how = (
            f"while the ACCESS EXCLUSIVE lock taken on it {where} is held: all reads and "
            "writes of it wait for the copy"
            if lock is not None
            else "while the application goes on writing to it: what it writes during the copy "
            "is lost when the table is dropped"
        )
        yield rev.finding(
            RULE,
            stmt,
            f"The batch_alter_table() block recreates {table.sql}: every row of it is copied "
            f"into {stmt.table.sql if stmt.table else 'a new table'}, which then replaces "
            f"it, {how}.",
            block=_without_recreate(rev, stmt),
        )


def _copied(rev: RevisionContext, stmt: Statement) -> TableName | None:
    """The table a ``CREATE TABLE _alembic_tmp_<name>`` is batch mode's copy of: the one it
    is renamed to after (Alembic cuts the copy's name to 50 characters)."""
    node = stmt.node
    copy = stmt.table
    if not isinstance(node, ast.CreateStmt) or copy is None or not copy.name.startswith(BATCH_COPY):
        return None
    statements = rev.downgrade if stmt.direction == DOWNGRADE else rev.upgrade
    at = next(i for i, later in enumerate(statements) if later is stmt)
    for later in statements[at + 1 :]:
        renamed = later.node
        if (
            isinstance(renamed, ast.RenameStmt) and later.table == copy
            and renamed.renameType == ObjectType.OBJECT_TABLE
        ):  # fmt: skip
            return TableName(copy.schema, renamed.newname)
    return None


def _locked_before(rev: RevisionContext, copy: Statement, table: TableName) -> Statement | None:
    """The statement of the copy's transaction that took ACCESS EXCLUSIVE on ``table``
    before it (batch mode drops the table's constraints first), if one did."""
    statements = rev.downgrade if copy.direction == DOWNGRADE else rev.upgrade
    found = None
    for stmt in statements:
        if stmt is copy:
            return found
        if isinstance(stmt.node, ast.TransactionStmt) or not stmt.in_transaction:
            found = None  # a commit releases it
        elif found is None and stmt.table == table and stmt.lock == LockMode.ACCESS_EXCLUSIVE:
            found = stmt
    return found


def _without_recreate(rev: RevisionContext, stmt: Statement) -> str:
    """The user's ``with op.batch_alter_table(...)`` line without ``recreate="always"``."""
    source = rev.script.source.splitlines()
    line = source[stmt.line - 1] if 0 < stmt.line <= len(source) else ""
    if _RECREATE.search(line):
        return _RECREATE.sub("", line.strip(), count=1) + "\n    ...  # the same operations"
    return (
        f'# leave out recreate="always" of the batch_alter_table() block at line {stmt.line}: '
        "on PostgreSQL its operations run in place"
    )

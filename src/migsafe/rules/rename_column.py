"""rename-column: a renamed column breaks the application code that is still running."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.findings import Finding, Severity
from migsafe.revision import RevisionContext, alter_commands, table_values
from migsafe.rule import DOWNGRADE, PG_DOCS, Category, Rule
from migsafe.sql import Statement, TableName, quote_identifier

RULE = Rule(
    code="MS001",
    name="rename-column",
    severity=Severity.ERROR,
    category=Category.COMPATIBILITY,
    help="Add the new column, write both, backfill, switch reads, then drop the old one later.",
    references=(PG_DOCS + "sql-altertable.html",),
    summary="Renaming a column breaks running code that still uses the old name.",
    why=(
        "During a rolling deploy the old version of the application keeps running until the "
        "new one has replaced it, and it still reads and writes the old column name: every "
        "such query fails from the moment the migration commits. The rename itself also takes "
        "an ACCESS EXCLUSIVE lock on the table."
    ),
    fix="""\
# Expand and contract instead of renaming in place:
# 1. this revision: add the new column; the application writes both columns
op.add_column({table!r}, sa.Column({new!r}, ...){schema})  # same type as {old!r}
# 2. backfill in batches:  UPDATE {table_sql} SET {new_sql} = {old_sql} WHERE {new_sql} IS NULL ...
# 3. deploy code that reads {new!r}, then drop {old!r} in a later revision:
op.drop_column({table!r}, {old!r}{schema})""",
    bad=(
        """\
def upgrade():
    op.alter_column("users", "email", new_column_name="email_address")
""",
        """\
def upgrade():
    op.execute("ALTER TABLE users RENAME COLUMN email TO email_address")
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("users", sa.Column("email_address", sa.Text(), nullable=True))
""",
        """\
def upgrade():
    op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("mail", sa.Text()))
    op.alter_column("accounts", "mail", new_column_name="email")
""",
    ),
)


def _added_back(
    rev: RevisionContext, stmt: Statement, name: str, additions: dict[str, _Additions]
) -> bool:
    """The same transaction adds a column under the old name again (fides renames
    ``service_type`` aside, adds a new ``service_type`` and fills it): the running code
    finds its column when the swap commits. Found by position, so that thousands of renames
    stay linear."""
    if stmt.direction not in additions:
        statements = rev.downgrade if stmt.direction == DOWNGRADE else rev.upgrade
        additions[stmt.direction] = _additions(statements)
    added, ends = additions[stmt.direction]
    at = rev.index_of(stmt)
    following = bisect.bisect_right(ends, at)
    end = ends[following] if following < len(ends) else None
    positions = added.get((stmt.table, name), [])
    first_after = bisect.bisect_right(positions, at)
    if first_after == len(positions) or (end is not None and positions[first_after] >= end):
        return False
    return _filled(rev, stmt, positions[first_after], end)


def _filled(rev: RevisionContext, stmt: Statement, added: int, end: int | None) -> bool:
    """Rows are written into the table after the column came back, in the same transaction
    (fides copies the values over), or may be: the function reads rows whose per-row work
    was not seen. knowledge-repo adds ``username`` back empty: every user's name reads NULL."""
    statements = rev.downgrade if stmt.direction == DOWNGRADE else rev.upgrade
    for later in statements[added + 1 : end]:
        node = later.node
        if isinstance(node, ast.DoStmt | ast.CallStmt):
            return True  # what it writes is not known
        if later.table == stmt.table and isinstance(node, _WRITES):
            return True
    capture = rev.downgrade_capture if stmt.direction == DOWNGRADE else rev.upgrade_capture
    return bool(capture.reads) and not capture.rows_followed


_WRITES = (ast.UpdateStmt, ast.InsertStmt, ast.CopyStmt)


# where each (table, column) is added, and where the function's transactions end
_Additions = tuple[dict[tuple[TableName | None, str], list[int]], list[int]]


def _additions(statements: list[Statement]) -> _Additions:
    added: dict[tuple[TableName | None, str], list[int]] = {}
    ends = []
    for at, later in enumerate(statements):
        if not later.in_transaction or isinstance(later.node, ast.TransactionStmt):
            ends.append(at)
        for cmd in alter_commands(later.node, AlterTableType.AT_AddColumn):
            added.setdefault((later.table, cmd.def_.colname), []).append(at)
    return added, ends


def check(rev: RevisionContext) -> Iterator[Finding]:
    """Renames of columns the running code knows: not of one added earlier in the function,
    nor one whose name the same transaction adds again."""
    added: set[tuple[str, TableName, str]] = set()
    additions: dict[str, _Additions] = {}
    for stmt in rev.existing_table_statements(RULE):
        node = stmt.node
        for cmd in alter_commands(node, AlterTableType.AT_AddColumn):
            added.add((stmt.direction, stmt.table, cmd.def_.colname))
        if (
            isinstance(node, ast.RenameStmt)
            and node.renameType == ObjectType.OBJECT_COLUMN
            and (stmt.direction, stmt.table, node.subname) not in added
            and not _added_back(rev, stmt, node.subname, additions)
        ):
            yield rev.finding(
                RULE,
                stmt,
                f'Renaming column "{node.subname}" of {stmt.table.sql} to "{node.newname}" '
                f'breaks the running application, which still uses "{node.subname}" '
                f"(and takes an {stmt.lock.label} lock).",
                **table_values(stmt.table),
                old=node.subname,
                new=node.newname,
                old_sql=quote_identifier(node.subname),
                new_sql=quote_identifier(node.newname),
            )

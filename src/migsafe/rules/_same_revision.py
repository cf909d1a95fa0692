"""What the same revision does around a statement, for the rules that must not report what it
undoes or replaces: a table it created or renamed to that name before, drops later, or
whose columns it drops later. Not a rule (its name starts with an underscore)."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, DropBehavior, NullTestType, ObjectType

from migsafe.catalog import Catalog
from migsafe.revision import (
    NOT_NULL,
    RevisionContext,
    alter_commands,
    constraint_types,
    fills_existing_rows,
    is_version_table,
)
from migsafe.rule import DOWNGRADE, UPGRADE, Rule
from migsafe.sql import Statement, TableName


def restricted_drops(
    rev: RevisionContext, rule: Rule, kind: ObjectType
) -> Iterator[tuple[Statement, ast.DropStmt, Catalog]]:
    """The DROPs of ``kind`` (a table, a type) without CASCADE that ``rule`` judges, with the
    schema each meets: where PostgreSQL refuses to drop what others still depend on."""
    for stmt in rev.statements(rule):
        node = stmt.node
        if not isinstance(node, ast.DropStmt) or node.removeType != kind:
            continue
        schema = rev.schema_at(stmt)
        if node.behavior != DropBehavior.DROP_CASCADE and schema is not None:
            yield stmt, node, schema


def dropped_tables(node: ast.DropStmt) -> list[TableName]:
    """The tables (or other relations) a DROP statement names."""
    names = []
    for item in node.objects or ():
        parts = [s.sval for s in item if isinstance(s, ast.String)]
        if parts:
            names.append(TableName(parts[-2] if len(parts) > 1 else None, parts[-1]))
    return names


def named_in_revision(rev: RevisionContext, at: int, table: TableName | None) -> bool:
    """No running code knows ``table`` by this name when upgrade()'s statement ``at`` runs:
    it was created earlier in the revision (or the change), or renamed to this name earlier
    in it (rename-table reports that rename), or it is a version table."""
    if table is None:
        return False
    if rev.is_new_table(rev.upgrade[at], table) or is_version_table(table):
        return True
    return any(
        isinstance(s.node, ast.RenameStmt) and _names_table(s.node, table) for s in rev.upgrade[:at]
    )


def dropped_before(rev: RevisionContext, stmt: Statement, table: TableName) -> bool:
    """The function of ``stmt`` drops ``table`` before it (a copy renamed into the dropped
    table's place is a swap: the running code's queries of the name reach the copy)."""
    return any(
        isinstance(s.node, ast.DropStmt)
        and s.node.removeType == ObjectType.OBJECT_TABLE
        and any(dropped.key == table.key for dropped in dropped_tables(s.node))
        for s in rev.earlier(stmt)
    )


def table_dropped_later(rev: RevisionContext, at: int, table: TableName) -> bool:
    """upgrade() drops ``table`` after its statement ``at``."""
    return dropped_after(rev, rev.upgrade[at], table)


def dropped_after(rev: RevisionContext, stmt: Statement, table: TableName) -> bool:
    """The function of ``stmt`` (upgrade() or downgrade()) drops ``table`` after it."""
    statements = rev.downgrade if stmt.direction == DOWNGRADE else rev.upgrade
    at = next((i for i, s in enumerate(statements) if s is stmt), len(statements))
    return any(
        isinstance(s.node, ast.DropStmt)
        and s.node.removeType == ObjectType.OBJECT_TABLE
        and any(dropped.key == table.key for dropped in dropped_tables(s.node))
        for s in statements[at + 1 :]
    )


def columns_dropped_later(
    rev: RevisionContext, at: int, table: TableName, direction: str = UPGRADE
) -> set[str]:
    """The columns of ``table`` the function (upgrade() unless told) drops after its
    statement ``at``."""
    statements = rev.downgrade if direction == DOWNGRADE else rev.upgrade
    return {
        cmd.name
        for s in statements[at + 1 :]
        if s.table == table
        for cmd in alter_commands(s.node, AlterTableType.AT_DropColumn)
    }


def named_again(rev: RevisionContext, at: int, table: TableName) -> bool:
    """A table of that name replaces the dropped one later in the revision: a batch
    operation's copy renamed into place, or the table created anew."""
    return any(_names_table(s.node, table) for s in rev.upgrade[at + 1 :])


def _names_table(node: ast.Node | None, table: TableName) -> bool:
    """``node`` gives ``table`` its name: creates it, or renames a table to it."""
    if isinstance(node, ast.CreateStmt):
        return TableName.of(node.relation) == table
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE:
        return TableName(node.relation.schemaname or None, node.newname) == table
    return False


# what may write values into a column: a backfill (rows), a rewrite with USING, unknown SQL
_WRITES_ROWS = (ast.UpdateStmt, ast.InsertStmt, ast.CopyStmt, ast.DoStmt, ast.CallStmt)


def added_without_values(rev: RevisionContext, stmt: Statement, column: str) -> Statement | None:
    """The ADD COLUMN, earlier in ``stmt``'s function, that added ``column`` to its table
    with no default, when nothing since can have written into it (no UPDATE, INSERT, COPY,
    DO block or retype): every row the table had holds NULL there, so making the column NOT
    NULL now (SET NOT NULL, a validated CHECK (column IS NOT NULL): rucio's purge_replicas)
    fails as soon as the table has a row. Not when the function read rows (neutron fills
    the column in a loop over them, which an empty database never enters) or used a
    stand-in (zenml's UPDATE through sqlmodel's Session, not installed): a backfill may be
    there, unseen."""
    capture = rev.downgrade_capture if stmt.direction == DOWNGRADE else rev.upgrade_capture
    if capture.reads or capture.guesses:
        return None
    added = None
    for earlier in rev.earlier(stmt):
        node = earlier.node
        if node is None or isinstance(node, _WRITES_ROWS):
            added = None  # a statement not understood, or one that may be the backfill
            continue
        if earlier.table != stmt.table:
            continue
        for cmd in alter_commands(node, AlterTableType.AT_AddColumn):
            if cmd.def_.colname == column:
                filled = fills_existing_rows(cmd.def_) or constraint_types(cmd.def_) & NOT_NULL
                added = None if filled else earlier
        if any(c.name == column for c in alter_commands(node, AlterTableType.AT_AlterColumnType)):
            added = None
    return added


def not_null_check_column(node: ast.Node | None) -> str | None:
    """The column of a CHECK that says only ``column IS NOT NULL``."""
    expr = getattr(node, "raw_expr", None)
    if (
        isinstance(expr, ast.NullTest) and expr.nulltesttype == NullTestType.IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef) and isinstance(expr.arg.fields[-1], ast.String)
    ):  # fmt: skip
        return expr.arg.fields[-1].sval
    return None

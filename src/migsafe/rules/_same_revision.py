"""What the same revision does around a statement, for the rules that must not report what it
undoes or replaces: a table it created or renamed to that name before, drops later, or
whose columns it drops later. Not a rule (its name starts with an underscore)."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.revision import RevisionContext, alter_commands, is_version_table
from migsafe.rule import DOWNGRADE, UPGRADE
from migsafe.sql import Statement, TableName


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

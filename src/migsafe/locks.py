"""Which table lock each statement takes, from PostgreSQL's "Explicit Locking" chapter.

This is the one table shared by the rules, the runbook and the lock tracer, so that a
message about a lock always names the same mode for the same statement.
"""

from __future__ import annotations

import enum

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migsafe.sqltree import constraints_added


class LockMode(enum.IntEnum):
    """Table-level lock modes, weakest first; the value orders them by strength."""

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def label(self) -> str:
        """As PostgreSQL's documentation writes it: ``ACCESS EXCLUSIVE``."""
        return self.name.replace("_", " ")

    @property
    def blocks(self) -> str:
        """What ordinary application traffic this lock keeps waiting, in words."""
        if self >= LockMode.ACCESS_EXCLUSIVE:
            return "all reads and writes"
        if self >= LockMode.SHARE:
            return "all writes (INSERT, UPDATE, DELETE)"
        if self >= LockMode.SHARE_UPDATE_EXCLUSIVE:
            return "other schema changes and VACUUM, but not reads or writes"
        return "nothing an application normally does"


# ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE; every other form takes it.
_ALTER_TABLE_LOCKS: dict[AlterTableType, LockMode] = {
    AlterTableType.AT_ValidateConstraint: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_SetStatistics: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_ClusterOn: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_DropCluster: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_SetRelOptions: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_ResetRelOptions: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_AttachPartition: LockMode.SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_EnableTrig: LockMode.SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableAlwaysTrig: LockMode.SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableReplicaTrig: LockMode.SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableTrigAll: LockMode.SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableTrigUser: LockMode.SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_DisableTrig: LockMode.SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_DisableTrigAll: LockMode.SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_DisableTrigUser: LockMode.SHARE_ROW_EXCLUSIVE,
}


def alter_table_command_lock(command: ast.AlterTableCmd) -> LockMode:
    """The lock one ALTER TABLE subcommand takes on its table."""
    if command.subtype == AlterTableType.AT_AddConstraint and _is_foreign_key(command.def_):
        return LockMode.SHARE_ROW_EXCLUSIVE
    if command.subtype == AlterTableType.AT_DetachPartition and getattr(
        command.def_, "concurrent", False
    ):
        return LockMode.SHARE_UPDATE_EXCLUSIVE
    return _ALTER_TABLE_LOCKS.get(command.subtype, LockMode.ACCESS_EXCLUSIVE)


def _is_foreign_key(node: object) -> bool:
    from pglast.enums import ConstrType

    return isinstance(node, ast.Constraint) and node.contype == ConstrType.CONSTR_FOREIGN


def foreign_key_targets(node: ast.Node | None) -> list[ast.RangeVar]:
    """The tables that foreign keys added by a CREATE TABLE or an ALTER TABLE refer to: each
    is locked SHARE ROW EXCLUSIVE, which blocks its writes, though the statement names
    another table."""
    return [
        constraint.pktable
        for constraint, _ in constraints_added(node)
        if _is_foreign_key(constraint) and constraint.pktable is not None
    ]


def lock_for(node: ast.Node, pg_version: int | None = None) -> LockMode | None:
    """The strongest table lock ``node`` takes on the table it targets (None: no table lock),
    on PostgreSQL ``pg_version`` (None: the newest)."""
    if isinstance(node, ast.AlterTableStmt):
        return max(alter_table_command_lock(cmd) for cmd in node.cmds or ())
    if isinstance(node, ast.IndexStmt):
        return LockMode.SHARE_UPDATE_EXCLUSIVE if node.concurrent else LockMode.SHARE
    if isinstance(node, ast.DropStmt):
        if node.removeType == ObjectType.OBJECT_INDEX and node.concurrent:
            return LockMode.SHARE_UPDATE_EXCLUSIVE
        return LockMode.ACCESS_EXCLUSIVE
    if isinstance(node, ast.ReindexStmt):
        concurrent = any(p.defname == "concurrently" for p in node.params or ())
        return LockMode.SHARE_UPDATE_EXCLUSIVE if concurrent else LockMode.SHARE
    if isinstance(node, ast.RenameStmt):
        if node.renameType == ObjectType.OBJECT_INDEX and (pg_version or 12) >= 12:
            # ALTER INDEX ... RENAME locks the index alone, and blocks no query (PostgreSQL
            # 12; checked with pg_locks); ALTER TABLE ... RENAME of an index, and before 12
            # either, ACCESS EXCLUSIVE on it, which every query planning on its table waits for
            return LockMode.SHARE_UPDATE_EXCLUSIVE
        return LockMode.ACCESS_EXCLUSIVE
    if isinstance(node, (ast.TruncateStmt, ast.ClusterStmt)):
        return LockMode.ACCESS_EXCLUSIVE
    if isinstance(node, ast.VacuumStmt):
        full = any(p.defname == "full" for p in node.options or ())
        return LockMode.ACCESS_EXCLUSIVE if full else LockMode.SHARE_UPDATE_EXCLUSIVE
    if isinstance(node, (ast.CreateTrigStmt,)):
        return LockMode.SHARE_ROW_EXCLUSIVE
    if isinstance(node, (ast.CommentStmt, ast.CreateStatsStmt)):
        return LockMode.SHARE_UPDATE_EXCLUSIVE
    if isinstance(node, ast.RefreshMatViewStmt):
        return LockMode.EXCLUSIVE if node.concurrent else LockMode.ACCESS_EXCLUSIVE
    if isinstance(node, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)):
        return LockMode.ROW_EXCLUSIVE
    if isinstance(node, ast.LockStmt):
        return LockMode(node.mode)
    return None

"""What an ALTER TABLE does over the rows of its table: a rewrite, a scan, a validation, an
index build, a copy; or nothing but the catalog (timestamp to timestamptz in a UTC session
among them). Shared by the rules about statements that run
together (several-alters-same-table, work-after-access-exclusive-lock) and by
change-column-type. Not a rule (its name starts with an underscore)."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.visitors import Visitor

from migsafe.builtins import is_non_volatile
from migsafe.revision import (
    RevisionContext,
    alter_commands,
    is_serial,
    is_unknown_type,
    type_name,
    type_parts,
)
from migsafe.rule import DOWNGRADE
from migsafe.sql import Statement

# One ALTER TABLE makes a single pass for all its rewrites and its CHECK / NOT NULL checks
# (COMBINED); the other passes run on their own however the statements are written.
REWRITE, SCAN = "a table rewrite", "a full-table scan"
VALIDATION, INDEX_BUILD, COPY = "a validation scan", "an index build", "a copy of the table"
COMBINED = (REWRITE, SCAN)
_REWRITES = {
    AlterTableType.AT_SetLogged,
    AlterTableType.AT_SetUnLogged,
    AlterTableType.AT_SetAccessMethod,
}
_CHECKED = {ConstrType.CONSTR_CHECK, ConstrType.CONSTR_NOTNULL}
_INDEXED = {ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION}


def statement_passes(rev: RevisionContext, stmt: Statement) -> list[str]:
    """The passes over its table's rows an ALTER TABLE statement makes, one per subcommand
    that rewrites, scans or indexes the table (empty for catalog-only changes)."""
    if not isinstance(stmt.node, ast.AlterTableStmt):
        return []
    return [p for cmd in stmt.node.cmds or () if (p := command_pass(rev, stmt, cmd)) is not None]


def command_pass(rev: RevisionContext, stmt: Statement, cmd: ast.AlterTableCmd) -> str | None:
    """What one subcommand does over the rows: a rewrite, a scan, an index build, or None."""
    kind = cmd.subtype
    if kind in _REWRITES:
        return REWRITE
    if kind == AlterTableType.AT_SetTableSpace:
        return COPY
    if kind == AlterTableType.AT_AlterColumnType:
        old, new = rev.column_before(stmt, cmd.name, "type"), cmd.def_.typeName
        old = old if old is not None else restored_type(rev, stmt, cmd.name)
        if is_unknown_type(old) or is_unknown_type(new):
            return None  # a stood-in type: no telling (change-column-type says it cannot judge)
        keeps = old is not None and keeps_contents(cmd.def_.raw_default, cmd.name, new)
        if keeps and no_rewrite(old, new):
            return None
        if cmd.def_.raw_default is None and zone_only_change(old, new, rev.pg_version):
            return None if utc_session(rev, stmt) else REWRITE  # airflow sets UTC first
        return REWRITE
    if kind == AlterTableType.AT_SetNotNull:
        nullable = getattr(stmt.operation, "existing_nullable", None)
        if nullable is False or rev.column_before(stmt, cmd.name, "nullable") is False:
            return None  # already NOT NULL: nothing to check
        return None if rev.pg_version >= 12 and rev.not_null_proven(stmt, cmd.name) else SCAN
    if kind == AlterTableType.AT_ValidateConstraint:
        return VALIDATION
    if kind == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        return _constraint_pass(cmd.def_)
    if kind == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        return _added_column_pass(cmd.def_, rev.pg_version)
    return None


def restored_type(rev: RevisionContext, stmt: Statement, column: str) -> ast.TypeName | None:
    """For an upgrade's type change the history cannot tell the old type of: the one type
    the downgrade gives the same column back, which is what it was (through alter_column()
    or in SQL: indico's ``ALTER COLUMN base_price TYPE numeric(8,2)``)."""
    if stmt.direction == DOWNGRADE or stmt.table is None:
        return None
    restored = {
        type_name(cmd.def_.typeName): cmd.def_.typeName
        for down in rev.downgrade
        if down.table == stmt.table
        for cmd in alter_commands(down.node, AlterTableType.AT_AlterColumnType)
        if cmd.name == column and cmd.def_.typeName is not None
    }
    return next(iter(restored.values())) if len(restored) == 1 else None


def _constraint_pass(constraint: ast.Constraint) -> str | None:
    if constraint.contype in _CHECKED:
        return None if constraint.skip_validation else SCAN
    if constraint.contype == ConstrType.CONSTR_FOREIGN:
        return None if constraint.skip_validation else VALIDATION
    if constraint.contype in _INDEXED:
        return None if constraint.indexname else INDEX_BUILD  # USING INDEX: built already
    return None


def _added_column_pass(column: ast.ColumnDef, pg_version: int) -> str | None:
    """A new column that fills every row (a rewrite), or checks or indexes them."""
    if is_serial(column):
        return REWRITE
    passes = []
    for constraint in column.constraints or ():
        kind = constraint.contype
        fills = kind in (ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED) or (
            kind == ConstrType.CONSTR_DEFAULT and _default_rewrites(constraint, pg_version)
        )
        if fills:
            passes.append(REWRITE)
        elif kind in _INDEXED:
            passes.append(INDEX_BUILD)
        elif kind == ConstrType.CONSTR_CHECK:
            passes.append(SCAN)
        elif kind == ConstrType.CONSTR_FOREIGN:
            passes.append(VALIDATION)
    return min(passes, key=(REWRITE, INDEX_BUILD, VALIDATION, SCAN).index) if passes else None


def _default_rewrites(constraint: ast.Constraint, pg_version: int) -> bool:
    expr = constraint.raw_expr
    if isinstance(expr, ast.A_Const) and expr.isnull:
        return False
    if pg_version < 11:
        return True  # any default was written into every row before PostgreSQL 11
    calls = _Calls()
    calls(expr)
    return any(not is_non_volatile(name) for name in calls.names)


class _Calls(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_FuncCall(self, ancestors: object, node: ast.FuncCall) -> None:
        self.names.append(".".join(part.sval for part in node.funcname))


# type changes PostgreSQL makes in the catalog only (binary-coercible, wider or equal)
# text types whose values cast to each other without a function (citext declares its casts
# from and to text and varchar WITHOUT FUNCTION): the bytes stay, only the indexes are built
# again (fides turns its usernames into citext)
_VARCHAR_LIKE = {"varchar", "text", "citext"}
_PRECISION_TYPES = {"timestamp", "timestamptz", "time", "timetz", "interval"}


def keeps_contents(using: ast.Node | None, column: str, new: ast.TypeName) -> bool:
    """True without USING, or when USING is the column itself or the column cast to the new
    type (``postgresql_using="name::text"``): PostgreSQL then skips the rewrite as it does
    without USING. Any other expression may change the values, so the table is rewritten."""
    if isinstance(using, ast.TypeCast) and _same_type(using.typeName, new):
        using = using.arg
    if using is None:
        return True
    return (
        isinstance(using, ast.ColumnRef)
        and len(using.fields) == 1
        and getattr(using.fields[0], "sval", None) == column
    )


def _same_type(a: ast.TypeName, b: ast.TypeName) -> bool:
    return type_parts(a) == type_parts(b) and bool(a.arrayBounds) == bool(b.arrayBounds)


def no_rewrite(old: ast.TypeName, new: ast.TypeName) -> bool:
    """True for the binary-coercible changes PostgreSQL applies without touching rows."""
    if bool(old.arrayBounds) != bool(new.arrayBounds):
        return False
    (old_name, old_mods), (new_name, new_mods) = type_parts(old), type_parts(new)
    if (old_name, old_mods) == (new_name, new_mods):
        return True
    if old_name in _VARCHAR_LIKE and new_name in _VARCHAR_LIKE:
        if new_name == "text" or not new_mods:
            return True
        return old_name == "varchar" and bool(old_mods) and new_mods[0] >= old_mods[0]
    if old_name == new_name == "numeric":
        if not new_mods:
            return True
        return (
            len(old_mods) == len(new_mods) == 2
            and old_mods[1] == new_mods[1]
            and new_mods[0] >= old_mods[0]
        )
    if old_name == new_name and old_name in ("varbit", *_PRECISION_TYPES):
        return not new_mods or (bool(old_mods) and new_mods[0] >= old_mods[0])
    return (old_name, new_name) == ("cidr", "inet")


def zone_only_change(old: ast.TypeName | None, new: ast.TypeName, pg_version: int) -> bool:
    """A change between timestamp and timestamptz, either way, where the server can tell it
    needs no rewrite (``ATColumnChangeRequiresRewrite``, PostgreSQL 12 and later)."""
    if old is None or pg_version < 12:
        return False
    pair = {type_parts(old)[0], type_parts(new)[0]}
    return pair == {"timestamp", "timestamptz"}


_UTC = {"utc", "etc/utc", "z", "zulu", "gmt", "etc/gmt", "utc0", "00:00", "+00:00", "0"}


def utc_session(rev: RevisionContext, stmt: Statement) -> bool:
    """The same transaction set the session's TimeZone to UTC before ``stmt``."""
    zone = None
    for earlier in rev.earlier_in_transaction(stmt):
        node = earlier.node
        if isinstance(node, ast.VariableSetStmt) and (node.name or "").lower() == "timezone":
            args = node.args or ()
            value = args[0] if len(args) == 1 else None
            constant = getattr(value, "val", None)
            zone = str(getattr(constant, "sval", getattr(constant, "ival", ""))).lower()
    return zone in _UTC

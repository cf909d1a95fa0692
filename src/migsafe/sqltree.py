"""What a statement's syntax tree says, read the same way by every rule: the constraints a
statement adds, the objects a DROP names, the equalities a WHERE clause ANDs, every node
below a node.

Pure functions of pglast nodes, below ``locks`` and ``revision`` (which import them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind, AlterTableType, BoolExprType, ObjectType


def walk(node: object) -> Iterator[ast.Node]:
    """``node`` and every node below it, depth first.

    Rules walk every statement of a history: this visits only the attributes that can hold
    a node (``_child_slots``) and keeps a stack instead of nesting generators, five times
    as fast as recursing into every attribute."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Node):
            yield current
            for name in _child_slots(type(current)):
                below = getattr(current, name)
                if below is not None:
                    stack.append(below)
        elif isinstance(current, list | tuple):
            stack.extend(reversed(current))


_CHILD_SLOTS: dict[type[ast.Node], tuple[str, ...]] = {}


def _child_slots(kind: type[ast.Node]) -> tuple[str, ...]:
    """The attributes of a node type that may hold nodes or lists of them (pglast says each
    attribute's types), last first, for the stack."""
    names = _CHILD_SLOTS.get(kind)
    if names is None:
        slots = kind.__slots__
        if isinstance(slots, dict):
            names = tuple(n for n, info in slots.items() if _may_hold_nodes(info.py_type))
        else:
            names = tuple(slots)
        names = _CHILD_SLOTS[kind] = names[::-1]
    return names


def _may_hold_nodes(py_type: type | tuple[type, ...]) -> bool:
    kinds = py_type if isinstance(py_type, tuple) else (py_type,)
    return any(
        k in (list, tuple) or (isinstance(k, type) and issubclass(k, ast.Node)) for k in kinds
    )


def alter_commands(node: ast.Node | None, *subtypes: AlterTableType) -> Iterator[ast.AlterTableCmd]:
    """The ALTER TABLE subcommands of ``node`` of the given kinds."""
    if isinstance(node, ast.AlterTableStmt):
        for command in node.cmds or ():
            if command.subtype in subtypes:
                yield command


def constraints_added(node: ast.Node | None) -> Iterator[tuple[ast.Constraint, str | None]]:
    """Each constraint a CREATE TABLE or an ALTER TABLE (ADD CONSTRAINT, ADD COLUMN) adds,
    with the column it is declared on when it is written inline (``REFERENCES``, ``UNIQUE``
    after a column), else None. NOT NULL and DEFAULT are constraints to pglast too."""
    found: list[tuple[object, str | None]] = []
    if isinstance(node, ast.CreateStmt):
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                found += [(c, element.colname) for c in element.constraints or ()]
            else:
                found.append((element, None))
    for command in alter_commands(node, AlterTableType.AT_AddConstraint):
        found.append((command.def_, None))
    for command in alter_commands(node, AlterTableType.AT_AddColumn):
        found += [(c, command.def_.colname) for c in command.def_.constraints or ()]
    for constraint, column in found:
        if isinstance(constraint, ast.Constraint):
            yield constraint, column


def dropped_names(node: ast.Node | None, kind: ObjectType) -> list[tuple[str | None, str]]:
    """(schema or None, name) of each object of ``kind`` a DROP statement drops; DROP TABLE
    and DROP INDEX (without CONCURRENTLY) lock a table ACCESS EXCLUSIVE though the statement
    names no relation."""
    if not isinstance(node, ast.DropStmt) or node.removeType != kind:
        return []
    names = [tuple(part.sval for part in name) for name in node.objects or ()]
    return [(name[-2] if len(name) > 1 else None, name[-1]) for name in names]


def set_config_call(node: ast.Node | None) -> tuple[str, str, bool] | None:
    """``SELECT set_config('name', 'value', is_local)``: the setting, its value, and whether
    it is local to the transaction; None for any other statement."""
    if not isinstance(node, ast.SelectStmt) or len(node.targetList or ()) != 1:
        return None
    call = node.targetList[0].val
    if not isinstance(call, ast.FuncCall) or call.funcname[-1].sval.lower() != "set_config":
        return None
    args = [literal(arg) for arg in call.args or ()]
    if len(args) != 3 or not isinstance(args[0], str) or not isinstance(args[1], str):
        return None
    return args[0], args[1], bool(args[2])


def literal(node: ast.Node | None) -> Any:
    """A constant's value (a string, an integer, a float's text, a boolean); None for NULL
    and for anything else."""
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    return next((getattr(node.val, a) for a in ("sval", "ival", "fval", "boolval")
                 if hasattr(node.val, a)), None)  # fmt: skip


def anded(where: ast.Node | None) -> tuple[ast.Node, ...]:
    """The conditions a WHERE clause ANDs (itself, if it is one condition; none for no
    clause)."""
    if where is None:
        return ()
    if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR:
        return tuple(where.args)
    return (where,)


def equality(condition: ast.Node) -> tuple[str, tuple[ast.Node, ...]] | None:
    """``column = value`` (either way round) or ``column IN (values)``: the column's name and
    the value expressions; None for any other condition."""
    if not (
        isinstance(condition, ast.A_Expr) and [n.sval for n in condition.name] == ["="]
        and condition.kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_IN)
    ):  # fmt: skip
        return None
    column, value = condition.lexpr, condition.rexpr
    if not isinstance(column, ast.ColumnRef):
        column, value = value, column
    if not (isinstance(column, ast.ColumnRef) and isinstance(column.fields[-1], ast.String)):
        return None
    return column.fields[-1].sval, tuple(value) if isinstance(value, tuple) else (value,)


def is_count(value: ast.Node | None) -> bool:
    """``count(*)`` or ``count(column)``, not of DISTINCT values: as many as the rows."""
    return (
        isinstance(value, ast.FuncCall)
        and value.funcname[-1].sval.lower() == "count"
        and not value.agg_distinct
    )

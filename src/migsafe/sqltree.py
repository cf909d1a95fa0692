"""What a statement's syntax tree says, read the same way by every rule: the constraints a
statement adds, the objects a DROP names, every node below a node.

Pure functions of pglast nodes, below ``locks`` and ``revision`` (which import them).
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType


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
    args = [_constant(arg) for arg in call.args or ()]
    if len(args) != 3 or not isinstance(args[0], str) or not isinstance(args[1], str):
        return None
    return args[0], args[1], bool(args[2])


def _constant(node: ast.Node) -> object:
    """A string or boolean constant's value; None for anything else."""
    value = getattr(node, "val", None)
    return getattr(value, "sval", getattr(value, "boolval", None))

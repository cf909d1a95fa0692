"""The view of one revision that rules judge, and the SQL helpers they share.

Rules see the whole revision, not a lone statement: a table created earlier in the same
revision has no traffic yet, so lock rules leave it alone.
"""

from __future__ import annotations

import ast as ast_py
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migsafe.capture import Capture
from migsafe.capture.stand_ins import UNKNOWN_TYPE_SCHEMA, StandIn
from migsafe.findings import Diagnostic, Finding
from migsafe.project import MigrationScript
from migsafe.rule import Rule
from migsafe.sql import Statement, qualified


@dataclass
class RevisionContext:
    """One revision as rules see it: its parsed statements, in order, both directions."""

    script: MigrationScript
    upgrade: list[Statement]
    downgrade: list[Statement]
    upgrade_capture: Capture
    downgrade_capture: Capture
    pg_version: int
    notes: list[Diagnostic] = field(default_factory=list, init=False)  # what rules cannot judge
    _created: dict[str, int] = field(default_factory=dict, init=False)
    _position: dict[int, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for index, stmt in enumerate(self.upgrade):
            self._position[id(stmt)] = index
            if isinstance(stmt.node, (ast.CreateStmt, ast.CreateTableAsStmt)):
                name = qualified(getattr(stmt.node, "relation", None)) or qualified(
                    getattr(getattr(stmt.node, "into", None), "rel", None)
                )
                if name is not None:
                    self._created.setdefault(name, index)

    def is_new_table(self, stmt: Statement, table: str | None = None) -> bool:
        """True when the table was created earlier in this revision (so it has no traffic)."""
        name = table or stmt.table
        if name is None:
            return False
        created_at = self._created.get(name)
        return created_at is not None and created_at < self._position.get(id(stmt), -1)

    def existing_table_statements(self) -> Iterator[Statement]:
        """Upgrade statements on tables that existed before this revision."""
        for stmt in self.upgrade:
            if stmt.node is not None and stmt.table and not self.is_new_table(stmt):
                yield stmt

    def source_at(self, line: int) -> str | None:
        """The source of the innermost simple statement (e.g. an ``op.*`` call) at ``line``."""
        best: ast_py.stmt | None = None
        for node in ast_py.walk(self.script.tree):
            if (
                isinstance(node, (ast_py.Expr, ast_py.Assign))
                and node.lineno <= line <= (node.end_lineno or node.lineno)
                and (best is None or node.lineno >= best.lineno)
            ):
                best = node
        if best is None:
            return None
        segment = ast_py.get_source_segment(self.script.source, best)
        return textwrap.dedent(segment) if segment else None

    def cannot_judge(self, rule: Rule, line: int, why: str) -> None:
        """A statement this rule would judge depends on something the capture does not know
        (a type from a module that is not installed): say so instead of guessing."""
        message = f"{rule.name} cannot judge this: {why}"
        self.notes.append(Diagnostic(self.script.path, message, fatal=False, line=line))

    def finding(self, rule: Rule, line: int, message: str, **hint_values: Any) -> Finding:
        return Finding(
            code=rule.code,
            rule=rule.name,
            severity=rule.severity,
            path=self.script.path,
            line=line or 1,
            revision=self.script.revision,
            message=message,
            hint=rule.hint(**hint_values),
        )


def alter_commands(node: ast.Node | None, *subtypes: AlterTableType) -> Iterator[ast.AlterTableCmd]:
    """The ALTER TABLE subcommands of ``node`` of the given kinds."""
    if isinstance(node, ast.AlterTableStmt):
        for command in node.cmds or ():
            if command.subtype in subtypes:
                yield command


def is_unknown_type(type_node: ast.TypeName | None) -> bool:
    """A type from a module that could not be imported (rendered by a stand-in)."""
    return type_node is not None and type_node.names[0].sval == UNKNOWN_TYPE_SCHEMA


def type_name(type_node: ast.TypeName | None) -> str:
    """A readable SQL type, e.g. ``varchar(20)`` or ``int4``."""
    if type_node is None:
        return "?"
    name = ".".join(s.sval for s in type_node.names if s.sval != "pg_catalog")
    mods = [str(m.val.ival) for m in type_node.typmods or () if isinstance(m, ast.A_Const)]
    array = "[]" if type_node.arrayBounds else ""
    return f"{name}({', '.join(mods)}){array}" if mods else f"{name}{array}"


def column_type_code(operation: object, fallback: ast.TypeName | None) -> str:
    """The SQLAlchemy type of an added column as code, e.g. ``sa.String(length=20)``."""
    column = getattr(operation, "column", None)
    column_type = getattr(column, "type", None)
    if isinstance(column_type, StandIn):  # the application's own type, as the script names it
        return column_type.code_name
    if column_type is not None:
        return f"sa.{column_type!r}"
    return f"sa.types.NullType()  # {type_name(fallback)}"


def constraint_types(column: ast.ColumnDef) -> set[ConstrType]:
    return {c.contype for c in column.constraints or () if isinstance(c, ast.Constraint)}


SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def is_serial(column: ast.ColumnDef) -> bool:
    return bool(column.typeName) and column.typeName.names[-1].sval in SERIAL_TYPES

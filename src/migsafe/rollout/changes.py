"""What each statement of a revision's upgrade means for a rollout without downtime.

One cheap pass over the statements the check parsed already (in the check worker), giving a
``Change`` per thing the upgrade does:

- **expand**: additive, and the code running now is unaffected (create table, index, type,
  view, function, sequence; add a column that is nullable or has a default; add an enum
  value; widen a column's type). The new code may need it: it runs before the deploy.
- **contract**: the running code must stop using something, or stop writing what it forbids,
  first (drop table, column, type, view, function; truncate; SET NOT NULL; drop a default; a
  constraint or unique index over columns that existed). It runs after the deploy.
- **breaking**: both at once, so no moment suits both versions of the code (rename a column,
  table, view, type or enum value; change a column's type other than widening it; add a NOT
  NULL column without a default). Each carries how to do it in steps.
- **data**: rows written (INSERT, UPDATE, DELETE, MERGE, COPY): a backfill.
- **neutral**: nothing the application sees (drop or rename an index or a constraint,
  VALIDATE CONSTRAINT, DROP NOT NULL, SET DEFAULT, comments, grants, ...).

Everything on a table created earlier in the same revision (or change) is part of creating
it: it has no traffic yet. Only ``upgrade()`` is classified.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from migsafe.findings import Change, ChangeKind
from migsafe.project import BodyShape, body_shape
from migsafe.revision import (
    RevisionContext,
    constraint_types,
    is_serial,
    type_name,
    type_parts,
)
from migsafe.rules._passes import command_pass
from migsafe.sql import Statement, TableName, quote_identifier

EXPAND, CONTRACT, BREAKING = ChangeKind.EXPAND, ChangeKind.CONTRACT, ChangeKind.BREAKING
DATA, NEUTRAL = ChangeKind.DATA, ChangeKind.NEUTRAL

# Tags: what the runbook times and checks after a change.
CONCURRENT_INDEX = "concurrent-index"  # may leave an INVALID index when it fails
VALIDATE = "validate"  # a scan under SHARE UPDATE EXCLUSIVE: long, and harmless
NOT_VALID = "not-valid"  # a constraint added NOT VALID and not validated in the revision
REWRITE = "rewrite"  # the table (or a column) is rewritten: its statistics are stale
BULK = "bulk"  # many rows written: its statistics are stale

_SPLIT_RENAME_COLUMN = (
    "add {new} here and keep it in step with {old} (a trigger, or the code writing both), "
    "backfill it, deploy code that reads {new}, then drop {old} in a later revision"
)
_SPLIT_RENAME_TABLE = (
    "rename {old} to {new} and create a view named {old} over it in the same revision (the "
    "running code goes on through the view), deploy code that uses {new}, then drop the view "
    "{old} in a later revision"
)
_SPLIT_TYPE = (
    "add a column of the new type here and keep it in step (a trigger, or the code writing "
    "both), backfill it, deploy code that reads it, then drop {old} in a later revision"
)
_SPLIT_NOT_NULL = (
    "add {column} nullable (or with a default) here, deploy code that writes it, backfill, "
    "then SET NOT NULL (through a validated CHECK) in a later revision"
)
_SPLIT_ENUM_VALUE = (
    "add the value {new} here, deploy code that writes it, update the rows that hold {old}; "
    "PostgreSQL cannot drop {old}, so leave it unused"
)
_SPLIT_RENAME_OBJECT = (
    "create {new} beside {old} here, deploy code that uses {new}, then drop {old} in a later "
    "revision"
)

_SKIPPED = (ast.TransactionStmt, ast.VariableSetStmt, ast.VariableShowStmt)

_DROPPED_CONTRACT = {  # what dropping takes from code that may still use it
    ObjectType.OBJECT_TABLE: "table",
    ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "materialized view",
    ObjectType.OBJECT_FOREIGN_TABLE: "foreign table",
    ObjectType.OBJECT_TYPE: "type",
    ObjectType.OBJECT_DOMAIN: "domain",
    ObjectType.OBJECT_SEQUENCE: "sequence",
    ObjectType.OBJECT_FUNCTION: "function",
    ObjectType.OBJECT_PROCEDURE: "procedure",
    ObjectType.OBJECT_ROUTINE: "routine",
    ObjectType.OBJECT_SCHEMA: "schema",
    ObjectType.OBJECT_EXTENSION: "extension",
}
_RENAMED_BREAKING = {
    ObjectType.OBJECT_TABLE: "table",
    ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "materialized view",
    ObjectType.OBJECT_TYPE: "type",
    ObjectType.OBJECT_DOMAIN: "domain",
    ObjectType.OBJECT_SCHEMA: "schema",
    ObjectType.OBJECT_FUNCTION: "function",
    ObjectType.OBJECT_PROCEDURE: "procedure",
}
_CONSTRAINT_NAMES = {
    ConstrType.CONSTR_CHECK: "check constraint",
    ConstrType.CONSTR_FOREIGN: "foreign key",
    ConstrType.CONSTR_UNIQUE: "unique constraint",
    ConstrType.CONSTR_PRIMARY: "primary key",
    ConstrType.CONSTR_EXCLUSION: "exclusion constraint",
    ConstrType.CONSTR_NOTNULL: "not null constraint",
}
_DEFAULTS = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}
_NOT_NULL = {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY}

# Column types whose values all fit in the types listed (the running code keeps working).
_WIDER = {
    "int2": {"int4", "int8", "numeric"},
    "int4": {"int8", "numeric"},
    "int8": {"numeric"},
    "float4": {"float8"},
    "varchar": {"text"},
    "bpchar": {"text"},
}


def classify(revision: RevisionContext) -> tuple[Change, ...]:
    """The changes of ``revision``'s upgrade, in order."""
    classifier = _Classifier(revision)
    for stmt in revision.upgrade:
        classifier.add(stmt)
    return tuple(classifier.changes)


def downgrade_state(revision: RevisionContext) -> str:
    """``exists``, ``raises`` (one-way on purpose), ``missing`` (absent or empty while the
    upgrade does something) or ``nothing`` (the upgrade does nothing to undo)."""
    script = revision.script
    shape = body_shape(script.function("downgrade"))
    if shape is BodyShape.RAISES:
        return "raises"
    if shape is BodyShape.CODE:
        return "exists"
    if not revision.upgrade_capture.emitted:
        return "nothing"
    if shape is BodyShape.ABSENT and revision.downgrade_capture.emitted:
        return "exists"  # bound another way (``downgrade = _down``), and it does something
    return "missing"


class _Classifier:
    """The changes so far, and what earlier statements of the revision added."""

    def __init__(self, revision: RevisionContext) -> None:
        self.revision = revision
        self.changes: list[Change] = []
        self.added_columns: set[tuple[TableName, str]] = set()
        self.not_valid: dict[tuple[TableName, str], int] = {}  # -> its change's index

    def add(self, stmt: Statement) -> None:
        node = stmt.node
        if node is None:
            name = type(stmt.operation).__name__ if stmt.operation is not None else "operation"
            self._change(NEUTRAL, f"{name} (not rendered, so not classified)", stmt)
        elif not isinstance(node, _SKIPPED):
            handler = getattr(self, f"_{type(node).__name__}", None)
            if handler is None:
                self._change(NEUTRAL, _generic(node, stmt.table), stmt)
            else:
                handler(node, stmt)

    def _change(
        self, kind: ChangeKind, what: str, stmt: Statement, table: TableName | None = None,
        tags: tuple[str, ...] = (), split: str = "",
    ) -> None:  # fmt: skip
        table = table or stmt.table
        sql = table.sql if table is not None else None
        self.changes.append(Change(kind, what, stmt.line, sql, tags, split))

    def _is_new(self, stmt: Statement, table: TableName | None = None) -> bool:
        return self.revision.is_new_table(stmt, table)

    def _is_new_column(self, stmt: Statement, column: str) -> bool:
        return self._is_new(stmt) or (stmt.table, column) in self.added_columns

    # creating

    def _CreateStmt(self, node: ast.CreateStmt, stmt: Statement) -> None:
        self._change(EXPAND, f"create table {stmt.table.sql}", stmt)

    def _CreateTableAsStmt(self, node: ast.CreateTableAsStmt, stmt: Statement) -> None:
        noun = "materialized view" if node.objtype == ObjectType.OBJECT_MATVIEW else "table"
        table = TableName.of(node.into.rel)
        self._change(EXPAND, f"create {noun} {table.sql}", stmt, table)

    def _ViewStmt(self, node: ast.ViewStmt, stmt: Statement) -> None:
        verb = "create or replace view" if node.replace else "create view"
        self._change(EXPAND, f"{verb} {TableName.of(node.view).sql}", stmt, TableName.of(node.view))

    def _IndexStmt(self, node: ast.IndexStmt, stmt: Statement) -> None:
        table = stmt.table
        unique = "unique " if node.unique else ""
        name = f"{quote_identifier(node.idxname)} " if node.idxname else ""
        how = " concurrently" if node.concurrent else ""
        what = f"create {unique}index {name}on {table.sql}{how}"
        columns = [element.name for element in node.indexParams or () if element.name]
        new = self._is_new(stmt) or (
            len(columns) == len(node.indexParams or ())
            and all(self._is_new_column(stmt, c) for c in columns)
        )
        kind = CONTRACT if node.unique and not new else EXPAND
        self._change(kind, what, stmt, tags=(CONCURRENT_INDEX,) if node.concurrent else ())

    def _CreateSeqStmt(self, node: ast.CreateSeqStmt, stmt: Statement) -> None:
        self._change(EXPAND, f"create sequence {TableName.of(node.sequence).sql}", stmt)

    def _CreateEnumStmt(self, node: ast.CreateEnumStmt, stmt: Statement) -> None:
        self._change(EXPAND, f"create type {_dotted(node.typeName)}", stmt)

    def _CompositeTypeStmt(self, node: ast.CompositeTypeStmt, stmt: Statement) -> None:
        self._change(EXPAND, f"create type {TableName.of(node.typevar).sql}", stmt)

    def _CreateDomainStmt(self, node: ast.CreateDomainStmt, stmt: Statement) -> None:
        self._change(EXPAND, f"create domain {_dotted(node.domainname)}", stmt)

    def _CreateFunctionStmt(self, node: ast.CreateFunctionStmt, stmt: Statement) -> None:
        noun = "procedure" if node.is_procedure else "function"
        verb = f"create or replace {noun}" if node.replace else f"create {noun}"
        self._change(EXPAND, f"{verb} {_dotted(node.funcname)}", stmt)

    def _CreateExtensionStmt(self, node: ast.CreateExtensionStmt, stmt: Statement) -> None:
        self._change(EXPAND, f"create extension {quote_identifier(node.extname)}", stmt)

    def _CreateSchemaStmt(self, node: ast.CreateSchemaStmt, stmt: Statement) -> None:
        self._change(EXPAND, f"create schema {quote_identifier(node.schemaname or '')}", stmt)

    def _DoStmt(self, node: ast.DoStmt, stmt: Statement) -> None:
        self._change(NEUTRAL, "DO block (not classified: read it)", stmt)

    def _CreateTrigStmt(self, node: ast.CreateTrigStmt, stmt: Statement) -> None:
        what = f"create trigger {quote_identifier(node.trigname)} on {stmt.table.sql}"
        self._change(EXPAND, what, stmt)

    def _AlterEnumStmt(self, node: ast.AlterEnumStmt, stmt: Statement) -> None:
        name = _dotted(node.typeName)
        new = _literal(node.newVal)
        if node.oldVal:
            old = _literal(node.oldVal)
            what = f"rename value {old} of type {name} to {new}"
            split = _SPLIT_ENUM_VALUE.format(old=old, new=new)
            self._change(BREAKING, what, stmt, split=split)
        else:
            self._change(EXPAND, f"add value {new} to type {name}", stmt)

    # removing and renaming

    def _DropStmt(self, node: ast.DropStmt, stmt: Statement) -> None:
        noun = _DROPPED_CONTRACT.get(node.removeType)
        for item in node.objects or ():
            name = _object_name(item)
            if node.removeType == ObjectType.OBJECT_TABLE:
                table = _table_name(item)
                if table is not None and self._is_new(stmt, table):
                    self._change(NEUTRAL, f"drop table {name} (created in this revision)", stmt)
                else:
                    self._change(CONTRACT, f"drop table {name}", stmt, table)
            elif noun is not None:
                self._change(CONTRACT, f"drop {noun} {name}", stmt)
            else:
                how = " concurrently" if node.concurrent else ""
                self._change(NEUTRAL, f"drop {_object_noun(node.removeType)} {name}{how}", stmt)

    def _RenameStmt(self, node: ast.RenameStmt, stmt: Statement) -> None:
        new = quote_identifier(node.newname)
        if node.renameType == ObjectType.OBJECT_COLUMN and stmt.table is not None:
            old = _column(stmt.table, node.subname)
            what = f"rename column {old} to {new}"
            if self._is_new_column(stmt, node.subname):
                self._change(NEUTRAL, what, stmt)
                return
            split = _SPLIT_RENAME_COLUMN.format(old=old, new=_column(stmt.table, node.newname))
            self._change(BREAKING, what, stmt, split=split)
            return
        noun = _RENAMED_BREAKING.get(node.renameType)
        old = stmt.table.sql if stmt.table is not None else _object_name(node.object)
        if noun is None:
            noun = _object_noun(node.renameType)
            self._change(NEUTRAL, f"rename {noun} {old} to {new}", stmt)
        elif stmt.table is not None and self._is_new(stmt):
            self._change(NEUTRAL, f"rename {noun} {old} to {new}", stmt)
        elif stmt.table is not None and stmt.table in self.revision.views_created:
            self._change(EXPAND, f"rename {noun} {old} to {new}, a view keeps {old}", stmt)
        else:
            template = _SPLIT_RENAME_TABLE if stmt.table is not None else _SPLIT_RENAME_OBJECT
            split = template.format(old=old, new=new)
            self._change(BREAKING, f"rename {noun} {old} to {new}", stmt, split=split)

    def _TruncateStmt(self, node: ast.TruncateStmt, stmt: Statement) -> None:
        for relation in node.relations or ():
            table = TableName.of(relation)
            kind = NEUTRAL if self._is_new(stmt, table) else CONTRACT
            self._change(kind, f"truncate {table.sql}", stmt, table, (BULK,))

    # altering a table

    def _AlterTableStmt(self, node: ast.AlterTableStmt, stmt: Statement) -> None:
        if node.objtype != ObjectType.OBJECT_TABLE or stmt.table is None:
            self._change(NEUTRAL, _generic(node, stmt.table), stmt)
            return
        for command in node.cmds or ():
            self._alter_table(command, stmt)

    def _alter_table(self, command: ast.AlterTableCmd, stmt: Statement) -> None:
        table, subtype = stmt.table, command.subtype
        new_table = self._is_new(stmt)
        if subtype == AlterTableType.AT_AddColumn:
            self._add_column(command.def_, stmt)
        elif subtype == AlterTableType.AT_DropColumn:
            kind = NEUTRAL if self._is_new_column(stmt, command.name) else CONTRACT
            self._change(kind, f"drop column {_column(table, command.name)}", stmt)
        elif subtype == AlterTableType.AT_AlterColumnType:
            self._change_type(command, stmt)
        elif subtype == AlterTableType.AT_SetNotNull:
            kind = NEUTRAL if self._is_new_column(stmt, command.name) else CONTRACT
            self._change(kind, f"set not null on {_column(table, command.name)}", stmt)
        elif subtype == AlterTableType.AT_DropNotNull:
            self._change(NEUTRAL, f"drop not null on {_column(table, command.name)}", stmt)
        elif subtype == AlterTableType.AT_ColumnDefault:
            column = _column(table, command.name)
            if command.def_ is not None or self._is_new_column(stmt, command.name):
                verb = "set default of" if command.def_ is not None else "drop default of"
                self._change(NEUTRAL, f"{verb} {column}", stmt)
            else:
                self._change(CONTRACT, f"drop default of {column}", stmt)
        elif subtype == AlterTableType.AT_AddConstraint:
            self._add_constraint(command.def_, stmt)
        elif subtype == AlterTableType.AT_ValidateConstraint:
            validated = self.not_valid.pop((table, command.name), None)
            if validated is not None:  # no longer left NOT VALID
                earlier = self.changes[validated]
                tags = tuple(t for t in earlier.tags if t != NOT_VALID)
                self.changes[validated] = replace(earlier, tags=tags)
            what = f"validate constraint {quote_identifier(command.name)} on {table.sql}"
            self._change(NEUTRAL, what, stmt, tags=() if new_table else (VALIDATE,))
        elif subtype == AlterTableType.AT_DropConstraint:
            what = f"drop constraint {quote_identifier(command.name)} on {table.sql}"
            self._change(NEUTRAL, what, stmt)
        else:
            self._change(NEUTRAL, f"alter table {table.sql}: {_words(subtype.name[3:])}", stmt)

    def _add_column(self, column: ast.ColumnDef, stmt: Statement) -> None:
        table = stmt.table
        name = _column(table, column.colname)
        kinds = constraint_types(column)
        has_default = bool(kinds & _DEFAULTS) or is_serial(column)
        not_null = bool(kinds & _NOT_NULL) or bool(column.is_not_null)
        new_table = self._is_new(stmt)
        self.added_columns.add((table, column.colname))
        if not_null and not has_default and not new_table:
            what = f"add column {name} NOT NULL without a default"
            split = _SPLIT_NOT_NULL.format(column=name)
            self._change(BREAKING, what, stmt, split=split)
        else:
            self._change(EXPAND, f"add column {name}", stmt)

    def _change_type(self, command: ast.AlterTableCmd, stmt: Statement) -> None:
        column = _column(stmt.table, command.name)
        new_type = command.def_.typeName
        what = f"change type of {column} to {type_name(new_type)}"
        if self._is_new_column(stmt, command.name):
            self._change(NEUTRAL, what, stmt)
        else:
            # a rewrite unless the change is binary-coercible (a longer varchar: ihatemoney)
            rewrites = command_pass(self.revision, stmt, command) is not None
            tags = (REWRITE,) if rewrites else ()
            if _widens(self.revision.column_before(stmt, command.name, "type"), new_type):
                self._change(EXPAND, what, stmt, tags=tags)
            else:
                split = _SPLIT_TYPE.format(old=column)
                self._change(BREAKING, what, stmt, tags=tags, split=split)

    def _add_constraint(self, constraint: ast.Constraint, stmt: Statement) -> None:
        table = stmt.table
        noun = _CONSTRAINT_NAMES.get(constraint.contype, "constraint")
        name = f"{quote_identifier(constraint.conname)} " if constraint.conname else ""
        not_valid = bool(constraint.skip_validation)
        what = f"add {noun} {name}on {table.sql}" + (" NOT VALID" if not_valid else "")
        columns = _constraint_columns(constraint)
        new = self._is_new(stmt) or (
            bool(columns) and all(self._is_new_column(stmt, c) for c in columns)
        )
        tags = (NOT_VALID,) if not_valid and not self._is_new(stmt) else ()
        if tags and constraint.conname:
            self.not_valid[(table, constraint.conname)] = len(self.changes)
        self._change(EXPAND if new else CONTRACT, what, stmt, tags=tags)

    # writing rows

    def _InsertStmt(self, node: ast.InsertStmt, stmt: Statement) -> None:
        values = node.selectStmt is None or getattr(node.selectStmt, "valuesLists", None)
        tags = () if values or self._is_new(stmt) else (BULK,)
        self._change(DATA, f"insert into {stmt.table.sql}", stmt, tags=tags)

    def _UpdateStmt(self, node: ast.UpdateStmt, stmt: Statement) -> None:
        tags = () if self._is_new(stmt) else (BULK,)
        self._change(DATA, f"update {stmt.table.sql}", stmt, tags=tags)

    def _DeleteStmt(self, node: ast.DeleteStmt, stmt: Statement) -> None:
        tags = () if self._is_new(stmt) else (BULK,)
        self._change(DATA, f"delete from {stmt.table.sql}", stmt, tags=tags)

    def _MergeStmt(self, node: ast.MergeStmt, stmt: Statement) -> None:
        tags = () if self._is_new(stmt) else (BULK,)
        self._change(DATA, f"merge into {stmt.table.sql}", stmt, tags=tags)

    def _CopyStmt(self, node: ast.CopyStmt, stmt: Statement) -> None:
        if node.is_from and stmt.table is not None:
            self._change(DATA, f"copy into {stmt.table.sql}", stmt)
        else:
            self._change(NEUTRAL, _generic(node, stmt.table), stmt)

    # maintenance

    def _ReindexStmt(self, node: ast.ReindexStmt, stmt: Statement) -> None:
        concurrent = any(p.defname == "concurrently" for p in node.params or ())
        target = TableName.of(node.relation).sql if node.relation is not None else node.name
        what = f"reindex {target}" + (" concurrently" if concurrent else "")
        self._change(NEUTRAL, what, stmt, tags=(CONCURRENT_INDEX,) if concurrent else ())


def _widens(old: ast.TypeName | None, new: ast.TypeName) -> bool:
    """True when every value of ``old`` is a value of ``new`` (the same type, a longer
    varchar, text, a bigger integer or numeric); False when either is unknown."""
    if old is None or bool(old.arrayBounds) != bool(new.arrayBounds):
        return False
    (old_name, old_mods), (new_name, new_mods) = type_parts(old), type_parts(new)
    if old_name == new_name:
        if not new_mods:
            return True
        if old_name == "numeric" and len(old_mods) == len(new_mods) == 2:
            return old_mods[1] == new_mods[1] and new_mods[0] >= old_mods[0]
        return bool(old_mods) and len(new_mods) == 1 and new_mods[0] >= old_mods[0]
    if new_name == "varchar" and old_name == "bpchar":
        return not new_mods or (bool(old_mods) and new_mods[0] >= old_mods[0])
    return new_name in _WIDER.get(old_name, ()) and (new_name != "numeric" or not new_mods)


def _constraint_columns(constraint: ast.Constraint) -> list[str]:
    """The columns of the constrained table a constraint reads."""
    if constraint.contype == ConstrType.CONSTR_FOREIGN:
        return [s.sval for s in constraint.fk_attrs or ()]
    if constraint.contype == ConstrType.CONSTR_CHECK:
        return sorted(set(_column_refs(constraint.raw_expr)))
    if constraint.contype == ConstrType.CONSTR_NOTNULL:
        return [s.sval for s in constraint.keys or ()]
    return [s.sval for s in constraint.keys or () if isinstance(s, ast.String)]


def _column_refs(node: object) -> Iterator[str]:
    if isinstance(node, ast.ColumnRef):
        last = node.fields[-1]
        if isinstance(last, ast.String):
            yield last.sval
        return
    if isinstance(node, ast.Node):
        for slot in node:
            yield from _column_refs(getattr(node, slot))
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _column_refs(item)


def _column(table: TableName, column: str) -> str:
    return f"{table.sql}.{quote_identifier(column)}"


def _dotted(names: object) -> str:
    return ".".join(quote_identifier(s.sval) for s in names or () if isinstance(s, ast.String))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _table_name(item: object) -> TableName | None:
    """A table named by DROP TABLE's list of names."""
    parts = [s.sval for s in item if isinstance(s, ast.String)] if isinstance(item, tuple) else []
    if not parts:
        return None
    return TableName(parts[-2] if len(parts) > 1 else None, parts[-1])


def _object_name(item: object) -> str:
    """What a DROP or a RENAME names, as SQL."""
    if isinstance(item, (list, tuple)):
        return _dotted(item)
    if isinstance(item, ast.String):
        return quote_identifier(item.sval)
    if isinstance(item, ast.TypeName):
        return _dotted(item.names)
    if isinstance(item, ast.ObjectWithArgs):
        return _dotted(item.objname)
    if isinstance(item, ast.RangeVar):
        return TableName.of(item).sql
    return "?"


def _object_noun(object_type: ObjectType) -> str:
    """``OBJECT_TABCONSTRAINT`` → ``tabconstraint``: the words PostgreSQL's enum uses."""
    return object_type.name.removeprefix("OBJECT_").lower().replace("_", " ")


def _generic(node: ast.Node, table: TableName | None) -> str:
    """``AlterOwnerStmt`` on "users" → ``alter owner "users"``: for what has no rule."""
    words = _words(type(node).__name__.removesuffix("Stmt"))
    return f"{words} {table.sql}" if table is not None else words


def _words(camel: str) -> str:
    return " ".join(re.findall(r"[A-Z]+[a-z]*|[a-z]+|[0-9]+", camel)).lower()

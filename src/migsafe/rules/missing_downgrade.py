"""missing-downgrade: a revision that cannot be rolled back."""

from __future__ import annotations

import ast as ast_py
import copy
import functools
import logging
import re
import textwrap
import warnings
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from pglast import ast
from pglast.enums import AlterTableType, ObjectType
from sqlalchemy.types import TypeEngine

from migsafe.capture.reflection import sqlalchemy_type
from migsafe.capture.stand_ins import Reach
from migsafe.catalog import (
    DEFAULT_SCHEMA,
    Catalog,
    Constraint,
    Index,
    Table,
    default_constraint_name,
)
from migsafe.findings import Finding, Severity
from migsafe.project import BodyShape, body_shape
from migsafe.revision import RevisionContext, alter_commands, is_unknown_type, type_name
from migsafe.rule import Category, Rule
from migsafe.rules._casts import no_automatic_cast
from migsafe.sql import Statement, quote_identifier
from migsafe.sqltree import dropped_names

RULE = Rule(
    code="MS007",
    name="missing-downgrade",
    severity=Severity.WARNING,
    category=Category.ROLLBACK,
    help="Write the reverse operations in downgrade(), or raise there if it is one-way.",
    summary="The revision has no working downgrade().",
    why=(
        "When a deploy goes wrong, `alembic downgrade` is the way back. A downgrade() that is "
        "`pass` or only a docstring silently does nothing: Alembic records the revision as "
        "undone while the schema keeps every change, and the next upgrade fails on objects "
        "that already exist. A missing one fails the rollback when it gets there. If the "
        "revision truly cannot be undone, say so by raising."
    ),
    fix="""\
def downgrade({parameters}):
    {undo}
# or, for a deliberately one-way revision:
# def downgrade({parameters}):
#     raise NotImplementedError("{revision} cannot be undone: <why>")""",
    bad=(
        """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade():
    pass
""",
    ),
    good=(
        """\
def upgrade():
    op.add_column("users", sa.Column("nickname", sa.Text()))

def downgrade():
    op.drop_column("users", "nickname")
""",
    ),
)


def check(rev: RevisionContext) -> Iterator[Finding]:
    function = rev.script.function("downgrade")
    upgrade = rev.script.function("upgrade")
    shape = body_shape(function)
    if shape not in (BodyShape.ABSENT, BodyShape.EMPTY):
        return
    if upgrade is None or body_shape(upgrade) is BodyShape.EMPTY:
        return  # nothing to undo
    if shape is BodyShape.EMPTY and _changes_nothing(rev):
        return  # nothing to undo on PostgreSQL; without a downgrade() at all, Alembic's
        # rollback still fails there (neutron's revisions that find the key already made)
    if body_shape(upgrade) is BodyShape.RAISES and not rev.upgrade_capture.emitted:
        return  # it raises before it does anything (tiled's initial revision, stamped by the
        # application): it never applies, so there is nothing to undo
    if shape is BodyShape.EMPTY and _runs_again_as_is(rev):
        return  # rows changed, or objects made only if missing: the next upgrade still runs
    if shape is BodyShape.ABSENT and rev.downgrade_capture.emitted:
        return  # bound another way (``downgrade = _down``, an import), and it does something
    line = function.lineno if function else upgrade.lineno
    what = (  # Alembic calls module.downgrade(): without one, the rollback raises
        "has no downgrade(): rolling it back fails (Alembic finds no function to call), and "
        "so does every rollback past it"
        if shape is BodyShape.ABSENT
        else "has an empty downgrade(): rolling it back would do nothing while Alembic "
        "records it as undone"
    )
    yield rev.finding(
        RULE,
        line,
        f"Revision {rev.script.revision} {what}.",
        undo=_undo_hint(rev),
        revision=rev.script.revision,
        parameters=_parameters(rev, function or upgrade),
    )


def _parameters(rev: RevisionContext, function: ast_py.FunctionDef) -> str:
    """The function's parameters as its source writes them (nonebot-plugin-orm's env.py
    calls ``downgrade(name=...)``: a recipe without them raises TypeError there)."""
    arguments = function.args
    nodes = [
        *arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, *arguments.defaults,
        *(d for d in arguments.kw_defaults if d is not None),
    ]  # fmt: skip
    if not nodes or arguments.vararg or arguments.kwarg:
        return ast_py.unparse(arguments)
    first = min(nodes, key=lambda n: (n.lineno, n.col_offset))
    last = max(nodes, key=lambda n: (n.end_lineno or n.lineno, n.end_col_offset or 0))
    lines = rev.script.source.splitlines()[first.lineno - 1 : (last.end_lineno or 0)]
    lines[-1] = lines[-1][: last.end_col_offset]
    lines[0] = lines[0][first.col_offset :]
    return " ".join(line.strip() for line in lines)


def _changes_nothing(rev: RevisionContext) -> bool:
    """upgrade() ran to its end, exactly, and emitted nothing on PostgreSQL (designate's
    revisions that return unless the database is MySQL): nothing to undo here. Not when
    what it looked at of the schema may not be what the databases it is written for hold:
    dagster's return unless ``runs`` exists, which it does there, not in the schema the
    history built. Where that schema is known whole and it looked only at what the history
    made (manila's ``load_table("quota_classes")``), the answer was theirs."""
    capture = rev.upgrade_capture
    exact = capture.failure is None and not capture.guesses
    return exact and not capture.emitted and (not capture.recorder.reflected or _as_built(rev))


def _as_built(rev: RevisionContext) -> bool:
    """What upgrade() looked at of the schema is what every database the history built
    holds: that schema was known whole, and it neither asked for a table no revision made
    nor reflected one the history only altered."""
    capture, schema = rev.upgrade_capture, rev.schema_before
    return (
        schema is not None and schema.exact and not capture.tables_asked_absent
        and not capture.tables_assumed and not capture.recorder.partial_reflections
    )  # fmt: skip


# what an upgrade may leave in place under a downgrade() that does nothing: its next run
# works again (rows are data, not schema; a transaction's control and settings are neither)
_DATA_OR_CONTROL = (
    ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.SelectStmt, ast.TransactionStmt,
    ast.VariableSetStmt,
)  # fmt: skip
_CREATED_IF_MISSING = (
    ast.CreateStmt, ast.IndexStmt, ast.CreateSeqStmt, ast.CreateSchemaStmt,
    ast.CreateExtensionStmt,
)  # fmt: skip


def _runs_again_as_is(rev: RevisionContext) -> bool:
    """upgrade() was seen whole and only changes rows (fides deletes rows it no longer
    wants: no downgrade() brings them back, and raising there would only block rollbacks
    past it) or makes objects only if they are missing (cognee's ``ALTER TYPE ... ADD VALUE
    IF NOT EXISTS``, which PostgreSQL cannot undo): an empty downgrade() loses nothing the
    next upgrade would trip on."""
    capture = rev.upgrade_capture
    if not capture.exact or capture.guesses or not rev.upgrade:
        return False
    temporary = _temporary_tables(rev.upgrade)
    return _triggers_put_back(rev.upgrade) and all(
        _safe_to_run_again(stmt.node) or _on_temporary(stmt, temporary) for stmt in rev.upgrade
    )


def _on_temporary(stmt: Statement, temporary: set[str]) -> bool:
    """``stmt`` makes, changes or drops only temporary tables."""
    if _temporary_table(stmt.node) is not None:
        return True
    dropped = dropped_names(stmt.node, ObjectType.OBJECT_TABLE)
    if dropped:
        return all(schema is None and name in temporary for schema, name in dropped)
    return stmt.table is not None and stmt.table.name in temporary


def _temporary_tables(upgrade: Sequence[Statement]) -> set[str]:
    """The temporary tables upgrade() makes (indico's ``CREATE TEMPORARY TABLE merge_map AS
    ...``, indexed, read and dropped): they end with the session, and so does all it does to
    them."""
    return {name for stmt in upgrade if (name := _temporary_table(stmt.node)) is not None}


def _temporary_table(node: ast.Node | None) -> str | None:
    """The name of the temporary table ``node`` creates, if it creates one."""
    if isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
        node = node.into.rel
    elif isinstance(node, ast.CreateStmt):
        node = node.relation
    if isinstance(node, ast.RangeVar) and node.relpersistence == "t":
        return node.relname
    return None


def _triggers_put_back(upgrade: Sequence[Statement]) -> bool:
    """Each trigger upgrade() disables it enables again afterwards (indico disables a table's
    triggers for a bulk UPDATE): no trigger is left as it was not. Enabling one it did not
    disable first changes what the database does."""
    disabled: set[tuple[object, int, str | None]] = set()
    for stmt in upgrade:
        for command in alter_commands(stmt.node, *_DISABLE, *_ENABLE):
            # ALL, USER or one by name: ENABLE TRIGGER USER leaves ALL's system ones off
            kind = (_DISABLE + _ENABLE).index(command.subtype) % len(_DISABLE)
            key = (stmt.table, kind, command.name)
            if command.subtype in _DISABLE:
                disabled.add(key)
            elif key in disabled:
                disabled.discard(key)
            else:
                return False
    return not disabled


_DISABLE = (
    AlterTableType.AT_DisableTrig, AlterTableType.AT_DisableTrigAll,
    AlterTableType.AT_DisableTrigUser,
)  # fmt: skip
_ENABLE = (
    AlterTableType.AT_EnableTrig, AlterTableType.AT_EnableTrigAll,
    AlterTableType.AT_EnableTrigUser,
)  # fmt: skip


def _safe_to_run_again(node: ast.Node | None) -> bool:
    if isinstance(node, _DATA_OR_CONTROL):
        return True
    if isinstance(node, _CREATED_IF_MISSING):
        return bool(node.if_not_exists)
    if isinstance(node, ast.AlterEnumStmt):
        return bool(node.skipIfNewValExists)
    if isinstance(node, ast.AlterTableStmt):  # trigger switches: _triggers_put_back
        return all(
            (cmd.subtype == AlterTableType.AT_AddColumn and cmd.missing_ok)
            or cmd.subtype in (*_DISABLE, *_ENABLE)
            for cmd in node.cmds
        )
    return False


def _undo_hint(rev: RevisionContext) -> str:
    """The reverse of each upgrade operation, last one first, rendered as code; a comment
    for each one whose reverse the call alone does not tell, and for each schema change run
    as SQL through the bind."""
    lines: list[str] = []
    seen: set[int] = set()
    operations: set[int] = set()
    made = {  # where upgrade() makes each table it makes (nova drops one and makes it anew)
        stmt.table: index
        for index, stmt in enumerate(rev.upgrade)
        if isinstance(stmt.node, ast.CreateStmt)
    }
    temporary = _temporary_tables(rev.upgrade)
    for index, stmt in reversed(list(enumerate(rev.upgrade))):
        operation = stmt.operation
        if isinstance(stmt.node, (ast.TransactionStmt, ast.VariableSetStmt)):
            continue  # a COMMIT or a SET: nothing to undo
        if _on_temporary(stmt, temporary):
            continue  # a temporary table: gone with the session
        if (
            stmt.table is not None
            and made.get(stmt.table, index) < index
            and not isinstance(stmt.node, (ast.CreateStmt, ast.RenameStmt))
        ):
            continue  # a change of a table upgrade() made: dropping the table undoes it
        if isinstance(stmt.node, _DATA_OR_CONTROL) and rev.is_new_table(stmt):
            continue  # rows of a table the revision makes: dropping the table undoes them
        if operation is None:  # SQL run through the bind (tiled's connection.execute)
            if not isinstance(stmt.node, _DATA_OR_CONTROL) and stmt.line not in seen:
                seen.add(stmt.line)
                lines.append(f"# undo by hand: {_one_line(stmt.sql)}")
            continue
        if id(operation) in operations:
            continue  # one call renders several statements
        operations.add(id(operation))
        recreated = (
            _recreated(rev, operation) if isinstance(operation, ops.DropConstraintOp)
            else _made_again(rev, operation) if isinstance(operation, _DROPS_OF_KNOWN)
            else None
        )  # fmt: skip
        reverse = recreated or _cast_back(rev, operation, _reverse(_as_it_was(rev, operation)))
        code = _render(reverse)
        if code:
            lines.append(code)
        elif stmt.line not in seen:  # once per line: a loop issues the same call again
            seen.add(stmt.line)
            call = rev.code_at(stmt.line) or f"line {stmt.line}"  # without its comments
            lines.append(f"# undo by hand: {_one_line(call)}")
    capture = rev.upgrade_capture
    stopped = capture.failure is not None or any(g.reach is Reach.REST for g in capture.guesses)
    if not lines:  # nothing it did was seen: say why, rather than offer an empty body
        why = (
            "what upgrade() does was not seen (its capture stopped early)"
            if stopped
            else "upgrade() decides what to do by what the database holds"
        )
        lines.append(f"# {why}: write its undo by hand")
    elif stopped:  # gertty's upgrade() raised halfway: the rest is not in the recipe
        lines.insert(0, "# upgrade() was seen only in part: undo what it does after that too")
    if all(line.startswith("#") for line in lines):
        lines.append("...")
    source = rev.script.source
    if any("postgresql." in line for line in lines) and "dialects import postgresql" not in source:
        lines.insert(0, "# (with `from sqlalchemy.dialects import postgresql` at the top)")
    return textwrap.indent("\n".join(lines), "    ").lstrip()


def _as_it_was(rev: RevisionContext, operation: ops.MigrateOperation) -> ops.MigrateOperation:
    """An alter_column() that sets nullability, or a type, without saying what it was: what
    the schema says it was when it ran, so that its reverse does not make NOT NULL a column
    that was nullable all along (ironic-inspector's renamed timestamps, which hold NULLs),
    and changes the type back (refstack's ``type_=sa.String(36)`` alone)."""
    if not isinstance(operation, ops.AlterColumnOp):
        return operation
    stmt = _statement_of(rev, operation)
    if stmt is None:
        return operation
    known = copy.copy(operation)
    if operation.modify_nullable is not None and operation.existing_nullable is None:
        former = rev.column_before(stmt, operation.column_name, "nullable")
        if former is not None:
            known.existing_nullable = former
            if former == operation.modify_nullable:
                known.modify_nullable = None  # no change to undo
    if operation.modify_type is not None and _says_too_little(operation.existing_type):
        former_type = rev.column_before(stmt, operation.column_name, "type")
        if isinstance(former_type, ast.TypeName) and not is_unknown_type(former_type):
            known.existing_type = sqlalchemy_type(former_type, rev.schema_at(stmt) or Catalog())
    return known


def _says_too_little(given: object) -> bool:
    """An ``existing_type=`` to put back that is not written, or written so that it cannot
    be made again: the class alone (designate's ``existing_type=sa.Enum``), an enum with no
    name (PostgreSQL's enums have one)."""
    if given is None:
        return True
    if isinstance(given, type):  # ``sa.Integer`` is made again as it is: ``sa.Integer()``
        return issubclass(given, sa.Enum)
    return isinstance(given, sa.Enum) and not given.name


def _recreated(
    rev: RevisionContext, operation: ops.DropConstraintOp
) -> ops.MigrateOperation | None:
    """A dropped constraint added back as the history made it (ckanext-comments drops its
    foreign keys to add others): a drop's call does not say what it dropped, the schema
    does, ON DELETE included. None when the schema does not know it."""
    stmt = _statement_of(rev, operation)
    if stmt is None or stmt.table is None:
        return None
    schema = rev.schema_at(stmt)
    table = schema.table(stmt.table.key) if schema is not None else None
    known = table.constraints.get(operation.constraint_name) if table is not None else None
    if known is None:
        return None
    name, on, columns = known.name, stmt.table.name, list(known.columns)
    if known.kind == "foreign key" and known.referred is not None:
        referred_schema, referred = known.referred
        return ops.CreateForeignKeyOp(
            name, on, referred, columns, list(known.referred_columns),
            source_schema=stmt.table.schema,
            referent_schema=None if referred_schema == DEFAULT_SCHEMA else referred_schema,
            ondelete=known.on_delete, onupdate=known.on_update,
        )  # fmt: skip
    if known.kind == "unique":
        return ops.CreateUniqueConstraintOp(name, on, columns, schema=stmt.table.schema)
    if known.kind == "primary key":
        return ops.CreatePrimaryKeyOp(name, on, columns, schema=stmt.table.schema)
    if known.kind == "check" and known.expression:
        return ops.CreateCheckConstraintOp(
            name, on, sa.text(known.expression), schema=stmt.table.schema
        )
    return None


_DROPS_OF_KNOWN = (ops.DropTableOp, ops.DropColumnOp, ops.DropIndexOp)


def _made_again(
    rev: RevisionContext, operation: ops.MigrateOperation
) -> list[ops.MigrateOperation | str] | None:
    """A dropped table, column or index made again as the schema shows it when it was
    dropped: the call names it, the schema says what it was (nova drops ``share_mapping``
    and creates it anew; its downgrade must put the old one back). None when the schema does
    not know it whole (a table the history only altered, a type it cannot tell)."""
    stmt = _statement_of(rev, operation)
    schema = rev.schema_at(stmt) if stmt is not None else None
    if schema is None:
        return None
    owner = operation.schema or DEFAULT_SCHEMA  # (a DROP names no table: stmt.table is None)
    if isinstance(operation, ops.DropIndexOp):
        index = schema.indexes.get((owner, operation.index_name))
        table = schema.table(index.table) if index is not None else None
        if index is None or table is None:
            return None
        made = _table_of(table, schema, [], with_indexes=False)
        found = _index(made, index) if made is not None else None
        return [ops.CreateIndexOp.from_index(found)] if found is not None else None
    table = schema.table((owner, operation.table_name))
    if table is None:
        return None
    if isinstance(operation, ops.DropColumnOp):  # with the keys and indexes that went
        name = operation.column_name  # with it, of its other columns too (a UNIQUE on two)
        made = _table_of(table, schema, list(table.columns), with_indexes=True)
        if made is None or name not in made.c:
            return None
        column = made.c[name]
        identity = (sa.Identity(),) if column.identity is not None else ()
        # a NOT NULL column with nothing to fill it: added NOT NULL, it fails on a table
        # with rows; nullable, then filled and made NOT NULL by hand
        unfilled = not column.nullable and column.server_default is None and not identity
        bare = sa.Column(  # its keys, a foreign key too, come as operations of their own
            column.name, column.type, *identity, nullable=column.nullable or unfilled,
            server_default=column.server_default,
            autoincrement="auto" if identity else column.autoincrement,
        )  # fmt: skip
        table_args = f"{made.name!r}, {name!r}" + (
            f", schema={made.schema!r}" if made.schema else ""
        )
        refill = (
            [f"# fill it, then: op.alter_column({table_args}, nullable=False)"] if unfilled else []
        )
        return [
            ops.AddColumnOp(made.name, bare, schema=made.schema),
            *refill,
            *(
                ops.AddConstraintOp.from_constraint(constraint)
                for constraint in sorted(made.constraints, key=_name)
                if _involves(constraint, name)
            ),
            *(
                ops.CreateIndexOp.from_index(index)
                for index in sorted(made.indexes, key=_name)
                if _involves(index, name)
            ),
        ]
    made = _table_of(table, schema, list(table.columns), with_indexes=True)
    if made is None:
        return None
    return [
        ops.CreateTableOp.from_table(made),
        *(ops.CreateIndexOp.from_index(index) for index in sorted(made.indexes, key=_name)),
    ]


def _table_of(
    table: Table, schema: Catalog, columns: list[str], *, with_indexes: bool
) -> sa.Table | None:
    """``table`` as SQLAlchemy would make it, with ``columns`` (all that the table's keys and
    indexes need too) and the constraints on those alone; None when a column's type, or a
    default the table's drop takes with it (a serial's sequence), cannot be made again."""
    name, owner = table.name[1], table.name[0]
    made = sa.Table(
        name, sa.MetaData(), schema=None if owner == DEFAULT_SCHEMA else owner
    )  # fmt: skip
    keys = {c.columns for c in table.constraints.values() if c.kind == "primary key"}
    for column in table.columns.values():
        if columns and column.name not in columns:
            continue
        type_ = sqlalchemy_type(column.type, schema)
        if column.type is None or type_ is sa.types.NULLTYPE:
            return None
        default = column.default
        serial = default is not None and default.startswith("nextval(")
        if serial and (column.name,) not in keys:
            return None  # its sequence went with the table: by hand
        identity = (sa.Identity(),) if column.identity else ()  # (lost, it came back plain)
        made.append_column(
            sa.Column(
                column.name, type_, *identity, nullable=column.nullable is not False,
                server_default=None if serial or default is None or identity
                else sa.text(default),
                autoincrement="auto" if identity else serial,
            )
        )  # fmt: skip
    for constraint in table.constraints.values():
        needs = set(constraint.columns or constraint.uses)  # a CHECK's, the columns it reads
        if not needs or not needs <= set(made.c.keys()):
            continue
        made_constraint = _constraint(constraint)
        if made_constraint is None:
            return None
        made.append_constraint(made_constraint)
        if constraint.kind == "foreign key" and constraint.referred is not None:
            _referred_table(made.metadata, constraint)  # (rendering a key looks it up)
    if with_indexes:
        owned = set(table.constraints)
        whole = set(made.c.keys()) == set(table.columns)
        for index in schema.indexes.values():
            mine = index.table == table.name and index.name[1] not in owned
            if mine and _index(made, index) is None and whole:
                return None  # (of some columns: only the indexes on those)
    return made


def _involves(item: sa.Constraint | sa.Index, column: str) -> bool:
    """The constraint or index goes with ``column`` when it is dropped: it names the column
    (a CHECK in its condition, an index in an expression or its WHERE too)."""
    if isinstance(item, sa.CheckConstraint):
        return (
            column in {c.name for c in item.table.c}
            and re.search(rf"\b{re.escape(column)}\b", str(item.sqltext)) is not None
        )
    names = {c.name for c in getattr(item, "columns", ())}
    if column in names:
        return True
    texts = [str(e) for e in getattr(item, "expressions", ()) if not isinstance(e, sa.Column)]
    where = getattr(item, "dialect_kwargs", {}).get("postgresql_where")
    texts += [str(where)] if where is not None else []
    return any(re.search(rf"\b{re.escape(column)}\b", text) for text in texts)


def _referred_table(metadata: sa.MetaData, constraint: Constraint) -> None:
    """The table a foreign key refers to, with the columns it refers to, in ``metadata``."""
    assert constraint.referred is not None
    owner, name = constraint.referred
    key = name if owner == DEFAULT_SCHEMA else f"{owner}.{name}"
    table = metadata.tables.get(key)
    if table is None:  # (a key to its own table finds it there)
        table = sa.Table(name, metadata, schema=None if owner == DEFAULT_SCHEMA else owner)
    for column in constraint.referred_columns:
        if column not in table.c:
            table.append_column(sa.Column(column, sa.types.NULLTYPE))


def _constraint(constraint: Constraint) -> sa.Constraint | None:
    name, columns = constraint.name, constraint.columns
    if constraint.kind == "primary key":
        return sa.PrimaryKeyConstraint(*columns, name=name)
    if constraint.kind == "unique":
        return sa.UniqueConstraint(*columns, name=name)
    if constraint.kind == "check" and constraint.expression:
        return sa.CheckConstraint(constraint.expression, name=name)
    if constraint.kind == "foreign key" and constraint.referred is not None:
        owner, referred = constraint.referred
        prefix = referred if owner == DEFAULT_SCHEMA else f"{owner}.{referred}"
        return sa.ForeignKeyConstraint(
            list(columns), [f"{prefix}.{c}" for c in constraint.referred_columns], name=name,
            ondelete=constraint.on_delete, onupdate=constraint.on_update,
        )  # fmt: skip
    return None


def _index(table: sa.Table, index: Index) -> sa.Index | None:
    """``index`` on the SQLAlchemy ``table`` (which it joins); None when a column it names
    is not one of the table's."""
    elements: list[object] = []
    for column, expression in zip(index.columns, index.expressions, strict=True):
        if column is None:
            elements.append(sa.text(expression))
        elif column in table.c:
            elements.append(table.c[column])
        else:
            return None
    options: dict[str, object] = {"postgresql_where": sa.text(index.where)} if index.where else {}
    if index.using != "btree":  # a GIN index came back as a btree
        options["postgresql_using"] = index.using
    named = {c: o for c, o in zip(index.columns, index.opclasses, strict=False) if c and o}
    if named:  # and without its jsonb_path_ops
        options["postgresql_ops"] = named
    return sa.Index(index.name[1], *elements, unique=index.unique, _table=table, **options)


def _name(index: sa.Index) -> str:
    return str(index.name)


def _cast_back(
    rev: RevisionContext, operation: ops.MigrateOperation, reverse: ops.MigrateOperation | None
) -> ops.MigrateOperation | None:
    """A type change undone with ``postgresql_using=`` where PostgreSQL has no automatic
    cast back (invenio-access made a varchar an integer: back, it would refuse)."""
    if not isinstance(reverse, ops.AlterColumnOp) or reverse.modify_type is None:
        return reverse
    stmt = _statement_of(rev, operation)
    if stmt is None or not isinstance(operation, ops.AlterColumnOp):
        return reverse
    column = operation.column_name
    former = rev.column_before(stmt, column, "type")
    for cmd in alter_commands(stmt.node, AlterTableType.AT_AlterColumnType):
        if former is not None and no_automatic_cast(rev, stmt, cmd.def_.typeName, former):
            reverse.kw["postgresql_using"] = f"{quote_identifier(column)}::{type_name(former)}"
    return reverse


def _statement_of(rev: RevisionContext, operation: ops.MigrateOperation) -> Statement | None:
    """The first statement the upgrade operation rendered."""
    return next((s for s in rev.upgrade if s.operation is operation), None)


def _render(
    reverse: ops.MigrateOperation | list[ops.MigrateOperation | str] | None,
) -> str | None:
    """An undo operation (or several, in order, comments among them) as the code
    autogenerate would write."""
    if reverse is None:
        return None
    if isinstance(reverse, list):
        rendered = [each if isinstance(each, str) else _render(each) for each in reverse]
        return None if None in rendered else "\n".join(r for r in rendered if r)
    if isinstance(reverse, ops.RenameTableOp):  # autogenerate has no renderer for it
        schema = f", schema={reverse.schema!r}" if reverse.schema else ""
        return f"op.rename_table({reverse.table_name!r}, {reverse.new_table_name!r}{schema})"
    if isinstance(reverse, ops.CreatePrimaryKeyOp):  # nor for this one (it raises)
        schema = f", schema={reverse.schema!r}" if reverse.schema else ""
        return (
            f"op.create_primary_key({reverse.constraint_name!r}, {reverse.table_name!r}, "
            f"{list(reverse.columns)!r}{schema})"
        )
    from alembic.autogenerate import render_python_code  # imports Mako: only when needed

    try:
        with warnings.catch_warnings():  # "drop_constraint() for an unnamed constraint": the
            warnings.simplefilter("ignore")  # recipe shows None there, unnamed-constraint says why
            code = render_python_code(
                ops.UpgradeOps(ops=[reverse]), migration_context=_render_context()
            )
    except Exception:  # autogenerate cannot render it
        return None
    body = "\n".join(line for line in code.splitlines() if not line.strip().startswith("# ###"))
    body = textwrap.dedent(body).strip()
    using = getattr(reverse, "kw", {}).get("postgresql_using")
    if using and "postgresql_using" not in body and body.endswith(")"):  # alter_column's
        # renderer leaves the option out
        body = f"{body[:-1]},\n           postgresql_using={using!r})"
    if getattr(reverse, "kw", {}).get("postgresql_concurrently"):
        return f"with op.get_context().autocommit_block():\n{textwrap.indent(body, '    ')}"
    return body


@functools.cache
def _render_context() -> MigrationContext:
    """One context for every recipe rendered: Alembic makes a new one per call otherwise,
    four fifths of the cost of a recipe. PostgreSQL's, whose types render as code that runs
    (``postgresql.ARRAY(sa.TEXT())``, not ``ARRAY(TEXT())``)."""
    from sqlalchemy.dialects.postgresql.base import PGDialect

    log = logging.getLogger("alembic.runtime.migration")
    was_disabled, log.disabled = log.disabled, True  # no "Context impl DefaultImpl." logged
    try:  # a migration's application configured (anitya's): this context runs nothing
        return MigrationContext.configure(dialect=PGDialect())
    finally:
        log.disabled = was_disabled


def _reverse(operation: ops.MigrateOperation) -> ops.MigrateOperation | None:
    """The operation that undoes ``operation``, when its call says enough to know it.

    Alembic's ``reverse()`` is written for autogenerate, which knows the object before the
    change; an ``op.*`` call does not carry it, and ``reverse()`` then makes something up
    (a dropped index comes back on a column named "x", a dropped table with no columns), or
    returns a no-op (a column whose former type or default was not written, a renamed one).
    """
    if isinstance(operation, ops.RenameTableOp):
        return ops.RenameTableOp(
            operation.new_table_name, operation.table_name, schema=operation.schema
        )
    if isinstance(operation, ops.AlterColumnOp):
        return _reverse_alter_column(operation)
    if isinstance(operation, ops.CreateTableOp):  # its reverse() rebuilds the table, which
        # fails on an sa.Index() of its columns (networking-infoblox): the name is enough
        return ops.DropTableOp(operation.table_name, schema=operation.schema)
    if getattr(operation, "_reverse", False) is None:  # a drop, without the dropped object
        return None
    try:
        return _named_as_postgresql_does(operation).reverse()
    except Exception:  # no reverse: raw SQL, bulk inserts, ...
        return None


def _named_as_postgresql_does(operation: ops.MigrateOperation) -> ops.MigrateOperation:
    """A foreign key or unique constraint created without a name, named as PostgreSQL names
    it, so that its reverse drops it by that name (``op.drop_constraint(None, ...)`` cannot
    run)."""
    if isinstance(operation, ops.CreateForeignKeyOp) and operation.constraint_name is None:
        table, columns, kind = operation.source_table, operation.local_cols, "foreign key"
    elif isinstance(operation, ops.CreateUniqueConstraintOp) and not operation.constraint_name:
        table, columns, kind = operation.table_name, operation.columns, "unique"
    else:
        return operation
    named = copy.copy(operation)
    named.constraint_name = default_constraint_name(table, tuple(columns), kind)
    return named


def _reverse_alter_column(operation: ops.AlterColumnOp) -> ops.AlterColumnOp | None:
    """Each change reversed (a rename too, which ``reverse()`` forgets); None when the
    former type or default was not written. Nullability is a boolean: the former one is
    the other value."""
    if operation.modify_type is not None and operation.existing_type is None:
        return None
    if operation.modify_server_default is not False and operation.existing_server_default is False:
        return None
    known = copy.copy(operation)
    for attribute in ("existing_type", "modify_type"):  # ``existing_type=sa.Enum``: a class
        given = getattr(known, attribute)
        if isinstance(given, type) and issubclass(given, TypeEngine):
            setattr(known, attribute, given())
    if known.modify_nullable is not None and known.existing_nullable is None:
        known.existing_nullable = not known.modify_nullable
    reverse = known.reverse()
    if operation.modify_name is not None:
        reverse.column_name, reverse.modify_name = operation.modify_name, operation.column_name
    return reverse


def _one_line(source: str) -> str:
    """A call as one short line of a comment."""
    text = " ".join(source.split()).replace("( ", "(").replace(" )", ")")  # a call's lines
    return text if len(text) <= 72 else text[:69] + "..."

"""The view of one revision that rules judge, and the SQL helpers they share.

Rules see the whole revision, not a lone statement: a table created earlier in the same
revision has no traffic yet, so lock rules leave it alone.
"""

from __future__ import annotations

import ast as ast_py
import io
import re
import textwrap
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from alembic.operations import ops
from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType, TransactionStmtKind
from sqlalchemy.types import NullType, TypeEngine

from migsafe.capture import Capture
from migsafe.capture.reflection import sqlalchemy_type
from migsafe.capture.stand_ins import StandIn
from migsafe.capture.stood_in_values import UNKNOWN_MODIFIER
from migsafe.catalog import (
    BATCH_COPY,
    DEFAULT_SCHEMA,
    UNKNOWN_TYPE_SCHEMA,
    Catalog,
    default_constraint_name,
    is_bookkeeping_table,
    not_null_column,
)
from migsafe.findings import Diagnostic, Finding
from migsafe.locks import LockMode, foreign_key_targets
from migsafe.project import MigrationScript
from migsafe.project.environment import Environment, turned_off
from migsafe.rule import DOWNGRADE, Rule, py_literal, sql_code
from migsafe.script_names import named_as_imported
from migsafe.sql import Statement, TableName, parse_sql
from migsafe.sqltree import alter_commands, dropped_names, set_config_call

_CHECKPOINT_EVERY = 8  # statements between the copies schema_at keeps


@dataclass
class RevisionContext:
    """One revision as rules see it: its parsed statements, in order, both directions, and the
    facts several rules need, computed once.

    ``schema_before`` is the catalog of what the earlier revisions built (None when the script
    was checked alone): it knows a CHECK that an earlier revision validated.
    """

    script: MigrationScript
    upgrade: list[Statement]
    downgrade: list[Statement]
    upgrade_capture: Capture
    downgrade_capture: Capture
    pg_version: int
    schema_before: Catalog | None = None
    # tables an earlier revision of the same change (--since) creates: no traffic yet
    created_by_change: frozenset[TableName] = frozenset()
    environment: Environment = field(default_factory=Environment)  # what env.py sets
    notes: list[Diagnostic] = field(default_factory=list, init=False)  # what rules cannot judge
    _created: dict[tuple[str, TableName], int] = field(default_factory=dict, init=False)
    _position: dict[int, int] = field(default_factory=dict, init=False)
    _not_null_proven: dict[tuple[str, TableName, str], int] = field(
        default_factory=dict, init=False
    )
    _lines: dict[int, ast_py.stmt] | None = field(default=None, init=False)
    _order: tuple[Statement, ...] = field(default=(), init=False)  # both functions, in turn
    _order_index: dict[int, int] = field(default_factory=dict, init=False)
    _schema: Catalog | None = field(default=None, init=False)  # schema_at's, built so far
    _schema_at: int = field(default=0, init=False)
    # copies of the schema every _CHECKPOINT_EVERY statements: a rule that asks for an
    # earlier statement's schema starts again from the nearest, not from the beginning
    _checkpoints: dict[int, Catalog] = field(default_factory=dict, init=False)
    _source_lines: list[str] | None = field(default=None, init=False)
    # existing_table_statements per directions judged: some forty rules ask for them
    _on_existing: dict[tuple[str, ...], list[Statement]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._order = (*self.upgrade, *self.downgrade)
        self._order_index = {id(stmt): at for at, stmt in enumerate(self._order)}
        for statements in (self.upgrade, self.downgrade):
            for index, stmt in enumerate(statements):
                self._position[id(stmt)] = index
                created = _created_table(stmt) or self._renamed_new_table(stmt)
                if created is not None:
                    self._created.setdefault((stmt.direction, created), index)
        for statements in (self.upgrade, self.downgrade):
            self._not_null_proven.update(_validated_not_null_checks(statements))

    def _renamed_new_table(self, stmt: Statement) -> TableName | None:
        """The new name of a table this function created (zuul builds ``zuul_build_new``,
        drops ``zuul_build`` and renames the new one into its place): still new."""
        node = stmt.node
        if not (isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE):
            return None
        if stmt.table is None or (stmt.direction, stmt.table) not in self._created:
            return None
        return TableName(stmt.table.schema, node.newname)

    def setting_before(self, stmt: Statement, name: str) -> bool:
        """Whether ``name`` (``lock_timeout``) is in force for ``stmt``: env.py sets it for
        every migration, or a ``SET`` (or ``set_config()``) earlier in the same function
        gives it a value other than 0 (and no later one before ``stmt`` turns it off). A
        ``SET LOCAL`` lasts until its transaction ends (an autocommit block's commit)."""
        if self.environment.sets(name):
            return True
        session: bool | None = None
        local: bool | None = None
        for earlier in self.downgrade if stmt.direction == DOWNGRADE else self.upgrade:
            if earlier is stmt:
                break
            if not earlier.in_transaction or _ends_or_begins(earlier.node):
                local = None  # the transaction ended: SET LOCAL with it (not at a SAVEPOINT)
            setting = _setting(earlier.node, name)
            if setting is not None:
                value, is_local = setting
                if is_local:
                    local = not turned_off(value) if earlier.in_transaction else local
                else:
                    session = local = not turned_off(value)
        if not stmt.in_transaction:
            local = None
        return bool(local if local is not None else session)

    def tables_locked(self, stmt: Statement) -> Iterator[tuple[TableName, LockMode]]:
        """Every table ``stmt`` locks, with the mode: the table it names, the tables its new
        foreign keys refer to, the tables it drops and those their dropped keys refer to,
        and the tables of the indexes it drops (an index this function created, or one the
        history's catalog knows); none for a DROP IF EXISTS of batch mode's leftover copy."""
        if stmt.table is not None and stmt.lock is not None and not self.drops_nothing(stmt):
            yield stmt.table, stmt.lock
        creates = _created_table(stmt)
        for relation in foreign_key_targets(stmt.node):
            target = TableName(relation.schemaname or None, relation.relname)
            if creates is None or target.key != creates.key:  # a table referring to itself
                yield target, LockMode.SHARE_ROW_EXCLUSIVE
        if not self.drops_nothing(stmt):
            for schema, name in dropped_names(stmt.node, ObjectType.OBJECT_TABLE):
                yield TableName(schema, name), LockMode.ACCESS_EXCLUSIVE
        for referred in self.keys_dropped_to(stmt):  # their triggers there go too
            yield referred, LockMode.ACCESS_EXCLUSIVE
        if not getattr(stmt.node, "concurrent", False):
            for schema, name in dropped_names(stmt.node, ObjectType.OBJECT_INDEX):
                table = self.index_table(stmt, schema, name)
                if table is not None:
                    yield table, LockMode.ACCESS_EXCLUSIVE

    def locked_table(self, stmt: Statement) -> TableName | None:
        """The table ``stmt`` locks in its own mode (``stmt.lock``): the one it names, or
        for a DROP INDEX of one index, that index's table (when it is known)."""
        if stmt.table is not None or getattr(stmt.node, "concurrent", False):
            return stmt.table
        dropped = dropped_names(stmt.node, ObjectType.OBJECT_INDEX)
        return self.index_table(stmt, *dropped[0]) if len(dropped) == 1 else None

    def transactions(self, rule: Rule) -> Iterator[list[Statement]]:
        """The statements of each function ``rule`` judges, split where a transaction ends:
        ``autocommit_block()`` shows as a COMMIT, and its body runs outside any transaction,
        each statement on its own (so it is in none of the lists); a COMMIT through the bind
        ends one too."""
        for direction in rule.directions:
            current: list[Statement] = []
            for stmt in self.downgrade if direction == DOWNGRADE else self.upgrade:
                if not stmt.in_transaction or isinstance(stmt.node, ast.TransactionStmt):
                    if current:
                        yield current
                    current = []
                elif stmt.node is not None:
                    current.append(stmt)
            if current:
                yield current

    def earlier(self, stmt: Statement) -> Iterator[Statement]:
        """The statements of the same function before ``stmt``, in order."""
        for earlier in self.downgrade if stmt.direction == DOWNGRADE else self.upgrade:
            if earlier is stmt:
                return
            yield earlier

    def index_of(self, stmt: Statement) -> int:
        """Where ``stmt`` stands in its function's statements (by identity: two statements
        may be equal)."""
        return self._position[id(stmt)]

    def later_in_transaction(self, stmt: Statement) -> list[Statement]:
        """The statements after ``stmt`` that commit with it (up to the next COMMIT or
        autocommit statement of its function); none when ``stmt`` runs on its own."""
        if not stmt.in_transaction:
            return []
        statements = self.downgrade if stmt.direction == DOWNGRADE else self.upgrade
        found: list[Statement] = []
        for later in statements[self.index_of(stmt) + 1 :]:
            if not later.in_transaction or isinstance(later.node, ast.TransactionStmt):
                break
            found.append(later)
        return found

    def earlier_in_transaction(self, stmt: Statement) -> list[Statement]:
        """The statements before ``stmt`` in the same transaction (since the last COMMIT or
        autocommit statement of its function); none when ``stmt`` runs on its own."""
        if not stmt.in_transaction:
            return []
        found: list[Statement] = []
        for earlier in self.earlier(stmt):
            if not earlier.in_transaction or isinstance(earlier.node, ast.TransactionStmt):
                found = []  # a commit ends the transaction: its locks and rows are others'
            else:
                found.append(earlier)
        return found

    @cached_property
    def _named_as_imported(self) -> Callable[[str], str]:
        """Rewrites a hint's code to name what the script imports as it does."""
        return named_as_imported(self.script.tree)

    @cached_property
    def _batch_blocks(self) -> list[tuple[int, int, str]]:
        """The lines of the bodies of ``with ... batch_alter_table(...) as name`` blocks,
        and the name ("" without one)."""
        return [
            (
                node.body[0].lineno, node.end_lineno or node.body[0].lineno,
                item.optional_vars.id if isinstance(item.optional_vars, ast_py.Name) else "",
            )
            for node in self.script.statements()
            if isinstance(node, ast_py.With)
            for item in node.items
            if isinstance(item.context_expr, ast_py.Call)
            and isinstance(item.context_expr.func, ast_py.Attribute)
            and item.context_expr.func.attr == "batch_alter_table"
        ]  # fmt: skip

    @cached_property
    def _loop_bodies(self) -> list[tuple[int, int]]:
        """The lines of the bodies of ``for`` and ``while`` loops."""
        return [
            (node.body[0].lineno, node.end_lineno or node.body[0].lineno)
            for node in self.script.statements()
            if isinstance(node, ast_py.For | ast_py.AsyncFor | ast_py.While)
        ]

    def in_loop(self, line: int) -> bool:
        """``line`` is in a loop's body: its source names the loop's variables, so a recipe
        that moves it out of the loop cannot quote it (taas drops ``fk['name']``)."""
        return any(first <= line <= last for first, last in self._loop_bodies)

    def in_batch_block(self, line: int) -> bool:
        """``line`` is in a ``batch_alter_table()`` block: its operations run when it ends."""
        return self.batch_name(line) is not None

    def batch_name(self, line: int) -> str | None:
        """The name the ``batch_alter_table()`` block ``line`` is in calls its operations
        by (``batch_op``); None outside one."""
        return next(
            (name for first, last, name in self._batch_blocks if first <= line <= last), None
        )

    def own_statement(self, stmt: Statement) -> str:
        """The user's call as written, for a recipe that keeps it; as ``op.execute()`` of the
        statement alone when it came from SQL text (maybe of several statements), when it is
        a batch operation (it runs when its ``batch_alter_table()`` block ends, so moving the
        call alone changes nothing), or when its source cannot be told."""
        source = self.source_at(stmt.line)
        if (
            source is None
            or isinstance(stmt.operation, ops.ExecuteSQLOp)
            or self.in_batch_block(stmt.line)
        ):
            return f"op.execute({sql_code(stmt.sql)})"
        return source.strip()

    def drops_nothing(self, stmt: Statement) -> bool:
        """``DROP TABLE IF EXISTS`` of tables the schema does not hold: the copy Alembic's
        batch mode leaves only when a run failed (open-webui's ``_alembic_tmp_tag``), or,
        where the schema is known whole, a table no database the history built has
        (galaxy clears scratch tables a failed run may have left). No lock on a table the
        application uses, nothing it queries dropped."""
        node = stmt.node
        if not isinstance(node, ast.DropStmt) or not node.missing_ok:
            return False
        if node.removeType != ObjectType.OBJECT_TABLE:
            return False
        schema = self.schema_at(stmt)
        if schema is None:
            return False
        known = schema.exact and any(t.created_by for t in schema.tables.values())
        names = [
            (n[0] or DEFAULT_SCHEMA, n[1]) for n in dropped_names(node, ObjectType.OBJECT_TABLE)
        ]
        return all(
            name not in schema.tables and name not in schema.views
            and (known or name[1].startswith(BATCH_COPY))
            for name in names
        )  # fmt: skip

    def keys_dropped_to(self, stmt: Statement) -> list[TableName]:
        """The tables other than its own that the foreign keys ``stmt`` drops refer to (a
        DROP CONSTRAINT of one, a DROP TABLE of a table holding some): PostgreSQL removes the
        keys' triggers on those tables under ACCESS EXCLUSIVE as well (bagpipe's drop of
        a table with a key to neutron's ``networks``)."""
        dropped = {
            (schema_name or DEFAULT_SCHEMA, name)
            for schema_name, name in dropped_names(stmt.node, ObjectType.OBJECT_TABLE)
        }
        dropped_keys = list(alter_commands(stmt.node, AlterTableType.AT_DropConstraint))
        if not dropped and not dropped_keys:
            return []  # the schema is built only for the statements that drop something
        schema = self.schema_at(stmt)
        if schema is None:
            return []
        keys = [
            key for name in dropped if name in schema.tables
            for key in schema.tables[name].constraints.values()
        ]  # fmt: skip
        table = schema.tables.get(stmt.table.key) if stmt.table is not None else None
        for cmd in dropped_keys:
            if table is not None and cmd.name in table.constraints:
                keys.append(table.constraints[cmd.name])
        own = dropped | ({stmt.table.key} if stmt.table is not None else set())
        referred = {
            key.referred for key in keys if key.kind == "foreign key" and key.referred not in own
        }
        return [TableName.from_key(name) for name in sorted(r for r in referred if r)]

    def index_table(self, stmt: Statement, schema: str | None, name: str) -> TableName | None:
        """The table of the index ``name`` as ``stmt`` meets it: the ``table_name=`` of an
        Alembic drop_index(), an index this function created, or one the schema it meets
        holds (for a downgrade, one its upgrade created: buildbot's); None when unknown."""
        operation = stmt.operation
        if isinstance(operation, ops.DropIndexOp) and operation.table_name:
            return TableName(operation.schema, operation.table_name)
        for earlier in self.earlier(stmt):
            if isinstance(earlier.node, ast.IndexStmt) and earlier.node.idxname == name:
                return earlier.table
        meets = self.schema_at(stmt) or self.schema_before
        known = meets.indexes.get((schema or "public", name)) if meets else None
        if known is None:
            return None
        table_schema, table = known.table
        return TableName(
            None if table_schema == "public" and schema is None else table_schema, table
        )

    @cached_property
    def views_created(self) -> frozenset[TableName]:
        """The views the upgrade creates: an old table name kept alive after a rename."""
        return frozenset(
            view
            for stmt in self.upgrade
            if isinstance(stmt.node, ast.ViewStmt)
            and (view := TableName.of(stmt.node.view)) is not None
        )

    @property
    def tables_created(self) -> frozenset[TableName]:
        """The tables this revision's upgrade creates."""
        return frozenset(name for direction, name in self._created if direction != DOWNGRADE)

    def statements(self, rule: Rule) -> Iterator[Statement]:
        """The statements of the directions ``rule`` judges, each in its order."""
        for direction in rule.directions:
            yield from self.downgrade if direction == DOWNGRADE else self.upgrade

    def schema_at(self, stmt: Statement) -> Catalog | None:
        """The schema ``stmt`` meets: the earlier revisions' (nothing, for a script checked
        alone), then what its function did before it; a downgrade() statement meets what its
        upgrade() left, and None when that upgrade was not captured exactly to its end (what
        the rest did is not known). A table renamed, a column changed earlier in the revision
        are found as they are by then.

        Read it, do not change it: it is valid until the next call. Asked in the order of the
        statements, as rules do, it is built once (the 5,000-operation script stays linear).
        """
        if stmt.direction == DOWNGRADE and not self.upgrade_capture.exact:
            return None
        return self._schema_through(self._order_index[id(stmt)])

    def _schema_through(self, target: int) -> Catalog:
        """The schema with the first ``target`` statements of both functions applied,
        upgrade()'s first; built on from the last one asked for, or from the nearest copy
        kept before ``target`` (a copy shares the tables it does not change): airflow's
        squashed revision, whose rules ask for the start of the function at each DROP
        INDEX, rebuilt its schema from scratch each time."""
        start = target - target % _CHECKPOINT_EVERY
        while start > 0 and start not in self._checkpoints:
            start -= _CHECKPOINT_EVERY
        if self._schema is None or not start <= self._schema_at <= target:
            kept = self._checkpoints.get(start)
            origin = kept if kept is not None else self.schema_before or Catalog()
            self._schema, self._schema_at = origin.copy(), start if kept is not None else 0
        while self._schema_at < target:
            if self._schema_at % _CHECKPOINT_EVERY == 0 and self._schema_at > 0:
                self._checkpoints.setdefault(self._schema_at, self._schema.copy())
            node = self._order[self._schema_at].applied
            if node is not None:
                self._schema.apply(node, self.script.revision)
            self._schema_at += 1
        return self._schema

    def name_chosen(self, stmt: Statement, columns: tuple[str, ...], kind: str) -> str:
        """The name PostgreSQL gives a constraint that ``stmt`` adds to its table without one:
        not one another object of the schema has by then (``Catalog.chosen_name``)."""
        table = stmt.table
        assert table is not None
        schema = self.schema_at(stmt)
        if schema is None:
            return default_constraint_name(table.name, columns, kind)
        return schema.chosen_name(table.key, columns, kind)

    def name_code(self, name: str, kind: str) -> str:
        """A constraint's name as a recipe passes it to an ``op.*`` call: ``op.f("...")`` where
        env.py's naming convention for that kind (``ck``, ``fk``, ``uq``, ``pk``) builds on
        ``%(constraint_name)s``, which Alembic would otherwise wrap the name in (migsafe's own
        ``%(table_name)s_%(constraint_name)s_check``: the VALIDATE by name after it failed)."""
        template = dict(self.environment.naming_convention).get(kind, "")
        literal = py_literal(name)
        return f"op.f({literal})" if "%(constraint_name)s" in template else literal

    def schema_after_upgrade(self) -> Catalog | None:
        """The schema downgrade() starts from, what upgrade() left; None when the upgrade was
        not captured exactly to its end. Read it as ``schema_at``'s: valid until the next
        call."""
        if not self.upgrade_capture.exact:
            return None
        return self._schema_through(len(self.upgrade))

    def column_before(self, stmt: Statement, column: str, what: str) -> Any:
        """The column's ``type`` (or ``nullable``) when the statement runs (None: unknown).

        What the history's statements made it, which is what the database has, comes first;
        an ``existing_type=`` is only what the call claims, and revisions pass stale ones
        (copied from an older call, or the type before a change earlier in the revision).
        The claim counts when the history does not know the column, or only as a stood-in
        type. A column the history added to a table it never created counts as known.
        """
        schema = self.schema_at(stmt) if stmt.table is not None else None
        known = schema.column(stmt.table.key, column) if schema is not None and stmt.table else None
        if known is not None and not (what == "type" and is_unknown_type(known.type)):
            return getattr(known, what)
        return existing_type(stmt.operation) if what == "type" else None

    def existing_table_statements(self, rule: Rule) -> Iterator[Statement]:
        """Those statements on tables that existed before the function ran."""
        directions = tuple(rule.directions)
        found = self._on_existing.get(directions)
        if found is None:
            found = self._on_existing[directions] = [
                stmt for stmt in self.statements(rule)
                if stmt.node is not None and stmt.table and not self.is_new_table(stmt)
            ]  # fmt: skip
        return iter(found)

    def is_new_table(self, stmt: Statement, table: TableName | None = None) -> bool:
        """True when the table was created earlier in the same function, or (upgrade) by an
        earlier revision of the same change: either way it has no traffic yet."""
        name = table or stmt.table
        if name is None:
            return False
        if stmt.direction != DOWNGRADE and name in self.created_by_change:
            return True
        created_at = self._created.get((stmt.direction, name))
        return created_at is not None and created_at < self._position.get(id(stmt), -1)

    def not_null_proven(self, stmt: Statement, column: str) -> bool:
        """True when a validated ``CHECK (column IS NOT NULL)`` on the statement's table
        exists before it: from an earlier revision, or earlier in the same function. PostgreSQL
        12 and later then skip SET NOT NULL's scan."""
        table = stmt.table
        if table is None:
            return False
        proven_at = self._not_null_proven.get((stmt.direction, table, column))
        if proven_at is not None and proven_at < self._position.get(id(stmt), -1):
            return True
        catalog_table = self.schema_before.table(table.key) if self.schema_before else None
        return catalog_table is not None and any(
            c.kind == "check" and c.validated and c.not_null_column == column
            for c in catalog_table.constraints.values()
        )

    def _statement_at(self, line: int) -> ast_py.stmt | None:
        """The innermost simple statement (an expression or an assignment) spanning ``line``;
        the index is built on the first finding, as most revisions have none."""
        if self._lines is None:
            self._lines = {}
            for node in _simple_statements(self.script.tree.body):
                for spanned in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    known = self._lines.get(spanned)
                    if known is None or node.lineno >= known.lineno:
                        self._lines[spanned] = node
        return self._lines.get(line)

    def code_at(self, line: int) -> str | None:
        """``source_at(line)`` without its comments (midonet's ``op.execute(  # nosec``),
        to quote inside a comment of a recipe."""
        source = self.source_at(line)
        if source is None:
            return None
        lines = source.splitlines()
        try:
            for token in tokenize.generate_tokens(io.StringIO(source).readline):
                if token.type == tokenize.COMMENT:
                    row, column = token.start
                    lines[row - 1] = lines[row - 1][:column].rstrip()
        except (tokenize.TokenError, SyntaxError):
            return source
        return "\n".join(lines)

    def source_at(self, line: int) -> str | None:
        """The source of the innermost simple statement (e.g. an ``op.*`` call) at ``line``."""
        node = self._statement_at(line)
        if node is None:
            return None
        if self._source_lines is None:  # get_source_segment would split the file each call
            self._source_lines = self.script.source.splitlines(keepends=True)
        return textwrap.dedent(_segment(self._source_lines, node))

    def cannot_judge(self, rule: Rule, line: int, why: str) -> None:
        """A statement this rule would judge depends on something the capture does not know
        (a type from a module that is not installed): say so instead of guessing."""
        message = f"{rule.name} cannot judge this: {why}"
        self.notes.append(Diagnostic(self.script.path, message, fatal=False, line=line))

    def finding(self, rule: Rule, at: Statement | int, message: str, **hint_values: Any) -> Finding:
        """A finding of ``rule`` at a statement (or a line); a downgrade's says it is one."""
        line = at.line if isinstance(at, Statement) else at
        if isinstance(at, Statement) and at.direction == DOWNGRADE:
            message = f"In downgrade(): {message}"
        called = at.called_from if isinstance(at, Statement) else None
        if called is not None:  # langbot's helpers, called once per index
            where = f"in {called.helper}(), called at line {called.line}"
            message = f"{message[:-1]} ({where})." if message.endswith(".") else message
        node = self._statement_at(line)
        finding = rule.finding(
            self.script.path,
            line or 1,
            self.script.revision,
            message,
            node.end_lineno if node is not None else None,
            node.col_offset + 1 if node is not None else None,
            **hint_values,
        )
        if called is not None:
            finding = replace(finding, called_at=called.line)
        batch = self.batch_name(line) if line and not rule.rewrites_batch_blocks else None
        if batch is not None and _after_the_batch(finding.hint, batch):
            finding = replace(finding, hint=f"{_AFTER_BATCH_NOTE}\n{finding.hint}")
        if (
            "autocommit_block()" in finding.hint and rule.name != _AUTOCOMMIT_RULE
            and self.environment.transaction_per_migration is False  # solum, vmware-nsx
        ):  # fmt: skip
            finding = replace(finding, hint=f"{finding.hint}\n{_PER_MIGRATION_NOTE}")
        named = self._named_as_imported(finding.hint)
        if named != finding.hint:  # tacker's ``types.Uuid``, not ``tacker.db.types.Uuid``
            finding = replace(finding, hint=named)
        if _SA_NAME.search(finding.hint) and not _IMPORTS_SA.search(self.script.source):
            finding = replace(finding, hint=f"{finding.hint}\n{_IMPORT_SA_NOTE}")
        stood_in = sorted(set(_STOOD_IN_TYPE.findall(finding.hint)))
        if not stood_in:
            return finding
        note = (  # SQL rendered from the script holds a type of a module that is not here
            f"# {', '.join(f'{UNKNOWN_TYPE_SCHEMA}.{name}' for name in stood_in)}: the type "
            "the script names, from a module migsafe could not import; write it as the "
            "script does"
        )
        return replace(finding, hint=f"{finding.hint}\n{note}")


def _ends_or_begins(node: ast.Node | None) -> bool:
    return isinstance(node, ast.TransactionStmt) and node.kind not in _WITHIN_A_TRANSACTION


_WITHIN_A_TRANSACTION = {
    TransactionStmtKind.TRANS_STMT_SAVEPOINT,
    TransactionStmtKind.TRANS_STMT_RELEASE,
    TransactionStmtKind.TRANS_STMT_ROLLBACK_TO,
}


def _setting(node: ast.Node | None, name: str) -> tuple[str, bool] | None:
    """The value ``SET [LOCAL] name`` or ``SELECT set_config('name', value, is_local)``
    gives, and whether it is local to the transaction."""
    if isinstance(node, ast.VariableSetStmt) and node.name == name:
        value = "".join(str(getattr(a.val, "sval", getattr(a.val, "ival", "")))
                        for a in node.args or () if isinstance(a, ast.A_Const))  # fmt: skip
        return value, bool(node.is_local)
    called = set_config_call(node)
    if called is None or called[0] != name:
        return None
    return called[1], called[2]


_AUTOCOMMIT_RULE = "autocommit-without-transaction-per-migration"
# a recipe with an autocommit block, in a project whose env.py runs every revision in one
# transaction: the block would commit the revisions before it too (that rule's finding)
_PER_MIGRATION_NOTE = (
    "# autocommit_block() commits everything `alembic upgrade` did before it: first set\n"
    "# transaction_per_migration=True in env.py's context.configure()"
)
# a recipe with an autocommit block for a statement in a batch_alter_table() block: the
# block's operations run when it ends, the autocommit block at once
_AFTER_BATCH_NOTE = (
    "# after the batch_alter_table() block (its operations run when it ends), not in it:"
)
_OP_CALL = re.compile(r"^\s*(?:with\s+)?op\.", re.MULTILINE)  # a line calling op.*


def _after_the_batch(hint: str, name: str) -> bool:
    """A recipe for a statement of a ``batch_alter_table()`` block whose code goes after the
    block: it calls ``op.*`` (which runs at once, before the block's operations run as it
    ends: timesketch's foreign key on the column the block adds; prefect's index in an
    autocommit block), and not the block's own operations (those stay in it)."""
    own = name and re.search(rf"^\s*{re.escape(name)}\.", hint, re.MULTILINE)
    return bool(_OP_CALL.search(hint)) and not own


# recipes name SQLAlchemy ``sa.``, as Alembic's template imports it; a file that does not
# (waiverdb's ``from sqlalchemy import text``) is told
_SA_NAME = re.compile(r"(?<![\w.])sa\.")
_IMPORTS_SA = re.compile(r"^\s*import\s+sqlalchemy\s+as\s+sa\b", re.MULTILINE)
_IMPORT_SA_NOTE = "# sa: import sqlalchemy as sa (this file does not import it so)"
_STOOD_IN_TYPE = re.compile(rf'{UNKNOWN_TYPE_SCHEMA}\."([^"]+)"')


def _segment(lines: list[str], node: ast_py.stmt) -> str:
    """The source of ``node`` from the file's lines, its first line indented as the others
    are, so that ``dedent`` keeps its shape (the offsets count UTF-8 bytes)."""
    chunk = [line.encode() for line in lines[node.lineno - 1 : node.end_lineno]]
    chunk[-1] = chunk[-1][: node.end_col_offset]
    before = chunk[0][: node.col_offset]
    indent = before if not before.strip() else b" " * node.col_offset
    chunk[0] = indent + chunk[0][node.col_offset :]
    return b"".join(chunk).decode()


def _simple_statements(body: list[ast_py.stmt]) -> Iterator[ast_py.stmt]:
    """Every expression statement and assignment in ``body`` and the blocks nested in it,
    without descending into expressions (a script's expressions outnumber its statements
    twenty to one)."""
    for node in body:
        if isinstance(node, (ast_py.Expr, ast_py.Assign)):
            yield node
        for block in ("body", "orelse", "finalbody"):
            yield from _simple_statements(getattr(node, block, []))
        for clause in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
            yield from _simple_statements(clause.body)


def is_version_table(table: TableName | None) -> bool:
    """Bookkeeping (``catalog.is_bookkeeping_table``), never the application's table."""
    return table is not None and is_bookkeeping_table(table.name)


def table_values(table: TableName) -> dict[str, str]:
    """What recipes say of a table: its name for an Alembic call (``table``), the
    ``schema=`` argument that goes with it, and the name as SQL for ``op.execute``."""
    return {"table": table.name, "schema": table.schema_argument, "table_sql": table.sql}


def _created_table(stmt: Statement) -> TableName | None:
    """The table ``stmt`` creates. An ``op.create_table()`` that could not be rendered still
    creates its table (a type SQLAlchemy refused for it): what follows on that table in the
    same function meets no traffic, and is not judged as if the table were live."""
    node = stmt.node
    if isinstance(node, ast.CreateStmt):
        return TableName.of(node.relation)
    if isinstance(node, ast.CreateTableAsStmt):
        return TableName.of(node.into.rel)
    if node is None and isinstance(stmt.operation, ops.CreateTableOp):
        return TableName(stmt.operation.schema, stmt.operation.table_name)
    return None


def _validated_not_null_checks(
    statements: list[Statement],
) -> dict[tuple[str, TableName, str], int]:
    """Where in one function each ``CHECK (column IS NOT NULL)`` becomes validated: when it
    is added without NOT VALID, or when a later VALIDATE CONSTRAINT names it."""
    pending: dict[tuple[TableName, str], str] = {}  # (table, constraint name) -> column
    proven: dict[tuple[str, TableName, str], int] = {}
    for index, stmt in enumerate(statements):
        if stmt.table is None:
            continue
        for command in alter_commands(stmt.node, AlterTableType.AT_AddConstraint):
            column = not_null_column(command.def_)
            if column is None:
                continue
            if command.def_.skip_validation:
                pending[(stmt.table, command.def_.conname or "")] = column
            else:
                proven.setdefault((stmt.direction, stmt.table, column), index)
        for command in alter_commands(stmt.node, AlterTableType.AT_ValidateConstraint):
            column = pending.get((stmt.table, command.name))
            if column is not None:
                proven.setdefault((stmt.direction, stmt.table, column), index)
    return proven


def is_unknown_type(type_node: ast.TypeName | None) -> bool:
    """A type from a module that could not be imported (rendered by a stand-in), or one
    whose length or precision comes from such a module (``varchar(?)``)."""
    return type_node is not None and (
        type_node.names[0].sval == UNKNOWN_TYPE_SCHEMA or has_unknown_modifier(type_node)
    )


def has_unknown_modifier(type_node: ast.TypeName) -> bool:
    """Its length or precision is a stood-in constant (``stood_in_values``)."""
    return any(_modifier(m) == UNKNOWN_MODIFIER for m in type_node.typmods or ())


def _modifier(node: object) -> int | None:
    return getattr(node.val, "ival", None) if isinstance(node, ast.A_Const) else None


def existing_type(operation: object) -> ast.TypeName | None:
    """The ``existing_type=`` of an Alembic call, as PostgreSQL's parser reads it; None when
    it was not given or cannot be rendered for PostgreSQL (unknown)."""
    existing = getattr(operation, "existing_type", None)
    if existing is None:
        existing = getattr(operation, "kw", {}).get("existing_type")
    return type_node(existing)


def type_node(sql_type: object) -> ast.TypeName | None:
    """A SQLAlchemy type (or type class) as PostgreSQL's parser reads it; None when there is
    none or it cannot be rendered for PostgreSQL (unknown)."""
    if isinstance(sql_type, type) and issubclass(sql_type, TypeEngine):
        sql_type = sql_type()  # ``existing_type=sa.Integer``: SQLAlchemy takes the class too
    if not isinstance(sql_type, TypeEngine):
        return None
    try:
        from sqlalchemy.dialects import postgresql

        rendered = sql_type.compile(dialect=postgresql.dialect())
        (raw,) = parse_sql(f"SELECT NULL::{rendered}")
    except Exception:  # a type this dialect cannot render: unknown
        return None
    return raw.stmt.targetList[0].val.typeName


def type_parts(type_node: ast.TypeName) -> tuple[str, list[int]]:
    """A type's name (the last part: ``varchar``) and its numeric modifiers (``[20]``)."""
    name = type_node.names[-1].sval
    mods = [m.val.ival for m in type_node.typmods or () if isinstance(m, ast.A_Const)]
    return name, mods


def type_name(type_node: ast.TypeName | None) -> str:
    """A readable SQL type, e.g. ``varchar(20)`` or ``int4``."""
    if type_node is None:
        return "?"
    name = ".".join(s.sval for s in type_node.names if s.sval != "pg_catalog")
    mods = [
        "?" if value == UNKNOWN_MODIFIER else str(value)
        for value in map(_modifier, type_node.typmods or ())
        if value is not None
    ]
    array = "[]" if type_node.arrayBounds else ""
    return f"{name}({', '.join(mods)}){array}" if mods else f"{name}{array}"


_PG_TYPES = "sqlalchemy.dialects.postgresql"


def column_type_code(operation: object, fallback: ast.TypeName | None) -> str:
    """The SQLAlchemy type of an added column as code, e.g. ``sa.String(length=20)``."""
    column = getattr(operation, "column", None)
    column_type = getattr(column, "type", None)
    if isinstance(column_type, StandIn):  # the application's own type, as the script names it
        return column_type.code_name
    if column_type is None:  # added in raw SQL: the type reflection would give
        column_type = sqlalchemy_type(fallback, Catalog())
    if isinstance(column_type, NullType):
        return "sa.types.NullType()"
    prefix = "postgresql" if type(column_type).__module__.startswith(_PG_TYPES) else "sa"
    return f"{prefix}.{column_type!r}"


def constraint_types(column: ast.ColumnDef) -> set[ConstrType]:
    return {c.contype for c in column.constraints or () if isinstance(c, ast.Constraint)}


SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def is_serial(column: ast.ColumnDef) -> bool:
    return bool(column.typeName) and column.typeName.names[-1].sval in SERIAL_TYPES


NOT_NULL = {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY}  # a column's constraints
_GENERATES_VALUES = {ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}


def fills_existing_rows(column: ast.ColumnDef) -> bool:
    """Whether existing rows get a value: from a sequence, a generated expression or a
    default. ``DEFAULT NULL`` (what ``server_default=sa.null()`` renders) is no default here:
    the NULL it fills in fails NOT NULL all the same."""
    return is_serial(column) or any(
        c.contype in _GENERATES_VALUES
        or (c.contype == ConstrType.CONSTR_DEFAULT and not is_null_constant(c.raw_expr))
        for c in column.constraints or ()
    )


def is_null_constant(expr: ast.Node | None) -> bool:
    """``NULL``, or ``NULL::type`` (what ``server_default=sa.null()`` renders)."""
    if isinstance(expr, ast.TypeCast):
        expr = expr.arg
    return isinstance(expr, ast.A_Const) and expr.isnull

"""Turn the SQL that a migration emits into parsed statements that rules can judge.

Parsing uses pglast (libpg_query, PostgreSQL's own parser), so a statement written by hand in
``op.execute()`` and one rendered from ``op.create_index()`` look exactly the same to a rule.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, TypeVar

import pglast
from alembic.operations import MigrateOperation
from pglast import ast
from pglast.enums import ObjectType, TransactionStmtKind

from migsafe.locks import LockMode, lock_for
from migsafe.plpgsql import do_body
from migsafe.rule import py_literal
from migsafe.sqltree import walk

N = TypeVar("N", bound=ast.Node)


class EmittedSQL(Protocol):
    """What a migration emitted, as capture records it (``migsafe.capture.Emitted``)."""

    @property
    def sql(self) -> str | None: ...
    @property
    def line(self) -> int: ...
    @property
    def operation(self) -> MigrateOperation | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def parsed(self) -> tuple[tuple[str, ast.Node], ...]: ...
    @property
    def parse_error(self) -> str | None: ...
    @property
    def called_from(self) -> CallSite | None: ...


@dataclass(frozen=True)
class CallSite:
    """A statement issued inside a helper of the migration file: the helper, and the line
    that called it (in upgrade(), downgrade(), or the helper calling it). Several calls of
    one helper issue their statements at its one line; the call tells them apart (langbot,
    kadi)."""

    helper: str
    line: int


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a migration, with its origin and the lock it takes."""

    sql: str
    node: ast.Node | None
    line: int
    operation: MigrateOperation | None
    in_transaction: bool
    table: TableName | None
    lock: LockMode | None
    error: str | None = None
    direction: str = "upgrade"  # or downgrade: the function that emitted it
    called_from: CallSite | None = None
    # run inside a DO block (whose own statement applies it to the schema): judged as the
    # migration's own, not applied again
    in_block: bool = False

    @property
    def applied(self) -> ast.Node | None:
        """The node a schema built from the statements applies (None: none)."""
        return None if self.in_block else self.node

    def nodes(self, kind: type[N]) -> list[N]:
        """Every node of type ``kind`` in the statement's tree, in order: the tree is walked
        once, for every rule that looks below its top."""
        return self._nodes_by_kind.get(kind, [])  # type: ignore[return-value]

    @cached_property
    def _nodes_by_kind(self) -> dict[type, list[ast.Node]]:
        found: dict[type, list[ast.Node]] = {}
        for node in walk(self.node):
            found.setdefault(type(node), []).append(node)
        return found


@dataclass(frozen=True)
class Unparsed:
    """An operation that could not be rendered to SQL."""

    line: int
    message: str


_ENDS_TRANSACTION = {
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
    TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED,
    TransactionStmtKind.TRANS_STMT_ROLLBACK_PREPARED,
}
_STARTS_TRANSACTION = {TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START}


# what SQLAlchemy's PostgreSQL compiler refuses, online as offline: the statement fails on
# every deploy, which a rule (type-does-not-exist) reports rather than a notice
_REFUSED_BY_POSTGRESQL = ("PostgreSQL ENUM type requires a name",)


def refused_by_postgresql(error: str | None) -> bool:
    return error is not None and any(reason in error for reason in _REFUSED_BY_POSTGRESQL)


def statements(
    emitted: Iterable[EmittedSQL],
    direction: str = "upgrade",
    pg_version: int | None = None,
    autocommit: bool = False,
) -> tuple[list[Statement], list[Unparsed]]:
    """Parse everything one direction of a migration emitted, tracking the transaction;
    each statement's lock is the one it takes on ``pg_version`` (None: the newest).

    Alembic runs a migration inside a transaction; ``autocommit_block()`` shows up as a
    ``COMMIT`` before and a ``BEGIN`` after its body, so the statements in between are the
    ones that run outside any transaction. On a connection in ``autocommit`` (env.py's
    isolation level), every statement runs on its own: Alembic's BEGIN begins nothing.
    """
    result: list[Statement] = []
    problems: list[Unparsed] = []
    in_transaction = not autocommit
    for item in emitted:
        if item.sql is None:
            if item.error is not None and not refused_by_postgresql(item.error):
                name = type(item.operation).__name__ if item.operation else "operation"
                problems.append(Unparsed(item.line, f"{name} cannot be rendered: {item.error}"))
            unrendered = Statement(
                "", None, item.line, item.operation, in_transaction, None, None, item.error,
                direction, item.called_from,
            )  # fmt: skip
            result.append(unrendered)
            continue
        if item.parse_error is not None:  # a rule (sql-does-not-parse) reports it
            result.append(
                Statement(
                    item.sql, None, item.line, item.operation, in_transaction, None, None,
                    item.parse_error, direction, item.called_from,
                )
            )  # fmt: skip
            continue
        for sql, node in item.parsed:
            if isinstance(node, ast.TransactionStmt):
                if node.kind in _ENDS_TRANSACTION:
                    in_transaction = False
                elif node.kind in _STARTS_TRANSACTION:
                    in_transaction = not autocommit
            result.append(
                Statement(
                    sql,
                    node,
                    item.line,
                    item.operation,
                    in_transaction,
                    target_table(node),
                    lock_for(node, pg_version),
                    direction=direction,
                    called_from=item.called_from,
                )
            )
            for inner in _run_in_block(node):  # zou's DO blocks add CHECKs, rewrite, index
                result.append(
                    Statement(
                        _text(inner), inner, item.line, None, in_transaction,
                        target_table(inner), lock_for(inner, pg_version),
                        direction=direction, called_from=item.called_from, in_block=True,
                    )
                )  # fmt: skip
    return result, problems


def _run_in_block(node: ast.Node) -> tuple[ast.Node, ...]:
    """The statements a DO block runs that change the schema or rows, each judged as one the
    migration runs itself (one a branch of the block guards may run: the rules' verdict is
    for a database where it does); not its queries (the conditions, ``SELECT ... INTO``)."""
    if not isinstance(node, ast.DoStmt):
        return ()
    body = do_body(node)
    if body is None:
        return ()
    return tuple(s for s in body.statements if not isinstance(s, ast.SelectStmt))


def _text(node: ast.Node) -> str:
    from pglast.stream import RawStream  # printing: only for the few DO blocks

    return RawStream()(node)


def split_statements(text: str) -> tuple[tuple[str, ast.Node], ...]:
    """Each statement of ``text`` with its own SQL; raises pglast's ParseError. pglast gives
    locations in characters of the str (not bytes of the UTF-8 PostgreSQL parsed)."""
    parsed = []
    for raw in parse_sql(text):
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(text)
        parsed.append((text[start:end].strip(), raw.stmt))
    return tuple(parsed)


def parse_sql(text: str) -> tuple[ast.RawStmt, ...]:
    """``pglast.parse_sql``, without checking again what PostgreSQL's parser built.

    pglast checks and converts every attribute of every node it makes (``Node.__setattr__``),
    which is right for nodes built by hand and redundant for its parser's own output: that
    check was two thirds of the time parsing took (docs/benchmarks.md). While this thread
    parses, the parser's nodes are stored as they come; every other node, built by hand or
    in another thread, is checked as before. tests/test_sql.py compares the trees both ways
    on the SQL of every rule's examples and on statements of every shape the rules read.
    """
    _unchecked.active = True
    try:
        return pglast.parse_sql(text)
    finally:
        _unchecked.active = False


_unchecked = threading.local()
_checked_setattr = ast.Node.__setattr__


def _set_attribute(node: ast.Node, name: str, value: object) -> None:
    if getattr(_unchecked, "active", False):
        object.__setattr__(node, name, value)
    else:
        _checked_setattr(node, name, value)


def _set_boolean(node: ast.Node, name: str, value: object) -> None:
    """The parser gives a Boolean's value as an int; the check made it a bool."""
    _set_attribute(node, name, bool(value) if name == "boolval" and value is not None else value)


ast.Node.__setattr__ = _set_attribute  # type: ignore[method-assign]
ast.Boolean.__setattr__ = _set_boolean  # type: ignore[method-assign]


def clipped(sql: str, width: int = 60) -> str:
    """``sql`` on one line, cut to ``width`` characters: for a message that quotes it."""
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@dataclass(frozen=True, order=True)
class TableName:
    """A table as a statement names it: ``schema`` is None when the statement leaves it to the
    search path. Rendered as SQL for messages, as Alembic arguments for recipes."""

    schema: str | None
    name: str

    @classmethod
    def from_key(cls, key: tuple[str, str]) -> TableName:
        """The table the catalog knows as ``key`` (``public`` left out, as statements do)."""
        schema, name = key
        return cls(None if schema == "public" else schema, name)

    @classmethod
    def of(cls, relation: ast.RangeVar | None) -> TableName | None:
        if relation is None:
            return None
        return cls(relation.schemaname or None, relation.relname)

    @property
    def sql(self) -> str:
        """``"users"`` or ``"app"."users"``: quoted, so a dot in a name stays unambiguous."""
        return ".".join(quote_identifier(part) for part in (self.schema, self.name) if part)

    @property
    def schema_argument(self) -> str:
        """``, schema="app"`` for an Alembic call when qualified, else nothing."""
        return f", schema={py_literal(self.schema)}" if self.schema else ""

    @property
    def key(self) -> tuple[str, str]:
        """The catalog's name for it: ``public`` when the statement left the schema out."""
        return (self.schema or "public", self.name)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A string constant as SQL writes it (an enum label in a recipe's ADD VALUE)."""
    return "'" + text.replace("'", "''") + "'"


def keeps_order(old: Sequence[str], new: Sequence[str]) -> bool:
    """``new`` orders the labels it shares with ``old`` as ``old`` does."""
    return [label for label in new if label in old] == [label for label in old if label in new]


def add_enum_values(
    type_sql: str, old: Sequence[str], new: Sequence[str], only: Collection[str] | None = None
) -> list[str]:
    """The statements that give an enum type with the labels ``old`` those of ``new`` it
    lacks (or just ``only`` of them), in ``new``'s order, each of which may run again. A
    label that comes before one the type has is added BEFORE it: a plain ADD VALUE puts it
    last, and the order is what ORDER BY and ``<`` compare (fidesops adds 'bigquery'
    before 'saas'). When ``new`` orders the labels the type has otherwise, which ADD VALUE
    cannot change, each goes last."""
    in_order = keeps_order(old, new)
    has = set(old)
    statements = []
    for at, label in enumerate(new):
        if label in has or (only is not None and label not in only):
            continue
        following = next((later for later in new[at + 1 :] if later in has), None)
        place = f" BEFORE {quote_literal(following)}" if following and in_order else ""
        statements.append(
            f"ALTER TYPE {type_sql} ADD VALUE IF NOT EXISTS {quote_literal(label)}{place}"
        )
        has.add(label)
    return statements


def target_table(node: ast.Node) -> TableName | None:
    """The table a statement changes or locks, when the statement names one."""
    relation = getattr(node, "relation", None)
    if isinstance(relation, ast.RangeVar) and not isinstance(node, ast.ReindexStmt):
        return TableName.of(relation)
    if isinstance(node, ast.TruncateStmt) and node.relations:
        return TableName.of(node.relations[0])
    if isinstance(node, ast.DropStmt) and node.removeType in _ON_A_TABLE and node.objects:
        # DROP TRIGGER name ON table (and RULE, POLICY): ACCESS EXCLUSIVE on the table
        names = [part.sval for part in node.objects[0]]
        if len(names) >= 2:
            return TableName(names[-3] if len(names) > 2 else None, names[-2])
    return None


_ON_A_TABLE = {ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_RULE, ObjectType.OBJECT_POLICY}

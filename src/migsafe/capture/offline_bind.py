"""What ``op.get_bind()`` returns offline: a real SQLAlchemy ``Connection`` on a database that
answers as a freshly migrated, empty PostgreSQL would, and records everything it is asked to
run.

Alembic's offline mode hands migrations a mock that can only print, so a script that reads
(``bind.execute(...).fetchall()``, ``sa.inspect(bind)``, an ORM ``Session(bind=...)``) or
commits cannot run to the end under ``alembic upgrade --sql``. Here the connection is a real
one, of a PostgreSQL dialect whose DBAPI is a recorder: SQLAlchemy compiles, begins, commits
and reflects as it would against a server, and each statement goes into the migration's SQL
stream (see ``recorder.py``). Reflection sees the schema the history has built up to here
(``reflection.py``); every query gets the answer a database without rows gives: none, except
for a query that always returns exactly one (``SELECT 1``, ``SELECT count(*) FROM t``,
``INSERT ... VALUES ... RETURNING``). The dialect reports the PostgreSQL version
being checked for, and placeholders render as ``$1``, which PostgreSQL's parser reads.
"""

from __future__ import annotations

import math
import re
import types
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar, NamedTuple

import pglast
from pglast import ast
from pglast.enums import SetOperation, SubLinkType
from sqlalchemy import create_engine, event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.base import PGDialect, PGTypeCompiler
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import UnsupportedCompilationError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import JSON, TypeEngine

from migsafe.capture.catalog_queries import catalog_answer
from migsafe.capture.one_row import one_row, query_shape, row_of_types, star_columns
from migsafe.capture.recorder import Recorder
from migsafe.capture.reflection import CatalogReflection
from migsafe.catalog import DEFAULT_SCHEMA, Catalog, Column, Name, qualified_name
from migsafe.sql import parse_sql
from migsafe.sqltree import literal

Row = tuple[Any, ...]
Description = list[tuple[Any, ...]]

# aggregates, and what each gives over no rows (one row, where a plain SELECT gives none)
_AGGREGATES = {"count": 0, **dict.fromkeys(
    ("max", "min", "sum", "avg", "array_agg", "string_agg", "json_agg", "jsonb_agg",
     "bool_and", "bool_or", "every"))}  # fmt: skip


# functions that return rows (a set), as PostgreSQL's catalog marks them (proretset)
_SET_RETURNING = frozenset((
    "unnest", "generate_series", "generate_subscripts", "regexp_matches",
    "regexp_split_to_table", "string_to_table", "jsonb_array_elements",
    "jsonb_array_elements_text", "json_array_elements", "json_array_elements_text",
    "jsonb_each", "jsonb_each_text", "json_each", "json_each_text", "jsonb_object_keys",
    "json_object_keys", "jsonb_to_recordset", "json_to_recordset", "jsonb_populate_recordset",
    "json_populate_recordset", "jsonb_path_query", "pg_get_keywords", "pg_ls_dir",
))  # fmt: skip


class Answer(NamedTuple):
    """What the offline database answers a statement: its rows and cursor description
    (``None``: no result set at all), and whether those rows are what any database gives
    (``whole``: an INSERT's returned rows, all of whose values are known), which reading is
    no guess about the data."""

    rows: list[Row]
    description: Description | None
    whole: bool = False


def empty_answer(
    sql: str,
    catalog: Catalog | None = None,
    generated: dict[Name, int] | None = None,
    pg_version: int | None = None,
) -> Answer:
    """What an empty database answers ``sql``.

    An ``INSERT ... RETURNING`` returns the rows it inserted: the constants it was given, and
    for a serial or identity column (as ``catalog`` knows it), or a ``nextval()``, the next
    number of its sequence, counted in ``generated`` (a new database's sequences start at
    1). ``SHOW server_version`` gives ``pg_version``, the major being checked for (fides
    branches on it). A query of PostgreSQL's catalog gets the catalog's answer
    (``catalog_queries.py``).
    """
    try:
        parsed = parse_sql(sql)
    except pglast.parser.ParseError:
        return Answer([], None)
    if not parsed:
        return Answer([], None)
    node = parsed[-1].stmt
    if isinstance(node, ast.SelectStmt):
        answered = catalog_answer(node, catalog)  # ``information_schema.columns``, ...
        if answered is not None:
            return Answer(answered[0], _description(answered[1]), whole=True)
        return _select_answer(node, catalog, generated)
    if isinstance(node, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)):
        if node.returningClause is None:
            return Answer([], None)
        names = _column_names(node.returningClause.exprs)
        if not isinstance(node, ast.InsertStmt):
            return Answer([], _description(names))
        returned = _returned(node, node.returningClause.exprs, catalog, generated)
        whole = bool(returned) and all(value is not None for row in returned for value in row)
        return Answer(returned, _description(names), whole)
    if isinstance(node, ast.VariableShowStmt):
        return Answer([(_shown(node.name, pg_version),)], _description([node.name]))
    if isinstance(node, ast.ExplainStmt):
        return Answer([], _description(["QUERY PLAN"]))
    return Answer([], None)


def _shown(setting: str, pg_version: int | None) -> str | None:
    """A setting's value as SHOW gives it: the server's version, else not known."""
    if pg_version is not None and setting == "server_version":
        return f"{pg_version}.0"
    if pg_version is not None and setting == "server_version_num":
        return str(pg_version * 10_000)
    return None


def _select_answer(
    node: ast.SelectStmt, catalog: Catalog | None, generated: dict[Name, int] | None
) -> Answer:
    if node.op != SetOperation.SETOP_NONE or node.valuesLists:
        rows = len(node.valuesLists or ())
        width = len(node.valuesLists[0]) if node.valuesLists else 1
        return Answer([(None,) * width] * rows, _description(["column"] * width))
    targets = list(node.targetList or ())
    starred = star_columns(node, catalog)
    names = [column.name for column in starred] if starred else _column_names(targets)
    if node.fromClause:
        one_row = not node.groupClause and all(_aggregate(t.val) for t in targets)
    else:
        one_row = node.whereClause is None
        if one_row and any(_set_returning(t.val) for t in targets):
            labels = _enum_labels(targets[0].val, catalog) if len(targets) == 1 else None
            # a type's labels the schema built holds are every database's: no read
            rows = [(label,) for label in labels or ()]
            return Answer(rows, _description(names), whole=labels is not None)
    if not one_row:
        return Answer([], _description(names))
    return Answer([tuple(_value_of(t.val, generated) for t in targets)], _description(names))


def _set_returning(value: ast.Node | None) -> bool:
    """A call of a function that returns rows: without FROM, as many as it gives (over an
    empty database's values, none), not the one row of a plain ``SELECT 1``."""
    return isinstance(value, ast.FuncCall) and value.funcname[-1].sval.lower() in _SET_RETURNING


def _enum_labels(value: ast.Node | None, catalog: Catalog | None) -> list[str] | None:
    """The labels of ``unnest(enum_range(NULL::type))`` (tiled reads its enum's labels to
    make a type without one), for a type the schema built so far holds."""
    if catalog is None or not isinstance(value, ast.FuncCall) or len(value.args or ()) != 1:
        return None
    if value.funcname[-1].sval.lower() != "unnest":
        return None
    inner = value.args[0]
    if not (
        isinstance(inner, ast.FuncCall) and inner.funcname[-1].sval.lower() == "enum_range"
        and len(inner.args or ()) == 1 and isinstance(inner.args[0], ast.TypeCast)
    ):  # fmt: skip
        return None
    parts = [name.sval for name in inner.args[0].typeName.names]
    key = (parts[0] if len(parts) > 1 else DEFAULT_SCHEMA, parts[-1])
    return catalog.enums.get(key)


def _aggregate(value: ast.Node | None) -> str | None:
    if isinstance(value, ast.FuncCall):
        name = value.funcname[-1].sval.lower()
        return name if name in _AGGREGATES else None
    return None


def _value_of(value: ast.Node | None, generated: dict[Name, int] | None = None) -> Any:
    """A constant's value, an aggregate over no rows, EXISTS of nothing, the next number of
    a sequence (``nextval('ab_view_menu_id_seq')``: superset's ORM models name theirs, and
    the ORM wants the new row's key back); else unknown."""
    if (sequence := _sequence_advanced(value)) is not None and generated is not None:
        generated[sequence] = number = generated.get(sequence, 0) + 1
        return number
    if isinstance(value, ast.A_Const):
        return literal(value)
    if name := _aggregate(value):
        return _AGGREGATES[name]
    if isinstance(value, ast.SubLink) and value.subLinkType == SubLinkType.EXISTS_SUBLINK:
        return False
    return None


def _sequence_advanced(value: ast.Node | None) -> Name | None:
    """The sequence ``nextval('name')`` (or ``nextval('s.name'::regclass)``) advances."""
    if not (
        isinstance(value, ast.FuncCall) and value.funcname[-1].sval.lower() == "nextval"
        and len(value.args or ()) == 1
    ):  # fmt: skip
        return None
    argument = value.args[0]
    if isinstance(argument, ast.TypeCast):
        argument = argument.arg
    if not (isinstance(argument, ast.A_Const) and isinstance(argument.val, ast.String)):
        return None
    schema, _, name = argument.val.sval.rpartition(".")
    return (schema or DEFAULT_SCHEMA, name)


def _returned(
    node: ast.InsertStmt,
    returning: Any,
    catalog: Catalog | None,
    generated: dict[Name, int] | None,
) -> list[Row]:
    """What ``INSERT ... RETURNING`` returns in an empty database, row by row: for each
    column it names, the value given for it, or one the database makes."""
    table = catalog.table(qualified_name(node.relation)) if catalog is not None else None
    given = [target.name for target in node.cols or ()]
    columns = _referenced_columns(returning)
    rows = []
    for inserted in _inserted_values(node):
        made: dict[str | None, Any] = {}  # each column's value once (``id, id AS id__1``)
        for name in columns:
            if name in made:
                continue
            column = table.columns.get(name) if table is not None and name else None
            value = inserted[given.index(name)] if inserted is not None and name in given else None
            if value is not None and not isinstance(value, ast.SetToDefault):  # not DEFAULT
                made[name] = _value_of(value, generated)
            elif column is not None and generated is not None and _generated(column):
                key = _sequence_of(column) or (table.name[0], f"{table.name[1]}.{name}")
                generated[key] = number = generated.get(key, 0) + 1
                made[name] = number if _numbered(column) else uuid.UUID(int=number)
            else:
                made[name] = None
        rows.append(tuple(made[name] for name in columns))
    return rows


def _referenced_columns(targets: Any) -> list[str | None]:
    """The column each RETURNING expression names (``t.id AS id__1``: ``id``), else None."""
    return [
        getattr(target.val.fields[-1], "sval", None)
        if isinstance(target.val, ast.ColumnRef)
        else None
        for target in targets or ()
    ]


def _inserted_values(node: ast.InsertStmt) -> list[list[ast.Node] | None]:
    """The expressions an INSERT gives its columns, one list per row it inserts (None where
    they cannot be told): ``VALUES (...), (...)``; ``DEFAULT VALUES``; and the form SQLAlchemy
    inserts several ORM rows with, ``SELECT nextval('s'), p1 FROM (VALUES ('a', 0), ('b',
    1)) AS imp_sen(p1, sen_counter)``, where each row is the select list over one VALUES."""
    select = node.selectStmt
    if select is None:
        return [None]  # DEFAULT VALUES
    if not isinstance(select, ast.SelectStmt):
        return []
    if select.valuesLists:
        return [list(values) for values in select.valuesLists]
    source = select.fromClause[0] if select.fromClause and len(select.fromClause) == 1 else None
    if not (
        isinstance(source, ast.RangeSubselect) and isinstance(source.subquery, ast.SelectStmt)
        and source.subquery.valuesLists and source.alias and source.alias.colnames
    ):  # fmt: skip
        return []
    names = [name.sval for name in source.alias.colnames]
    return [
        [_over(target.val, dict(zip(names, values, strict=False))) for target in select.targetList]
        for values in source.subquery.valuesLists
    ]


def _over(expression: ast.Node, row: dict[str, ast.Node]) -> ast.Node:
    """``expression`` with a reference to a column of ``row`` (through a cast) replaced by the
    value ``row`` gives it."""
    inner = expression.arg if isinstance(expression, ast.TypeCast) else expression
    if isinstance(inner, ast.ColumnRef) and len(inner.fields) == 1:
        return row.get(getattr(inner.fields[0], "sval", ""), expression)
    return expression


_NEXTVAL = re.compile(r"nextval\('(?:(\w+)\.)?(\w+)'")


def _sequence_of(column: Column) -> Name | None:
    """The sequence a serial column's default takes its numbers from, which an INSERT that
    names it (``nextval('t_id_seq')``) advances too."""
    found = _NEXTVAL.search(column.default or "")
    return (found.group(1) or DEFAULT_SCHEMA, found.group(2)) if found else None


def _numbered(column: Column) -> bool:
    """A serial or identity column: a new database numbers its rows from 1."""
    return column.identity or "nextval(" in (column.default or "")


_UUID_DEFAULTS = ("gen_random_uuid(", "uuid_generate_v", "uuidv4(", "uuidv7(")


def _generated(column: Column) -> bool:
    """A column whose value the database makes: a number (``_numbered``), or a new uuid from
    its default (backend.ai's ``uuid_generate_v4()``), which is given as the n-th uuid of
    the column, the same on every run."""
    default = (column.default or "").lower()
    return _numbered(column) or any(call in default for call in _UUID_DEFAULTS)


def _column_names(targets: Any) -> list[str]:
    names = []
    for target in targets or ():
        value = target.val
        if target.name:
            names.append(target.name)
        elif isinstance(value, ast.ColumnRef):
            last = value.fields[-1]
            names.append(getattr(last, "sval", "?column?"))
        elif isinstance(value, ast.FuncCall):
            names.append(value.funcname[-1].sval)
        else:
            names.append("?column?")
    return names or ["?column?"]


def _description(names: list[str]) -> Description:
    return [(name, None, None, None, None, None, None) for name in names]


_CHANGES_ROWS = re.compile(r"\s*(UPDATE|DELETE)\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\$(\d+)(?!\d)")


def with_literals(operation: str, parameters: Any) -> str:
    """The statement with each value bound to it that is a plain constant written in, as
    ``alembic upgrade --sql`` writes the values of an ``op.execute()`` (literal binds): what
    rules judge and recipes show (mistral's ``session.execute(t.update().values(ns=''))``
    gave a recipe setting ``ns = $1``). Other values keep their ``$n``."""
    if not parameters or not isinstance(parameters, (tuple, list, dict)):
        return operation
    if isinstance(parameters, dict) or not _PLACEHOLDER.search(operation):
        return _with_driver_literals(operation, parameters)

    def literal(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        value = parameters[index] if index < len(parameters) else _NOT_PLAIN
        return _sql_literal(value) or match.group(0)

    return _PLACEHOLDER.sub(literal, operation)


# the placeholders of the application's own driver (psycopg2's pyformat): ``%s``,
# ``%(name)s``, and ``%%`` for a percent sign
_DRIVER_PLACEHOLDER = re.compile(r"%%|%s|%\((\w+)\)s")


def _with_driver_literals(operation: str, parameters: Any) -> str:
    """SQL the migration gave the driver itself (``exec_driver_sql("... %s", (v,))``): the
    values written in as the driver would, ``%%`` as ``%``; a value that is not plainly a
    constant as ``$n``, which parses as the value it stands for."""
    count = 0

    def literal(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%"
        count += 1
        if match.group(1) is not None:
            named = parameters if isinstance(parameters, dict) else {}
            value = named.get(match.group(1), _NOT_PLAIN)
        else:
            positional = parameters if isinstance(parameters, (tuple, list)) else ()
            value = positional[count - 1] if count <= len(positional) else _NOT_PLAIN
        return _sql_literal(value) or f"${count}"

    return _DRIVER_PLACEHOLDER.sub(literal, operation)


_NOT_PLAIN = object()


def _sql_literal(value: Any) -> str | None:
    """A constant as SQL; None for a value that is not one plainly (a date, bytes, a
    stand-in), whose type the SQL would have to say."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):  # an IntEnum too: its number, not its repr
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return repr(float(value))
    if isinstance(value, str) and "\x00" not in value:
        return "'" + str.replace(value, "'", "''") + "'"
    return None


class _Cursor:
    """A DBAPI cursor: records each statement, answers it as an empty database would."""

    arraysize = 1

    def __init__(self, connection: _DBAPIConnection) -> None:
        self._connection = connection
        self._rows: list[Row] = []
        self._sql = ""
        self._read = False
        self._line: int | None = None  # the migration's line that ran the statement
        self.description: Description | None = None
        self._rowcount = -1
        self.lastrowid = None
        # the types SQLAlchemy compiled the next query's columns with (``do_execute``)
        self.result_types: tuple[TypeEngine, ...] | None = None

    @property
    def rowcount(self) -> int:
        """How many rows a SELECT gave is a read too (cloudkitty's ``if res.rowcount:`` on a
        query of information_schema)."""
        self._note_read()
        return self._rowcount

    def execute(self, operation: str, parameters: Any = None) -> None:
        operation = with_literals(operation, parameters)
        recorder = self._connection.recorder
        if recorder is not None:
            recorder.execute(operation, self._connection.autocommit)
        self._sql, self._read = operation, False
        self._line = recorder.issuing_line() if recorder is not None else None
        catalog = recorder.catalog if recorder is not None else None
        connection = self._connection
        self._rows, self.description, self._read = empty_answer(
            operation, catalog, connection.generated, connection.pg_version
        )  # a whole answer is no read of the data
        finds_rows = recorder is not None and recorder.finds_rows
        if finds_rows and self.description is not None and not self._read:
            # where it finds one, a ``count(*)`` of it is 1, not an empty database's 0
            self._rows = (
                _one_row_once(operation, recorder, len(self.description), self.result_types)
                or self._rows
            )
        self.result_types = None
        if self.description is not None:
            self._rowcount = len(self._rows)
        else:  # where each query finds its row, an UPDATE or a DELETE changes it: the ORM
            # checks that the row it flushes was there (superset's paginated updates)
            self._rowcount = int(finds_rows and bool(_CHANGES_ROWS.match(operation)))

    def executemany(self, operation: str, seq_of_parameters: Any) -> None:
        self.execute(operation)

    # psycopg2's COPY, which migrations loading data through the raw connection call
    # (pypn-ref-geo's grids): the COPY is recorded, its rows are the file's
    def copy_expert(self, sql: str, file: Any, size: int = 8192) -> None:
        self.execute(sql)

    def copy_from(
        self, file: Any, table: str, sep: str = "\t", null: str = "\\N", size: int = 8192,
        columns: Any = None,
    ) -> None:  # fmt: skip
        listed = f" ({', '.join(columns)})" if columns else ""
        self.execute(f"COPY {table}{listed} FROM STDIN")

    def fetchone(self) -> Row | None:
        self._note_read()
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Row]:
        self._note_read()
        size = size or self.arraysize
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    def fetchall(self) -> list[Row]:
        self._note_read()
        taken, self._rows = self._rows, []
        return taken

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())

    def close(self) -> None:
        self._rows = []

    def setinputsizes(self, *args: Any) -> None: ...

    def setoutputsize(self, *args: Any) -> None: ...

    def _note_read(self) -> None:
        recorder = self._connection.recorder
        if not self._read and self.description is not None and recorder is not None:
            self._read = True
            recorder.read(self._sql, self._line)


def _one_row_once(
    sql: str, recorder: Recorder, width: int, types: tuple[TypeEngine, ...] | None
) -> list[Row]:
    """One row for each query a line of the migration makes, but for one asked again right
    after itself, and for up to ``_ROWS_PER_QUERY`` of one shape. Each name a loop looks up
    finds its row (superset's permission views, ``WHERE name = 'Chart'``, then
    ``'Dashboard'``, then ``'Chart'`` again), and so does each table a helper reads in turn
    (manila's ``for table in ("shares", "share_servers")``); a loop that reads until nothing
    is left ends: airflow's batches ask ``WHERE id > 1`` twice in a row once the row found
    was id 1, and a loop of pages (``OFFSET 100``, ``OFFSET 200``, ...) ends after
    ``_ROWS_PER_QUERY`` of them."""
    shape = (recorder.issuing_line(), query_shape(sql))
    writes = recorder.writes
    again = recorder.last_read.get(shape) == (sql, writes)
    recorder.last_read[shape] = (sql, writes)
    if again or shape in recorder.finds_none or recorder.reads_given[shape] >= _ROWS_PER_QUERY:
        return []
    row = one_row(sql, recorder.catalog, recorder.row_values)
    if row is None and types is not None:  # a table the schema built does not know
        row = row_of_types(types, recorder.row_values)
    if row is None or len(row) != width:
        return []
    recorder.reads_given[shape] += 1
    return [row]


_ROWS_PER_QUERY = 10  # how many texts of one query shape a line finds a row with


class _DBAPIConnection:
    """A DBAPI connection whose transaction calls go into the recorder's stream, when they
    are the migration's own (``OfflineBind``: one DBAPI connection serves every SQLAlchemy
    connection of the engine)."""

    def __init__(self, pg_version: int | None = None) -> None:
        self.pg_version = pg_version  # the server's major, as SHOW server_version gives it
        self.recorder: Recorder | None = None
        self.autocommit = False
        self.migrations_own = True  # the SQLAlchemy connection ending a transaction now
        self.generated: dict[Name, int] = {}  # the numbers serial columns gave out so far

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def commit(self) -> None:
        self._end("COMMIT")

    def rollback(self) -> None:
        self._end("ROLLBACK")

    def _end(self, command: str) -> None:
        if self.recorder is not None and self.migrations_own:
            self.recorder.end_transaction(command)
        self.migrations_own = True

    def close(self) -> None: ...


class _Error(Exception):
    pass


_ERROR_NAMES = (
    "InterfaceError", "DatabaseError", "DataError", "OperationalError", "IntegrityError",
    "InternalError", "ProgrammingError", "NotSupportedError",
)  # fmt: skip
_DBAPI = types.SimpleNamespace(
    paramstyle="numeric_dollar",
    apilevel="2.0",
    threadsafety=1,
    Error=_Error,
    Warning=type("Warning", (Exception,), {}),
    **{name: type(name, (_Error,), {}) for name in _ERROR_NAMES},
)


class _TypeCompiler(PGTypeCompiler):
    """PostgreSQL's type names; a type only another database's dialect renders (mlrun's
    ``mysql.MEDIUMBLOB()``) by its own name, which PostgreSQL does not have: the statement
    is then judged (type-does-not-exist: it fails), where the compile error left the table
    out of the schema with a notice."""

    def process(self, type_: Any, **kw: Any) -> str:
        try:
            return super().process(type_, **kw)
        except UnsupportedCompilationError:
            return type_.__visit_name__.upper()


class OfflineDialect(CatalogReflection, PGDialect):
    """PostgreSQL, as SQLAlchemy compiles for it, over the recording DBAPI above; reflection
    answers from the catalog of what the history built so far."""

    # what a migration that looks sees: SQLAlchemy's driver for ``postgresql://``, as under
    # ``alembic upgrade --sql`` (murano's ``dialect_description == "postgresql+psycopg2"``)
    driver = "psycopg2"
    type_compiler_cls = _TypeCompiler
    supports_statement_cache = True
    default_paramstyle = "numeric_dollar"
    # what SQLAlchemy 1.x's psycopg2 dialect had, which application types written for it
    # read (waiverdb's JSON type: ``dialect._has_native_json``)
    _has_native_json = True
    # and what it gives for JSON: the driver decodes it, SQLAlchemy does not again (langflow
    # reads ``sa.select(role.c.permissions)`` of an ``sa.JSON()`` column and gets a list)
    colspecs: ClassVar[dict[type, type]] = {
        **PGDialect.colspecs,
        **{t: impl for t, impl in PGDialect_psycopg2.colspecs.items() if issubclass(t, JSON)},
    }

    def __init__(self, pg_version: int = 15, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pg_version = pg_version

    @classmethod
    def import_dbapi(cls) -> Any:
        return _DBAPI

    def _get_server_version_info(self, connection: Any) -> tuple[int, int]:
        return (self._pg_version, 0)

    def _get_default_schema_name(self, connection: Any) -> str:
        return "public"

    def _set_backslash_escapes(self, connection: Any) -> None:
        self._backslash_escapes = False

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        cursor.result_types = _result_types(context)
        cursor.execute(statement, parameters)

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        cursor.result_types = _result_types(context)
        cursor.execute(statement)

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        return "AUTOCOMMIT" if dbapi_connection.autocommit else "READ COMMITTED"

    def get_isolation_level_values(self, dbapi_connection: Any) -> tuple[str, ...]:
        return ("AUTOCOMMIT", *super().get_isolation_level_values(dbapi_connection))

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        dbapi_connection.autocommit = level == "AUTOCOMMIT"


def _result_types(context: Any) -> tuple[TypeEngine, ...] | None:
    """The types SQLAlchemy compiled a query's columns with (an ORM model's), if it did."""
    columns = getattr(getattr(context, "compiled", None), "_result_columns", None)
    return tuple(column.type for column in columns) if columns else None


registry.register("postgresql.migsafe_offline", __name__, "OfflineDialect")


class OfflineBind:
    """One engine per process; a fresh connection, inside a transaction as Alembic's would
    be, for every migration function captured."""

    def __init__(self, pg_version: int) -> None:
        self._dbapi_connection = _DBAPIConnection(pg_version)
        self.engine: Engine = create_engine(
            "postgresql+migsafe_offline://",
            creator=lambda: self._dbapi_connection,
            poolclass=StaticPool,
            # another connection of the engine is returned to the pool when it is done; the
            # ROLLBACK that resets it is not the migration's, whose transaction goes on
            pool_reset_on_return=None,
            pg_version=pg_version,
        )

        self._migration_connection: Connection | None = None
        for ending in ("commit", "rollback"):
            event.listen(self.engine, ending, self._ending)

    def _ending(self, connection: Connection) -> None:
        """Before a transaction ends: is it the migration's? Another connection of the
        engine (``op.get_bind().engine.connect()``, a Session bound to the engine, blazar's
        reflection through ``MetaData(bind=engine)``) has a transaction of its own, and its
        COMMIT or ROLLBACK does not end the migration's."""
        self._dbapi_connection.migrations_own = connection is self._migration_connection

    def connect(self, recorder: Recorder | None) -> Connection:
        self._dbapi_connection.autocommit = False
        connection = self.engine.connect()
        connection.begin()
        self._dbapi_connection.recorder = recorder
        self._migration_connection = connection
        return connection

    def release(self, connection: Connection) -> None:
        """Close without writing the closing ROLLBACK into the migration's stream."""
        self._dbapi_connection.recorder = None
        connection.close()


def is_offline(dbapi_connection: Any) -> bool:
    """The connection is the recording one (no database behind it)."""
    return isinstance(dbapi_connection, _DBAPIConnection)

"""A row such as a table with rows gives, for a migration run again where its reads find one.

A data migration reads rows through ``op.get_bind()`` (``SELECT id, value FROM variable``),
then does something with each. Offline the answer is an empty database's, no rows, so what
it does per row is never seen. Run again where each query it makes finds one row, whose
values are of the columns' types as the history made them, it shows that work; when its
schema changes are the same either way, they do not depend on the rows, and that run is the
one judged (``OfflineCapturer._with_rows``).
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import decimal
import json
import pickle
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, NullTestType
from sqlalchemy import types as sqltypes
from sqlalchemy.types import TypeEngine

from migsafe.catalog import UNKNOWN_TYPE_SCHEMA, Catalog, Column, qualified_name
from migsafe.sql import parse_sql
from migsafe.sqltree import anded, equality, is_count, literal

Row = tuple[Any, ...]


class _Text(str):
    """A text value that reads as JSON (``json.loads()`` gives an object: superset's chart
    params) and as a template (``.format(**fields)`` gives it back: prefect's notification
    bodies): text columns often hold either. What it is compared with for equality is
    written down (``compared_texts``)."""

    __hash__ = str.__hash__

    def format(self, *args: Any, **kwargs: Any) -> str:
        return str(self)

    def format_map(self, mapping: Any) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        _note_compared(other)
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        _note_compared(other)
        return str.__ne__(self, other)


_compared: list[str] | None = None  # what a made-up text was compared with, while watched


def _note_compared(other: object) -> None:
    if _compared is None or not isinstance(other, str) or isinstance(other, _Text):
        return
    if len(_compared) < _COMPARED_KEPT and other not in _compared:
        _compared.append(str(other))


_COMPARED_KEPT = 20  # the first texts compared with are those tried (a loop compares many)


@contextlib.contextmanager
def compared_texts() -> Iterator[list[str]]:
    """The texts a migration compares the made-up text values it read with, in the order it
    first does, while in the block: prefect sets a block schema's capabilities only ``if
    type == "STORAGE"``, a value no made-up one is, and a run whose text is that shows
    what it does (``text_compared``)."""
    global _compared
    _compared = []
    try:
        yield _compared
    finally:
        _compared = None


# a value of each type, as the driver gives it
_NOON = datetime.datetime(2000, 1, 1, 12)  # a timestamp without a time zone
_TEXT_TYPES = ("text", "varchar", "bpchar", "char", "citext", "name")
_FIRST: dict[str, Any] = {
    **dict.fromkeys(("int2", "int4", "int8", "smallint", "integer", "bigint"), 1),
    **dict.fromkeys(("numeric", "decimal", "float4", "float8", "real", "money"), 1),
    **dict.fromkeys(_TEXT_TYPES, _Text("{}")),
    "bool": True,
    "json": {},
    "jsonb": {},
    "uuid": "00000000-0000-0000-0000-000000000001",
    "timestamp": _NOON,
    "timestamptz": _NOON.replace(tzinfo=datetime.UTC),
    "date": _NOON.date(),
    "time": _NOON.time(),
    "bytea": b"x",
}


@dataclass(frozen=True)
class RowValues:
    """One set of values a row found is made of: a value by type name, and which end of
    each choice it takes (an enum's labels, the values a WHERE clause's IN allows): the
    first, or the last."""

    by_type: Mapping[str, Any]
    last: bool = False

    def label(self, labels: Sequence[Any]) -> Any:
        return labels[-1] if self.last else labels[0]

    def of(self, type_name: str) -> Any:
        """The value of a type, a JSON document a copy of its own: a migration that changes
        the one it read (``row.meta["path"] = ...``) changes no other row's."""
        value = self.by_type[type_name]
        return copy.deepcopy(value) if isinstance(value, dict | list) else value


FIRST_VALUES = RowValues(_FIRST)
# another value of each type: what a migration does must not depend on which it reads
OTHER_VALUES = RowValues(
    {
        **{name: 2 for name, value in _FIRST.items() if value == 1 and not isinstance(value, bool)},
        # a key with punctuation and capitals: a path taken only for such text shows
        **dict.fromkeys(_TEXT_TYPES, _Text('{"K.1": "V-2 x/y:z"}')),
        "bool": False,
        "json": {"k": "v"},
        "jsonb": {"k": "v"},
        "uuid": "00000000-0000-0000-0000-000000000002",
        "timestamp": _NOON.replace(year=2001),
        "timestamptz": _NOON.replace(year=2001, tzinfo=datetime.UTC),
        "date": _NOON.date().replace(year=2001),
        "time": _NOON.time().replace(hour=13),
        "bytea": b"y",
    },
    last=True,
)


# values at the far ends of their types: a path taken only past a threshold (``if n >
# 2_000_000_000:``) shows
FAR_VALUES = RowValues(
    {
        **dict.fromkeys(("int2", "smallint"), 32767),
        **dict.fromkeys(("int4", "integer"), 2147483647),
        **dict.fromkeys(("int8", "bigint"), 9223372036854775807),
        **dict.fromkeys(("numeric", "decimal", "float4", "float8", "real", "money"), 1e15),
        **dict.fromkeys(_TEXT_TYPES, _Text('{"' + "z" * 200 + '": []}')),
        "bool": True,
        "json": {"z": []},
        "jsonb": {"z": []},
        "uuid": "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "timestamp": datetime.datetime(9999, 12, 31, 23, 59),
        "timestamptz": datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.UTC),
        "date": datetime.date(9999, 12, 31),
        "time": datetime.time(23, 59, 59),
        "bytea": b"z" * 200,
    },
    last=True,
)


def keyed_values(keys: Iterable[str]) -> RowValues:
    """The first values, but JSON (and text, which reads as JSON) holds each of ``keys``,
    each set to its own name, and so does bytea, as a pickled dict (SQLAlchemy's
    ``PickleType``): a data migration looks into a document for the keys it names
    (superset's ``if "granularity_sqla" in params:``, open-webui's ``if 'path' in
    row.meta:``, airflow's pickled ``dag_run.conf`` it converts to JSON), and a document
    holding none of them shows nothing of what it does."""
    document = {key: key for key in sorted(keys)}
    return RowValues(
        {
            **_FIRST,
            **dict.fromkeys(_TEXT_TYPES, _Text(json.dumps(document))),
            "json": document,
            "jsonb": document,
            "bytea": pickle.dumps(document),
        }
    )


def text_compared(text: str) -> RowValues:
    """The first values, but text is ``text``: a value a migration compared text it read
    with (``compared_texts``)."""
    return RowValues({**_FIRST, **dict.fromkeys(_TEXT_TYPES, _Text(text))})


def query_shape(sql: str) -> str:
    """What two queries that differ only in their constants (the batches of one loop) have
    in common: PostgreSQL's query fingerprint; the text itself where it does not parse."""
    try:
        return pglast.parser.fingerprint(sql)
    except pglast.parser.ParseError:
        return " ".join(sql.split())


def one_row(sql: str, catalog: Catalog | None, values: RowValues = FIRST_VALUES) -> Row | None:
    """The row a SELECT of named columns from tables the history made gives when they hold
    one, and of ``count()``s (1); None for any other query (``SELECT *``, another
    expression, a column of a table the history does not show: what to give for it is not
    known), made of ``values``."""
    try:
        parsed = parse_sql(sql)
    except pglast.parser.ParseError:
        return None
    node = parsed[-1].stmt if parsed else None
    if catalog is not None and isinstance(node, _WRITES) and node.returningClause:
        return _returned(node, catalog, values)
    if catalog is None or not isinstance(node, ast.SelectStmt) or not node.fromClause:
        return None
    starred = star_columns(node, catalog)
    if starred is not None:  # ``SELECT * FROM dag_run WHERE ...``: every column, in order
        row = [_value(column, catalog, values) if column.type is not None else None
               for column in starred]  # fmt: skip
        return tuple(row) if row and None not in row else None
    tables = _tables(node, catalog)
    pinned = _pinned(node.whereClause, values)
    null, excluded = _null_or_not(node.whereClause, tables)
    row = []
    for target in node.targetList or ():
        column = _column(target.val, tables)
        if column is not None and id(column) in null:
            row.append(_NULL)  # langflow's grant that a LEFT JOIN found none of
            continue
        value = _target_value(target.val, tables, catalog, values, pinned)
        if column is not None and value in excluded.get(id(column), ()):
            return None  # a row its WHERE clause leaves out (``kind <> 'purge'``)
        row.append(value)
    if not row or None in row:
        return None
    return tuple(None if value is _NULL else value for value in row)


_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)


def _returned(
    node: ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt, catalog: Catalog, values: RowValues
) -> Row | None:
    """The row a write's RETURNING list gives, where it writes one: of the table it writes
    (and those its UPDATE ... FROM reads), as a SELECT of them would give it. airflow moves
    each batch of deadlines with one ``UPDATE ... RETURNING d.id``, and goes on from the
    last id returned."""
    sources = [node.relation, *_range_vars(getattr(node, "fromClause", None) or ())]
    tables = _tables_named(sources, catalog)
    targets = node.returningClause.exprs or ()
    row = [_target_value(target.val, tables, catalog, values, {}) for target in targets]
    return tuple(row) if None not in row else None


def _pinned(where: ast.Node | None, values: RowValues) -> dict[str, Any]:
    """The values the WHERE clause pins columns to, by the columns' names: the row found
    holds them (superset reads ``WHERE viz_type = 'treemap'`` and converts what it finds
    only if it is one; a made-up text never is). ``col = constant`` and ``col IN (...)``
    (the least of its constants, or the greatest for the other values: the order of the
    list is no guide, as a list built from a set, langflow's ``in_({target.backend_type for
    target in TARGETS})``, comes in another order in each process), of ANDed conditions."""
    pinned: dict[str, Any] = {}
    for condition in anded(where):
        found = equality(condition)
        constants = [_constant(value) for value in found[1]] if found else []
        known = sorted((c for c in constants if c is not None), key=lambda c: (type(c).__name__, c))
        if found is not None and known:
            pinned[found[0]] = values.label(known)
    return pinned


_NULL = object()  # a column the WHERE clause says IS NULL: the row holds NULL there


def _null_or_not(
    where: ast.Node | None, tables: dict[str, dict[str, Column]]
) -> tuple[set[int], dict[int, set[Any]]]:
    """The columns the WHERE clause says are NULL, and the constants it says others are not
    (``<>``, ``NOT IN``), each column by its identity (``g.id IS NULL`` is of ``g``)."""
    null: set[int] = set()
    excluded: dict[int, set[Any]] = {}
    for condition in anded(where):
        if isinstance(condition, ast.NullTest):
            column = _column(condition.arg, tables)
            if column is not None and condition.nulltesttype == NullTestType.IS_NULL:
                null.add(id(column))
            continue
        if not (
            isinstance(condition, ast.A_Expr)
            and [n.sval for n in condition.name] in (["<>"], ["!="])
            and condition.kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_IN)
        ):  # fmt: skip
            continue
        ref, value = condition.lexpr, condition.rexpr
        if not isinstance(ref, ast.ColumnRef):
            ref, value = value, ref
        column = _column(ref, tables)
        if column is not None:
            values = value if isinstance(value, tuple) else (value,)
            known = {c for c in (_constant(v) for v in values) if c is not None}
            excluded.setdefault(id(column), set()).update(known)
    return null, excluded


def _constant(node: ast.Node) -> Any:
    """A constant's value, a float's as a number (pglast keeps its text)."""
    value = literal(node)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Float) and value is not None:
        return float(value)
    return value


def star_columns(node: ast.SelectStmt, catalog: Catalog | None) -> list[Column] | None:
    """The columns ``SELECT *`` of one table gives, in order, where the schema built knows
    every column of it (a table the history only altered has others); None for any other
    select list."""
    targets = node.targetList or ()
    if catalog is None or len(targets) != 1 or len(node.fromClause or ()) != 1:
        return None
    value, source = targets[0].val, node.fromClause[0]
    if not (
        isinstance(value, ast.ColumnRef) and len(value.fields) == 1
        and isinstance(value.fields[0], ast.A_Star) and isinstance(source, ast.RangeVar)
    ):  # fmt: skip
        return None
    table = catalog.table(qualified_name(source))
    return list(table.columns.values()) if table is not None and not table.partial else None


def _target_value(
    value: ast.Node | None, tables: dict[str, dict[str, Column]], catalog: Catalog,
    values: RowValues, pinned: dict[str, Any],
) -> Any:  # fmt: skip
    """What one item of a select list gives in the row: a column's value (the one the WHERE
    clause pins it to, if of its kind), a constant (``SELECT 1 FROM t WHERE ... LIMIT 1``),
    1 for a ``count()``, text for ``lower(column)``; None when it cannot be told."""
    if is_count(value):  # ``query.count()`` before the rows it counts are read
        return 1
    if isinstance(value, ast.A_Const):
        return literal(value)
    if (
        isinstance(value, ast.FuncCall) and len(value.args or ()) == 1
        and value.funcname[-1].sval in _TEXT_FUNCTIONS
        and _column(value.args[0], tables) is not None
    ):  # fmt: skip
        return values.of("text")
    column = _column(value, tables)
    if column is None or column.type is None:
        return None
    made_up = _value(column, catalog, values)
    given = pinned.get(column.name)
    if given is not None and made_up is not None and _kind(given) == _kind(made_up):
        return given  # of the column's kind: a text for a text, a number for a number
    return made_up


def _kind(value: Any) -> str | None:
    """Text, truth or number: what a constant in SQL can be, as a value of a column (an
    integer, a float and a decimal are all numbers: ``price IN (9.5, 10.5)`` pins a numeric
    column whose made-up value is 1)."""
    if isinstance(value, bool):
        return "truth"
    if isinstance(value, int | float | decimal.Decimal):
        return "number"
    return "text" if isinstance(value, str) else None


# functions of a column whose value is text (open-webui's ``lower(email)``)
_TEXT_FUNCTIONS = frozenset(("lower", "upper", "btrim", "ltrim", "rtrim", "trim", "initcap"))


def _tables(node: ast.SelectStmt, catalog: Catalog) -> dict[str, dict[str, Column]]:
    """The columns of each table the FROM clause names, by its name and its alias."""
    return _tables_named(_range_vars(node.fromClause or ()), catalog)


def _tables_named(items: Iterable[ast.RangeVar], catalog: Catalog) -> dict[str, dict[str, Column]]:
    found: dict[str, dict[str, Column]] = {}
    for item in items:
        table = catalog.table(qualified_name(item))
        if table is not None:
            found[item.relname] = table.columns
            if item.alias is not None:
                found[item.alias.aliasname] = table.columns
    return found


def _range_vars(items: Iterable[ast.Node]) -> Iterator[ast.RangeVar]:
    """The tables a FROM clause names, those it joins too (langflow's memberships LEFT
    JOIN their grants, where the grant is missing: the row found is of both tables)."""
    for item in items:
        if isinstance(item, ast.RangeVar):
            yield item
        elif isinstance(item, ast.JoinExpr):
            yield from _range_vars((item.larg, item.rarg))


def _column(value: ast.Node | None, tables: dict[str, dict[str, Column]]) -> Column | None:
    if not isinstance(value, ast.ColumnRef) or not all(
        isinstance(f, ast.String) for f in value.fields
    ):
        return None
    names = [f.sval for f in value.fields]
    if len(names) == 2:
        return tables.get(names[0], {}).get(names[1])
    candidates = [columns[names[-1]] for columns in tables.values() if names[-1] in columns]
    return candidates[0] if len({id(c) for c in candidates}) == 1 else None


def _value(column: Column, catalog: Catalog, values: RowValues) -> Any:
    assert column.type is not None
    if column.type.arrayBounds:
        return None
    names = [n.sval for n in column.type.names]
    if names[-1] in values.by_type:
        return values.of(names[-1])
    if names[0] == UNKNOWN_TYPE_SCHEMA:  # the application's own type, its module stood in:
        return values.of("text")  # an opaque value, which the migration passes back
    for key, labels in catalog.enums.items():
        if key[1] == names[-1] and labels:
            return values.label(labels)
    return None


# which value of a set a Python type takes (bool before int: a bool is an int)
_BY_PYTHON_TYPE = (
    (bool, "bool"), (int, "int4"), (float, "float8"), (decimal.Decimal, "numeric"),
    (str, "text"), (datetime.datetime, "timestamp"), (datetime.date, "date"),
    (datetime.time, "time"), (uuid.UUID, "uuid"), (dict, "json"), (bytes, "bytea"),
)  # fmt: skip


def row_of_types(types: Sequence[TypeEngine], values: RowValues = FIRST_VALUES) -> Row | None:
    """The row a query SQLAlchemy compiled gives, of the types it compiled its columns with
    (an ORM model's), where the schema built does not know the table (superset's
    ``ab_view_menu``, made by Flask-AppBuilder): None when a type's value cannot be told."""
    row = []
    for kind in types:
        value = _value_of_type(kind, values)
        if value is None:
            return None
        row.append(value)
    return tuple(row)


def _value_of_type(kind: TypeEngine, values: RowValues) -> Any:
    if isinstance(kind, sqltypes.Enum) and kind.enums:
        return values.label(kind.enums)
    try:
        python = kind.python_type
    except NotImplementedError:  # a stood-in or user-defined type: an opaque value
        return values.of("text")
    if python is datetime.datetime and getattr(kind, "timezone", False):
        return values.of("timestamptz")
    return next((values.of(key) for cls, key in _BY_PYTHON_TYPE if issubclass(python, cls)), None)

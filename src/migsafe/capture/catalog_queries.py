"""Queries of PostgreSQL's own catalog, answered from the schema the history built.

A migration that asks ``SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE
table_name = 'rule' AND column_name = 'name')`` before it adds the column asks what
reflection answers through the inspector (``reflection.py``). An empty database's answer
(no) sent it down a path no database this history built takes: faraday's ``aa56852fa76d``
added again a column three revisions had added, and migsafe reported the ADD COLUMN. The
answer is the catalog's: a few relations of ``information_schema`` and ``pg_catalog``, read
by the simple queries migrations make of them (relations joined on equalities, conditions
ANDed in WHERE, their columns, constants, ``format()``, ``count(*)`` or ``EXISTS`` of it).
An object's oid is its name (``indexrelid = to_regclass('ix_name')``), a schema's too.
Anything else, or a schema not known whole, is not answered here, and the read is noticed
as any other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pglast import ast
from pglast.enums import (
    A_Expr_Kind,
    BoolExprType,
    JoinType,
    NullTestType,
    SortByDir,
    SortByNulls,
    SubLinkType,
)
from pglast.stream import maybe_double_quote_name

from migsafe.catalog import DEFAULT_SCHEMA, Catalog, Name
from migsafe.sqltree import anded, equality, is_count, literal, walk

Row = tuple[Any, ...]
Record = dict[str, Any]

# information_schema's names of the types pglast spells its own way
_TYPE_NAMES = {
    "int4": "integer", "int8": "bigint", "int2": "smallint", "varchar": "character varying",
    "bpchar": "character", "float8": "double precision", "float4": "real", "bool": "boolean",
    "timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone",
    "time": "time without time zone", "timetz": "time with time zone",
    "serial": "integer", "bigserial": "bigint", "smallserial": "smallint",
}  # fmt: skip
_CONSTRAINT_TYPES = {"primary key": "PRIMARY KEY", "unique": "UNIQUE",
                     "foreign key": "FOREIGN KEY", "check": "CHECK"}  # fmt: skip
_CONTYPES = {"primary key": "p", "unique": "u", "foreign key": "f", "check": "c", "exclude": "x"}


def catalog_answer(
    node: ast.SelectStmt, catalog: Catalog | None
) -> tuple[list[Row], list[str]] | None:
    """The rows and column names of ``node``, a query of the catalog relations below, where
    the schema built is known whole; None for anything else."""
    if catalog is None or not catalog.exact:
        return None
    targets = node.targetList or ()
    if not node.fromClause and len(targets) == 1 and _is_exists(targets[0].val):
        inner = _answer(targets[0].val.subselect, catalog)
        return None if inner is None else ([(bool(inner[0]),)], [targets[0].name or "exists"])
    return _answer(node, catalog)


def _is_exists(value: ast.Node | None) -> bool:
    return (
        isinstance(value, ast.SubLink)
        and value.subLinkType == SubLinkType.EXISTS_SUBLINK
        and isinstance(value.subselect, ast.SelectStmt)
    )


def _answer(node: ast.SelectStmt, catalog: Catalog) -> tuple[list[Row], list[str]] | None:
    distinct_on = node.distinctClause and any(e is not None for e in node.distinctClause)
    if node.groupClause or node.havingClause or node.op or distinct_on:
        return None  # (plain DISTINCT is ``(None,)``; DISTINCT ON names its expressions)
    joined = _sources(node.fromClause or ())
    if not joined:
        return None
    sources, conditions = joined
    conditions += anded(node.whereClause)
    if any(s.relation[1] == "columns" for s in sources) and _asks_of_partial_table(
        conditions, catalog
    ):
        return None  # a table the history only altered: of its columns, only some are known
    if any(s.relation[1] == "pg_attribute" for s in sources) and any(
        table.partial for table in catalog.tables.values()
    ):
        return None  # the same, asked through pg_attribute
    found = _matches(sources, conditions, catalog)
    if found is None:
        return None
    targets = list(node.targetList or ())
    if len(targets) == 1 and is_count(targets[0].val):
        return [(len(found),)], [targets[0].name or "count"]
    rows = []
    for bound in found:
        row = tuple(_value(target.val, sources, bound) for target in targets)
        if _UNKNOWN in row:
            return None
        rows.append(row)
    if not found and any(_value(t.val, sources, None) is _UNKNOWN for t in targets):
        return None  # what it selects is not known, with rows or without
    ordered = _ordered(node, sources, found, rows)
    if ordered is None:
        return None
    if node.distinctClause:  # plain DISTINCT: each row once, in its first place
        ordered = list(dict.fromkeys(ordered))
    offset = _limit(node.limitOffset) if node.limitOffset is not None else 0
    count = _limit(node.limitCount) if node.limitCount is not None else len(ordered)
    if offset is None or count is None:
        return None
    return ordered[offset : offset + count], [t.name or _name(t.val) for t in targets]


def _ordered(
    node: ast.SelectStmt, sources: list[_Source], found: list[Bound], rows: list[Row]
) -> list[Row] | None:
    """The rows in the order ORDER BY gives them (by columns of the sources or positions
    of the select list; NULLs last ascending, first descending, as PostgreSQL orders);
    None where it orders by anything else. Without ORDER BY, the order found."""
    keyed = list(zip(found, rows, strict=True))
    for sort in reversed(node.sortClause or ()):
        position = literal(sort.node) if isinstance(sort.node, ast.A_Const) else None
        if isinstance(position, int) and 0 < position <= len(rows[0] if rows else ()):
            values = [row[position - 1] for _, row in keyed]
        elif isinstance(position, int) and not rows:
            values = []
        else:
            values = [_value(sort.node, sources, bound) for bound, _ in keyed]
        if _UNKNOWN in values or sort.sortby_nulls != SortByNulls.SORTBY_NULLS_DEFAULT:
            return None
        descending = sort.sortby_dir == SortByDir.SORTBY_DESC
        try:
            order = sorted(
                range(len(keyed)),
                key=lambda i: (values[i] is None, values[i]),
                reverse=descending,
            )
        except TypeError:  # values of kinds that do not compare
            return None
        keyed = [keyed[i] for i in order]
    return [row for _, row in keyed]


@dataclass(frozen=True)
class _Source:
    """A catalog relation the FROM clause reads, by the name its columns are qualified with."""

    alias: str
    relation: tuple[str, str]


Bound = dict[str, Record]  # a record of each source, by its alias


def _sources(items: Sequence[ast.Node]) -> tuple[list[_Source], list[ast.Node]] | None:
    """The relations a FROM clause reads, each one answered, and the conditions its inner
    joins put on them (langflow's ``pg_enum e JOIN pg_type t ON t.oid = e.enumtypid``);
    None for anything else (an outer join, a subquery, a relation not answered)."""
    sources: list[_Source] = []
    conditions: list[ast.Node] = []
    for item in items:
        if isinstance(item, ast.RangeVar):
            name = (item.schemaname or "pg_catalog", item.relname.lower())
            if name not in _RELATIONS:
                return None
            sources.append(_Source(item.alias.aliasname if item.alias else item.relname, name))
        elif (
            isinstance(item, ast.JoinExpr) and item.jointype == JoinType.JOIN_INNER
            and item.quals is not None and not item.usingClause and not item.isNatural
        ):  # fmt: skip
            inner = _sources((item.larg, item.rarg))
            if inner is None:
                return None
            sources += inner[0]
            conditions += [*inner[1], *anded(item.quals)]
        else:
            return None
    return sources, conditions


def _matches(
    sources: list[_Source], conditions: Sequence[ast.Node], catalog: Catalog
) -> list[Bound] | None:
    """Each combination of the sources' records that meets every condition; None where a
    condition is not one told here. Each source's records are first those its own
    conditions keep (``c.relname = 't'``), and a condition of several is weighed as soon as
    they are bound, so a join of the catalog's relations stays small."""
    named = [(_aliases(condition, sources), condition) for condition in conditions]
    if any(aliases is None for aliases, _ in named):
        return None
    found: list[Bound] = [{}]
    weighed = 0
    for depth, source in enumerate(sources):
        own = [c for aliases, c in named if aliases == {source.alias}]
        if depth == 0:  # of no source (``1 = 1``): weighed once
            own += [c for aliases, c in named if not aliases]
        records = _kept(_RELATIONS[source.relation](catalog), own, sources, source.alias)
        if records is None:
            return None
        weighed += len(found) * len(records)
        if weighed > _COMBINATIONS:  # a join on nothing (``FROM pg_class, pg_attribute``),
            return None  # or of many relations: not told here
        bound_now = {s.alias for s in sources[: depth + 1]}
        due = [
            c
            for aliases, c in named
            if aliases
            and len(aliases) > 1  # type: ignore[arg-type]
            and source.alias in aliases
            and aliases <= bound_now
        ]  # type: ignore[operator]
        widened = []
        for bound in found:
            for record in records:
                candidate = {**bound, source.alias: record}
                verdicts = [_holds(condition, sources, candidate) for condition in due]
                if None in verdicts:
                    return None
                if all(verdict is True for verdict in verdicts):
                    widened.append(candidate)
        found = widened
    return found


def _kept(
    records: list[Record], conditions: list[ast.Node], sources: list[_Source], alias: str
) -> list[Record] | None:
    """The records of one source that meet the conditions of it alone; None where one of
    them is not told here."""
    kept = []
    for record in records:
        verdicts = [_holds(condition, sources, {alias: record}) for condition in conditions]
        if None in verdicts:
            return None
        if all(verdict is True for verdict in verdicts):
            kept.append(record)
    return kept


_COMBINATIONS = 100_000  # how many pairs of records a join may weigh, all its steps together


def _aliases(node: ast.Node, sources: list[_Source]) -> frozenset[str] | None:
    """The sources a condition names columns of; None where one of its columns is of none
    of them, or of more than one."""
    aliases = set()
    for column in walk(node):
        if not isinstance(column, ast.ColumnRef):
            continue
        source = _source_of(column, sources)
        if source is None:
            return None
        aliases.add(source.alias)
    return frozenset(aliases)


def _source_of(column: ast.ColumnRef, sources: list[_Source]) -> _Source | None:
    """The source a column reference names (``t.oid``, or ``typname`` of the one source
    that has it), where that relation's column is answered."""
    names = [f.sval.lower() for f in column.fields if isinstance(f, ast.String)]
    if len(names) != len(column.fields) or not names:
        return None
    if len(names) >= 2:
        candidates = [s for s in sources if s.alias.lower() == names[-2]]
    else:
        candidates = [s for s in sources if names[-1] in _COLUMNS[s.relation]]
    if len(candidates) != 1 or names[-1] not in _COLUMNS[candidates[0].relation]:
        return None
    return candidates[0]


_NULL = object()  # a condition neither true nor false (SQL's NULL): the row is left out


def _holds(condition: ast.Node, sources: list[_Source], bound: Bound) -> Any:
    """Whether the records bound meet ``condition`` (True, False, or ``_NULL`` where a NULL
    is compared): ``a = b`` and ``<>`` of columns and constants, ``IN (...)``, ``IS [NOT]
    NULL``, a boolean column, ``NOT`` of these, ``pg_*_is_visible(oid)`` (what is in the
    default schema is); None for any other condition."""
    if isinstance(condition, ast.BoolExpr) and condition.boolop == BoolExprType.NOT_EXPR:
        held = _holds(condition.args[0], sources, bound)  # prefect's ``NOT i.indisvalid``
        return held if held is None or held is _NULL else not held
    if isinstance(condition, ast.ColumnRef):  # a boolean column: ``WHERE i.indisvalid``
        value = _value(condition, sources, bound)
        return _NULL if value is None else value if isinstance(value, bool) else None
    if isinstance(condition, ast.NullTest):
        value = _value(condition.arg, sources, bound)
        if value is _UNKNOWN:
            return None
        return (value is None) == (condition.nulltesttype == NullTestType.IS_NULL)
    if isinstance(condition, ast.FuncCall) and _is_visibility(condition):
        column = condition.args[0]
        source = _source_of(column, sources) if isinstance(column, ast.ColumnRef) else None
        schema = _UNKNOWN if source is None else bound[source.alias].get("schema", _UNKNOWN)
        return None if schema is _UNKNOWN else schema == DEFAULT_SCHEMA
    if not isinstance(condition, ast.A_Expr) or len(condition.name) != 1:
        return None
    operator = condition.name[0].sval
    left = _value(condition.lexpr, sources, bound)
    if condition.kind == A_Expr_Kind.AEXPR_IN and operator in ("=", "<>"):
        listed = [_value(item, sources, bound) for item in condition.rexpr]
        if left is _UNKNOWN or _UNKNOWN in listed:
            return None
        if left is None or (left not in listed and None in listed):
            return _NULL  # SQL's three values: a NULL compared is neither true nor false
        return (left in listed) == (operator == "=")
    right = _value(condition.rexpr, sources, bound)
    if condition.kind != A_Expr_Kind.AEXPR_OP or _UNKNOWN in (left, right):
        return None
    if operator not in ("=", "<>", "!="):
        return None
    if left is None or right is None:
        return _NULL
    return left == right if operator == "=" else left != right


def _is_visibility(call: ast.FuncCall) -> bool:
    name = call.funcname[-1].sval.lower()
    return name.startswith("pg_") and name.endswith("_is_visible") and len(call.args or ()) == 1


def _value(value: ast.Node | None, sources: list[_Source], bound: Bound | None) -> Any:
    """What an expression of the select list or a condition gives for the records bound (no
    records: whether it can be told at all): a column, a constant, ``current_schema()``, a
    relation's oid, ``format()`` of those; ``_UNKNOWN`` for anything else."""
    if isinstance(value, ast.ColumnRef):
        source = _source_of(value, sources)
        if source is None:
            return _UNKNOWN
        return None if bound is None else bound[source.alias][value.fields[-1].sval.lower()]
    if isinstance(value, ast.FuncCall) and value.funcname[-1].sval.lower() == "format":
        arguments = [_value(argument, sources, bound) for argument in value.args or ()]
        if not arguments or _UNKNOWN in arguments or not isinstance(arguments[0], str):
            return _UNKNOWN
        return None if bound is None else _formatted(arguments[0], arguments[1:])
    if isinstance(value, ast.A_Const) and value.isnull:
        return None
    return _constant(value)


_CONVERSION = re.compile(r"(%(?:\d+\$)?[sIL%])")  # one of format()'s, with its position


def _formatted(template: str, arguments: list[Any]) -> Any:
    """PostgreSQL's ``format()`` of ``%s``, ``%I`` and ``%L``, by position too (prefect
    names an index ``format('%I.%I', nspname, relname)``); ``_UNKNOWN`` for a width or a
    flag."""
    out = []
    following = 0  # the argument a conversion without a position takes
    for part in _CONVERSION.split(template):
        if part == "%%":
            out.append("%")
        elif _CONVERSION.fullmatch(part):
            index = int(part[1:-2]) - 1 if "$" in part else following
            if not 0 <= index < len(arguments):
                return _UNKNOWN
            following, argument = index + 1, arguments[index]
            kind = part[-1]
            out.append(
                maybe_double_quote_name(str(argument)) if kind == "I"
                else "'" + str(argument).replace("'", "''") + "'" if kind == "L"
                else str(argument)
            )  # fmt: skip
        elif "%" in part:
            return _UNKNOWN
        else:
            out.append(part)
    return "".join(out)


_UNKNOWN = object()
_OID_TYPES = frozenset(("regclass", "regtype"))


def _oid(key: Name) -> str:
    """An object's oid here: its qualified name."""
    return f"{key[0]}.{key[1]}"


def _resolved(text: str) -> str:
    """The oid a name given as text (``'app.users'::regclass``) resolves to: quoted parts
    kept as written, the others folded to lower case, a bare name in the default schema
    (or, for PostgreSQL's own relations, ``pg_catalog``)."""
    parts = [
        part[1:-1] if len(part) > 1 and part.startswith('"') and part.endswith('"')
        else part.lower()
        for part in text.split(".")
    ]  # fmt: skip
    if len(parts) == 1:
        schema = "pg_catalog" if ("pg_catalog", parts[0]) in _RELATIONS else DEFAULT_SCHEMA
        return _oid((schema, parts[0]))
    return _oid((parts[-2], parts[-1]))


_PG_CLASS = _oid(("pg_catalog", "pg_class"))


def _constant(value: ast.Node | None) -> Any:
    """A constant's value; ``current_schema()``'s, and an object's oid, which is its
    qualified name here (``'rule'::regclass``, ``to_regclass('ix_name')``: two tables of
    one name in two schemas are two oids); else unknown."""
    if isinstance(value, ast.TypeCast):
        cast = value.typeName.names[-1].sval.lower() if value.typeName else ""
        inner = _constant(value.arg)
        if cast in _OID_TYPES:
            return _resolved(inner) if isinstance(inner, str) else _UNKNOWN
        return inner
    if isinstance(value, ast.A_Const) and not value.isnull:
        return literal(value)
    if isinstance(value, ast.FuncCall):
        function = value.funcname[-1].sval.lower()
        arguments = value.args or ()
        if function == "current_schema" and not arguments:
            return DEFAULT_SCHEMA
        if function in ("to_regclass", "to_regtype") and len(arguments) == 1:
            name = _constant(arguments[0])
            return _resolved(name) if isinstance(name, str) else _UNKNOWN
    if isinstance(value, ast.SQLValueFunction):  # CURRENT_SCHEMA without parentheses
        return DEFAULT_SCHEMA
    return _UNKNOWN


def _asks_of_partial_table(conditions: Sequence[ast.Node], catalog: Catalog) -> bool:
    """The query may be of a table the history only altered: no condition names another
    table (``table_name = 't'``)."""
    names: set[Any] | None = None
    for condition in conditions:
        found = equality(condition)
        if found is not None and found[0].lower() == "table_name":
            names = {_constant(value) for value in found[1]}
    tables = catalog.tables.values()
    return any(t.partial and (names is None or t.name[1] in names) for t in tables)


def _name(value: ast.Node | None) -> str:
    """The name PostgreSQL gives a select list's item that has none of its own."""
    if isinstance(value, ast.ColumnRef) and isinstance(value.fields[-1], ast.String):
        return value.fields[-1].sval.lower()
    if isinstance(value, ast.FuncCall):
        return value.funcname[-1].sval.lower()
    return "?column?"


def _limit(count: ast.Node) -> int | None:
    value = _constant(count)
    return value if isinstance(value, int) else None


# the relations answered: the records of each, as the catalog holds them


def _tables(catalog: Catalog) -> Iterator[Record]:
    for (schema, name), _ in catalog.tables.items():
        yield {"table_schema": schema, "table_name": name, "table_type": "BASE TABLE",
               "schemaname": schema, "tablename": name}  # fmt: skip
    for schema, name in catalog.views:
        yield {"table_schema": schema, "table_name": name, "table_type": "VIEW",
               "schemaname": None, "tablename": None}  # fmt: skip


def _information_schema_tables(catalog: Catalog) -> list[Record]:
    return list(_tables(catalog))


def _pg_tables(catalog: Catalog) -> list[Record]:
    return [record for record in _tables(catalog) if record["tablename"] is not None]


def _columns(catalog: Catalog) -> list[Record]:
    records = []
    for (schema, name), table in catalog.tables.items():
        for position, column in enumerate(table.columns.values(), start=1):
            type_name = column.type.names[-1].sval if column.type is not None else None
            records.append({
                "table_schema": schema, "table_name": name, "column_name": column.name,
                "ordinal_position": position,
                "data_type": _TYPE_NAMES.get(type_name or "", type_name),
                "is_nullable": "NO" if column.nullable is False else "YES",
                "column_default": column.default,
            })  # fmt: skip
    return records


def _constraints(catalog: Catalog) -> list[Record]:
    return [
        {"constraint_schema": schema, "constraint_name": constraint.name,
         "table_schema": schema, "table_name": name,
         "constraint_type": _CONSTRAINT_TYPES.get(constraint.kind, constraint.kind.upper()),
         "conname": constraint.name, "contype": _CONTYPES.get(constraint.kind),
         "conrelid": _oid((schema, name)), "convalidated": constraint.validated}
        for (schema, name), table in catalog.tables.items()
        for constraint in table.constraints.values()
    ]  # fmt: skip


def _indexes(catalog: Catalog) -> list[Record]:
    """Every index, those that back a primary key or a UNIQUE constraint too (named as it
    is), each valid: the history built it to its end."""
    made = [(index.name, index.table, index.unique, False) for index in catalog.indexes.values()]
    backing = [
        ((table.name[0], constraint.name), table.name, True, constraint.kind == "primary key")
        for table in catalog.tables.values()
        for constraint in table.constraints.values()
        if constraint.kind in ("primary key", "unique")
        and (table.name[0], constraint.name) not in catalog.indexes
    ]
    return [
        {"schemaname": name[0], "tablename": table[1], "indexname": name[1],
         "indexrelid": _oid(name), "indrelid": _oid(table), "indisvalid": True,
         "indisready": True,
         "indisunique": unique, "indisprimary": primary}
        for name, table, unique, primary in made + backing
    ]  # fmt: skip


def _pg_class(catalog: Catalog) -> list[Record]:
    kinds: list[tuple[Name, str]] = [
        *((name, "r") for name in catalog.tables), *((name, "v") for name in catalog.views),
        *((name, "i") for name in catalog.indexes), *((name, "S") for name in catalog.sequences),
    ]  # fmt: skip
    return [{"relname": name, "relkind": kind, "oid": _oid((schema, name)),
             "relnamespace": schema, "schema": schema}
            for (schema, name), kind in kinds]  # fmt: skip


def _pg_namespace(catalog: Catalog) -> list[Record]:
    """Each schema the history made, or made an object in, and the default one."""
    names = [*catalog.tables, *catalog.views, *catalog.indexes, *catalog.sequences,
             *catalog.enums, *catalog.types]  # fmt: skip
    schemas = sorted({DEFAULT_SCHEMA, *catalog.schemas, *(schema for schema, _ in names)})
    return [{"oid": schema, "nspname": schema, "schema": schema} for schema in schemas]


def _pg_type(catalog: Catalog) -> list[Record]:
    """The types the history made: enums, domains, composite types, ranges (not the
    built-in ones, nor a table's row type)."""
    kinds = [*((key, "e") for key in catalog.enums), *catalog.types.items()]
    return [{"typname": name, "typtype": kind, "oid": _oid((schema, name)),
             "typnamespace": schema, "schema": schema}
            for (schema, name), kind in kinds]  # fmt: skip


def _pg_enum(catalog: Catalog) -> list[Record]:
    """The labels of each enum type, in order."""
    return [
        {"enumtypid": _oid(key), "enumlabel": label, "enumsortorder": float(position)}
        for key, labels in catalog.enums.items()
        for position, label in enumerate(labels, start=1)
    ]


def _pg_attribute(catalog: Catalog) -> list[Record]:
    """Each column of each table the schema knows whole, by its position."""
    return [
        {"attrelid": _oid(key), "attname": column.name, "attnum": position,
         "attnotnull": column.nullable is False}
        for key, table in catalog.tables.items() if not table.partial
        for position, column in enumerate(table.columns.values(), start=1)
    ]  # fmt: skip


def _pg_depend(catalog: Catalog) -> list[Record]:
    """The sequences serial columns own (Alembic's batch mode asks, to leave their
    ``nextval()`` default out of the copy it makes)."""
    owned = []
    for (schema, name), table in catalog.tables.items():
        for position, column in enumerate(table.columns.values(), start=1):
            sequence = f"{name}_{column.name}_seq"
            if (schema, sequence) in catalog.sequences and column.default == (
                f"nextval('{sequence}'::regclass)"
            ):
                owned.append(
                    {"objid": _oid((schema, sequence)), "classid": _PG_CLASS,
                     "refclassid": _PG_CLASS, "refobjid": _oid((schema, name)),
                     "refobjsubid": position, "deptype": "a"}
                )  # fmt: skip
    return owned


_RELATIONS: dict[tuple[str, str], Callable[[Catalog], list[Record]]] = {
    ("information_schema", "tables"): _information_schema_tables,
    ("information_schema", "columns"): _columns,
    ("information_schema", "table_constraints"): _constraints,
    ("pg_catalog", "pg_tables"): _pg_tables,
    ("pg_catalog", "pg_indexes"): _indexes,
    ("pg_catalog", "pg_index"): _indexes,
    ("pg_catalog", "pg_constraint"): _constraints,
    ("pg_catalog", "pg_class"): _pg_class,
    ("pg_catalog", "pg_namespace"): _pg_namespace,
    ("pg_catalog", "pg_type"): _pg_type,
    ("pg_catalog", "pg_enum"): _pg_enum,
    ("pg_catalog", "pg_attribute"): _pg_attribute,
    ("pg_catalog", "pg_depend"): _pg_depend,
}
# the columns each answers (a query of any other is not answered)
_COLUMNS: dict[tuple[str, str], frozenset[str]] = {
    ("information_schema", "tables"): frozenset(("table_schema", "table_name", "table_type")),
    ("information_schema", "columns"): frozenset(
        (
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position",
            "data_type",
            "is_nullable",
            "column_default",
        )
    ),
    ("information_schema", "table_constraints"): frozenset(
        (
            "constraint_schema",
            "constraint_name",
            "table_schema",
            "table_name",
            "constraint_type",
        )
    ),
    ("pg_catalog", "pg_tables"): frozenset(("schemaname", "tablename")),
    ("pg_catalog", "pg_indexes"): frozenset(("schemaname", "tablename", "indexname")),
    ("pg_catalog", "pg_index"): frozenset(
        (
            "indexrelid",
            "indrelid",
            "indisvalid",
            "indisready",
            "indisunique",
            "indisprimary",
        )
    ),
    ("pg_catalog", "pg_constraint"): frozenset(("conname", "contype", "conrelid", "convalidated")),
    ("pg_catalog", "pg_class"): frozenset(("relname", "relkind", "oid", "relnamespace")),
    ("pg_catalog", "pg_namespace"): frozenset(("oid", "nspname")),
    ("pg_catalog", "pg_type"): frozenset(("typname", "typtype", "oid", "typnamespace")),
    ("pg_catalog", "pg_enum"): frozenset(("enumtypid", "enumlabel", "enumsortorder")),
    ("pg_catalog", "pg_attribute"): frozenset(("attrelid", "attname", "attnum", "attnotnull")),
    ("pg_catalog", "pg_depend"): frozenset(
        ("objid", "classid", "refclassid", "refobjid", "refobjsubid", "deptype")
    ),
}

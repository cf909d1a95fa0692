"""Queries of PostgreSQL's own catalog, answered from the schema the history built.

A migration that asks ``SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE
table_name = 'rule' AND column_name = 'name')`` before it adds the column asks what
reflection answers through the inspector (``reflection.py``). An empty database's answer
(no) sent it down a path no database this history built takes: faraday's ``aa56852fa76d``
added again a column three revisions had added, and migsafe reported the ADD COLUMN. The
answer is the catalog's: a few relations of ``information_schema`` and ``pg_catalog``, read
by the simple queries migrations make of them (one relation, equalities ANDed in WHERE, its
columns, constants, ``count(*)`` or ``EXISTS`` of it). An object's oid is its name
(``indexrelid = to_regclass('ix_name')``). Anything else, or a schema not known whole, is
not answered here, and the read is noticed as any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pglast import ast
from pglast.enums import SubLinkType

from migsafe.catalog import DEFAULT_SCHEMA, Catalog, Name
from migsafe.sqltree import anded, equality, is_count, literal

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
    relation = _relation(node)
    if relation is None or node.groupClause or node.havingClause or node.op:
        return None
    records = _RELATIONS[relation](catalog)
    wanted = _equalities(node.whereClause)
    if wanted is None or not all(name in _COLUMNS[relation] for name, _ in wanted):
        return None
    if relation[1] == "columns" and _asks_of_partial_table(wanted, catalog):
        return None  # a table the history only altered: of its columns, only some are known
    found = [r for r in records if all(r[name] in values for name, values in wanted)]
    targets = list(node.targetList or ())
    if len(targets) == 1 and is_count(targets[0].val):
        return [(len(found),)], [targets[0].name or "count"]
    columns = [_target(target, relation) for target in targets]
    if None in columns:
        return None
    rows = [tuple(_value(column, record) for column in columns) for record in found]
    if node.limitCount is not None:
        rows = rows[: _limit(node.limitCount)]
    names = [target.name or _name(column) for target, column in zip(targets, columns, strict=True)]
    return rows, names


def _relation(node: ast.SelectStmt) -> tuple[str, str] | None:
    """The one catalog relation ``node`` reads, if it reads one of those answered."""
    if len(node.fromClause or ()) != 1 or not isinstance(node.fromClause[0], ast.RangeVar):
        return None
    source = node.fromClause[0]
    name = (source.schemaname or "pg_catalog", source.relname.lower())
    return name if name in _RELATIONS else None


def _equalities(where: ast.Node | None) -> list[tuple[str, set[Any]]] | None:
    """Each column the WHERE clause pins, with the values it may have (``= 'x'``, ``IN
    (...)``); None when it says anything else."""
    pinned = []
    for condition in anded(where):
        found = equality(condition)
        if found is None:
            return None
        values = [_constant(value) for value in found[1]]
        if any(value is _UNKNOWN for value in values):
            return None
        pinned.append((found[0].lower(), set(values)))
    return pinned


_UNKNOWN = object()


def _constant(value: ast.Node | None) -> Any:
    """A constant's value; ``current_schema()``'s, and ``to_regclass('name')``'s (the oid
    of a relation is its name here); else unknown."""
    if isinstance(value, ast.TypeCast):
        value = value.arg
    if isinstance(value, ast.A_Const) and not value.isnull:
        return literal(value)
    if isinstance(value, ast.FuncCall):
        function = value.funcname[-1].sval.lower()
        arguments = value.args or ()
        if function == "current_schema" and not arguments:
            return DEFAULT_SCHEMA
        if function == "to_regclass" and len(arguments) == 1:
            name = _constant(arguments[0])
            return name.rpartition(".")[2] if isinstance(name, str) else _UNKNOWN
    if isinstance(value, ast.SQLValueFunction):  # CURRENT_SCHEMA without parentheses
        return DEFAULT_SCHEMA
    return _UNKNOWN


def _column_name(value: ast.Node | None) -> str | None:
    if isinstance(value, ast.ColumnRef) and isinstance(value.fields[-1], ast.String):
        return value.fields[-1].sval.lower()
    return None


def _asks_of_partial_table(wanted: list[tuple[str, set[Any]]], catalog: Catalog) -> bool:
    names = next((values for name, values in wanted if name == "table_name"), None)
    tables = catalog.tables.values()
    return any(t.partial and (names is None or t.name[1] in names) for t in tables)


def _target(target: ast.ResTarget, relation: tuple[str, str]) -> Any:
    """A column of the relation (its name), or a constant (``SELECT 1``); None otherwise."""
    name = _column_name(target.val)
    if name is not None:
        return name if name in _COLUMNS[relation] else None
    value = _constant(target.val) if isinstance(target.val, ast.A_Const) else _UNKNOWN
    return None if value is _UNKNOWN else ("constant", value)


def _value(column: Any, record: Record) -> Any:
    return column[1] if isinstance(column, tuple) else record[column]


def _name(column: Any) -> str:
    return "?column?" if isinstance(column, tuple) else column


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
         "conrelid": name, "convalidated": constraint.validated}
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
         "indexrelid": name[1], "indrelid": table[1], "indisvalid": True, "indisready": True,
         "indisunique": unique, "indisprimary": primary}
        for name, table, unique, primary in made + backing
    ]  # fmt: skip


def _pg_class(catalog: Catalog) -> list[Record]:
    kinds: list[tuple[Name, str]] = [
        *((name, "r") for name in catalog.tables), *((name, "v") for name in catalog.views),
        *((name, "i") for name in catalog.indexes), *((name, "S") for name in catalog.sequences),
    ]  # fmt: skip
    return [{"relname": name, "relkind": kind, "oid": name} for (_, name), kind in kinds]


def _pg_type(catalog: Catalog) -> list[Record]:
    return [{"typname": name, "typtype": "e"} for _, name in catalog.enums]


_RELATIONS: dict[tuple[str, str], Callable[[Catalog], list[Record]]] = {
    ("information_schema", "tables"): _information_schema_tables,
    ("information_schema", "columns"): _columns,
    ("information_schema", "table_constraints"): _constraints,
    ("pg_catalog", "pg_tables"): _pg_tables,
    ("pg_catalog", "pg_indexes"): _indexes,
    ("pg_catalog", "pg_index"): _indexes,
    ("pg_catalog", "pg_constraint"): _constraints,
    ("pg_catalog", "pg_class"): _pg_class,
    ("pg_catalog", "pg_type"): _pg_type,
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
    ("pg_catalog", "pg_class"): frozenset(("relname", "relkind", "oid")),
    ("pg_catalog", "pg_type"): frozenset(("typname", "typtype")),
}

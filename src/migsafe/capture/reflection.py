"""Reflection answered from the catalog: what a database migrated up to this revision holds.

SQLAlchemy's inspector asks the dialect (``get_table_names``, ``get_multi_columns``, ...);
the offline dialect mixes this class in, so ``sa.inspect(op.get_bind())``, ``has_table`` and
``sa.Table(..., autoload_with=bind)`` get the tables, columns, constraints and indexes that
the earlier revisions (and this one, so far) created. That is exactly the answer a fresh
database gives during ``alembic upgrade head``, so it needs no notice. A table the history
only altered (made by the application's ``create_all()``) is there with the columns the
history gave it: reflecting it is noticed, since the others are not known, unless the run is
told what else it holds (``Recorder.outside_names``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pglast import ast
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql import ARRAY, ENUM, INTERVAL, TIME, TIMESTAMP
from sqlalchemy.dialects.postgresql.base import ischema_names

from migsafe.capture.stand_ins import StandIn
from migsafe.catalog import (
    DEFAULT_SCHEMA,
    UNKNOWN_TYPE_SCHEMA,
    Catalog,
    Column,
    Constraint,
    Table,
)

# pglast's internal type names, as PostgreSQL's catalog spells them for SQLAlchemy
_CATALOG_NAMES = {
    "int4": "integer", "int": "integer", "int8": "bigint", "int2": "smallint",
    "varchar": "character varying", "bpchar": "character", "float8": "double precision",
    "float4": "real", "bool": "boolean", "decimal": "numeric", "varbit": "bit varying",
    # a serial column is reflected as its integer type (with a nextval() default)
    "serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint",
    "smallserial": "smallint", "serial2": "smallint",
}  # fmt: skip
_WITH_TIME_ZONE = {"timestamptz": (TIMESTAMP, True), "timestamp": (TIMESTAMP, False),
                   "timetz": (TIME, True), "time": (TIME, False)}  # fmt: skip


def _catalog(connection: Any) -> Catalog:
    recorder = _recorder(connection)
    if recorder is not None:
        recorder.reflected = True
    return recorder.catalog if recorder is not None and recorder.catalog else Catalog()


def _recorder(connection: Any) -> Any:
    return connection.connection.dbapi_connection.recorder


class _TableNames(list):
    """``get_table_names()``'s answer, which tells the recorder when a migration asks it for
    a table it does not hold (``if "migrate_version" in tables:``), also after the
    connection that got it is closed (``sa.inspect(engine)``)."""

    def __init__(self, names: list[str], recorder: Any, schema: str) -> None:
        super().__init__(names)
        self._recorder = recorder
        self._schema = schema

    def __contains__(self, name: object) -> bool:
        found = super().__contains__(name)
        if not found and isinstance(name, str) and self._recorder is not None:
            self._recorder.asked_absent((self._schema, name))
        return found


def _on_known_columns(table: Table, columns: Iterable[str | None]) -> bool:
    """Of a table the history only altered, a constraint or index on columns it did not
    make is left out: SQLAlchemy would look for them among the columns it was given."""
    return not table.partial or {c for c in columns if c is not None} <= set(table.columns)


def _schema(schema: Any) -> str:
    """A stood-in schema (``schema=config["schema"]``) is the one operations name for it."""
    if isinstance(schema, StandIn):
        return schema.schema_name
    return schema or DEFAULT_SCHEMA


class CatalogReflection:
    """Dialect reflection methods over ``Catalog``; see the module docstring."""

    def has_table(self, connection: Any, table_name: str, schema: str | None = None,
                  **kw: Any) -> bool:  # fmt: skip
        name = (_schema(schema), table_name)
        catalog = _catalog(connection)
        found = name in catalog.tables or name in catalog.views
        if not found and _recorder(connection) is not None:
            _recorder(connection).asked_absent(name)
        return found

    def has_multi_table(self, connection: Any, table_names: Iterable[str],
                        schema: str | None = None, **kw: Any) -> Any:  # fmt: skip
        return [((schema, t), self.has_table(connection, t, schema)) for t in table_names]

    def has_sequence(self, connection: Any, sequence_name: str, schema: str | None = None,
                     **kw: Any) -> bool:  # fmt: skip
        return (_schema(schema), sequence_name) in _catalog(connection).sequences

    def has_type(self, connection: Any, type_name: str, schema: str | None = None,
                 **kw: Any) -> bool:  # fmt: skip
        return (_schema(schema), type_name) in _catalog(connection).enums

    def has_schema(self, connection: Any, schema: str, **kw: Any) -> bool:
        return schema in _catalog(connection).schemas

    def get_schema_names(self, connection: Any, **kw: Any) -> list[str]:
        return sorted(_catalog(connection).schemas)

    def get_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        names = sorted(t for s, t in _catalog(connection).tables if s == _schema(schema))
        return _TableNames(names, _recorder(connection), _schema(schema))

    def get_view_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return sorted(v for s, v in _catalog(connection).views if s == _schema(schema))

    def get_sequence_names(self, connection: Any, schema: str | None = None,
                           **kw: Any) -> list[str]:  # fmt: skip
        return sorted(q for s, q in _catalog(connection).sequences if s == _schema(schema))

    def get_temp_table_names(self, connection: Any, **kw: Any) -> list[str]:
        return []

    def get_temp_view_names(self, connection: Any, **kw: Any) -> list[str]:
        return []

    def get_materialized_view_names(self, connection: Any, schema: str | None = None,
                                    **kw: Any) -> list[str]:  # fmt: skip
        return []

    def _load_enums(self, connection: Any, schema: str | None = None, **kw: Any) -> list[dict]:
        return [
            {"name": name, "schema": s, "visible": s == DEFAULT_SCHEMA, "labels": list(labels)}
            for (s, name), labels in _catalog(connection).enums.items()
            if schema in (None, "*", s)
        ]

    def _tables(self, connection: Any, schema: str | None, filter_names: Any,
                told: bool = False) -> list[Table]:  # fmt: skip
        """The tables reflected; ``told``: what is asked of them is what a run may be told a
        table the history only altered holds besides (columns, indexes)."""
        catalog = _catalog(connection)
        wanted = set(filter_names) if filter_names else None
        tables = [
            table
            for (s, name), table in catalog.tables.items()
            if s == _schema(schema) and (wanted is None or name in wanted)
        ]
        recorder = _recorder(connection)
        for table in tables:
            if table.partial and recorder is not None:
                recorder.reflected_partial(table.name, told)
        return tables

    def get_multi_columns(self, connection: Any, schema: str | None, filter_names: Any,
                          scope: Any, kind: Any, **kw: Any) -> Any:  # fmt: skip
        catalog = _catalog(connection)
        outside = _outside_names(connection)
        return [
            ((schema, t.name[1]), [_column(c, catalog) for c in t.columns.values()] + [
                _outside_column(name) for name in outside if t.partial and name not in t.columns
            ])
            for t in self._tables(connection, schema, filter_names, told=True)
        ]  # fmt: skip

    def get_multi_pk_constraint(self, connection: Any, schema: str | None, filter_names: Any,
                                scope: Any, kind: Any, **kw: Any) -> Any:  # fmt: skip
        result = []
        for table in self._tables(connection, schema, filter_names):
            keys = [c for c in table.constraints.values() if c.kind == "primary key"]
            key = next((c for c in keys if _on_known_columns(table, c.columns)), None)
            value = {"constrained_columns": list(key.columns) if key else [],
                     "name": key.name if key else None, "comment": None}  # fmt: skip
            result.append(((schema, table.name[1]), value))
        return result

    def get_multi_foreign_keys(self, connection: Any, schema: str | None, filter_names: Any,
                               scope: Any, kind: Any, **kw: Any) -> Any:  # fmt: skip
        return [
            ((schema, table.name[1]), [
                {"name": c.name, "constrained_columns": list(c.columns),
                 "referred_schema": None if c.referred[0] == DEFAULT_SCHEMA else c.referred[0],
                 "referred_table": c.referred[1], "referred_columns": list(c.referred_columns),
                 "options": _key_options(c), "comment": None}
                for c in table.constraints.values()
                if c.kind == "foreign key" and _on_known_columns(table, c.columns)
            ])
            for table in self._tables(connection, schema, filter_names)
        ]  # fmt: skip

    def get_multi_indexes(self, connection: Any, schema: str | None, filter_names: Any,
                          scope: Any, kind: Any, **kw: Any) -> Any:  # fmt: skip
        recorder = connection.connection.dbapi_connection.recorder
        if recorder is not None:
            recorder.index_lookups.append(recorder.issuing_line())
        catalog = _catalog(connection)
        result = []
        for table in self._tables(connection, schema, filter_names, told=True):
            backing = {c.name for c in table.constraints.values()
                       if c.kind in ("primary key", "unique")}  # fmt: skip
            indexes = []
            for index in catalog.indexes_of(table.name):
                if index.name[1] in backing:
                    continue
                entry = {
                    "name": index.name[1],
                    "column_names": list(index.columns),
                    "unique": index.unique,
                    "dialect_options": {},
                    "include_columns": [],
                }
                if None in index.columns:
                    entry["expressions"] = list(index.expressions)
                if index.where:
                    entry["dialect_options"]["postgresql_where"] = index.where
                indexes.append(entry)  # fmt: skip
            if table.partial:
                known = {index.name[1] for index in catalog.indexes_of(table.name)}
                unique = recorder is not None and recorder.outside_unique
                indexes += [_outside_index(name, unique) for name in _outside_names(connection)
                            if name not in known]  # fmt: skip
            result.append(((schema, table.name[1]), indexes))
        return result

    def get_multi_unique_constraints(self, connection: Any, schema: str | None,
                                     filter_names: Any, scope: Any, kind: Any,
                                     **kw: Any) -> Any:  # fmt: skip
        return [
            ((schema, t.name[1]), [{"name": c.name, "column_names": list(c.columns),
                                    "comment": None}
                                   for c in t.constraints.values()
                                   if c.kind == "unique" and _on_known_columns(t, c.columns)])
            for t in self._tables(connection, schema, filter_names)
        ]  # fmt: skip

    def get_multi_check_constraints(self, connection: Any, schema: str | None,
                                    filter_names: Any, scope: Any, kind: Any,
                                    **kw: Any) -> Any:  # fmt: skip
        return [
            ((schema, t.name[1]), [{"name": c.name, "sqltext": c.expression, "comment": None}
                                   for c in t.constraints.values() if c.kind == "check"])
            for t in self._tables(connection, schema, filter_names)
        ]  # fmt: skip

    def get_multi_table_comment(self, connection: Any, schema: str | None, filter_names: Any,
                                scope: Any, kind: Any, **kw: Any) -> Any:  # fmt: skip
        return [((schema, t.name[1]), {"text": None})
                for t in self._tables(connection, schema, filter_names)]  # fmt: skip

    def get_multi_table_options(self, connection: Any, schema: str | None, filter_names: Any,
                                scope: Any, kind: Any, **kw: Any) -> Any:  # fmt: skip
        return [((schema, t.name[1]), {})
                for t in self._tables(connection, schema, filter_names)]  # fmt: skip


def _outside_names(connection: Any) -> list[str]:
    """The names a run is told a table the history only altered holds besides what the
    history gave it (``Recorder.outside_names``), in one order from run to run."""
    recorder = _recorder(connection)
    return sorted(recorder.outside_names or ()) if recorder is not None else []


def _outside_column(name: str) -> dict[str, Any]:
    """A column made outside the history: of a type not known."""
    return {"name": name, "type": sqltypes.NULLTYPE, "nullable": True, "default": None,
            "autoincrement": False, "comment": None}  # fmt: skip


def _outside_index(name: str, unique: bool) -> dict[str, Any]:
    """An index made outside the history, on the column of its name (also there)."""
    return {"name": name, "column_names": [name], "unique": unique, "dialect_options": {},
            "include_columns": []}  # fmt: skip


def _column(column: Column, catalog: Catalog) -> dict[str, Any]:
    return {
        "name": column.name,
        "type": sqlalchemy_type(column.type, catalog),
        "nullable": column.nullable is not False,
        "default": column.default,
        "autoincrement": column.identity or bool(column.default and "nextval(" in column.default),
        "comment": None,
    }


def _key_options(key: Constraint) -> dict[str, str]:
    """A foreign key's actions, as PostgreSQL's reflection gives them (none where NO ACTION):
    langflow adds its key again unless one with ``ondelete="CASCADE"`` is there."""
    actions = {"ondelete": key.on_delete, "onupdate": key.on_update}
    return {option: action for option, action in actions.items() if action is not None}


class _UnknownType(sqltypes.UserDefinedType):  # type: ignore[type-arg]
    """A column's type the schema built holds as unknown (``UNKNOWN_TYPE_SCHEMA``), as
    reflection gives it: rendered as it is held."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return f'{UNKNOWN_TYPE_SCHEMA}."{self.name}"'


def sqlalchemy_type(type_node: ast.TypeName | None, catalog: Catalog) -> sqltypes.TypeEngine:
    """The SQLAlchemy type reflection gives for a column of this SQL type."""
    if type_node is None:
        return sqltypes.NULLTYPE
    names = [n.sval for n in type_node.names]
    name = names[-1]
    mods = [m.val.ival for m in type_node.typmods or () if isinstance(m, ast.A_Const)
            and hasattr(m.val, "ival")]  # fmt: skip
    if name in _WITH_TIME_ZONE:
        cls, timezone = _WITH_TIME_ZONE[name]
        result: sqltypes.TypeEngine = cls(timezone=timezone)
    elif name == "interval":
        result = INTERVAL()
    elif names[0] == UNKNOWN_TYPE_SCHEMA:  # the application's type, its module stood in:
        return _UnknownType(name)  # recreated (a batch block's copy), it stays unknown
    elif (key := (names[0] if len(names) > 1 and names[0] != "pg_catalog" else DEFAULT_SCHEMA,
                  name)) in catalog.enums:  # fmt: skip
        owner = None if key[0] == DEFAULT_SCHEMA else key[0]  # a type of another schema
        result = ENUM(*catalog.enums[key], name=name, schema=owner, create_type=False)
    else:
        cls = ischema_names.get(_CATALOG_NAMES.get(name, name))
        if cls is None:
            return sqltypes.NULLTYPE
        try:
            result = cls(*mods)
        except TypeError:
            result = cls()
    return ARRAY(result) if type_node.arrayBounds else result

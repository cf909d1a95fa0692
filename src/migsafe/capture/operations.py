"""An Alembic ``Operations`` that attributes every operation, batch ones included, to its line."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import MigrateOperation, Operations, ops

from migsafe.capture.recorder import Recorder
from migsafe.capture.stand_ins import StandIn, StandInBase


class _ApplyAtEnd(list):
    """Stands in for a batch's op list. On PostgreSQL Alembic needs no table copy: it runs
    a batch's operations one by one, as issued, when the ``batch_alter_table()`` block ends,
    after whatever the block ran directly (an ``op.execute()``, an ``autocommit_block()``).
    They are applied then here too, each with the line and the operation that issued it."""

    def __init__(self, batch_impl: Any, recorder: Recorder) -> None:
        super().__init__()
        self._batch_impl = batch_impl
        self._recorder = recorder
        self._issued: list[tuple[tuple[str, tuple, dict], MigrateOperation | None, int]] = []

    def append(self, entry: tuple[str, tuple, dict]) -> None:
        recorder = self._recorder
        self._issued.append((entry, recorder.current_operation, recorder.issuing_line()))

    def apply(self) -> None:
        impl = self._batch_impl.operations.impl
        for (opname, args, kwargs), operation, line in self._issued:
            with self._recorder.replaying(operation, line):
                try:
                    getattr(impl, opname)(*args, **kwargs)
                except Exception as exc:  # rendering failed: record why, go on
                    _record_failure(self._recorder, operation, impl.dialect, exc)
        self._issued.clear()


class Recording:
    """Alembic's ``Operations`` for one offline ``MigrationContext``, attributing every
    operation (batch ones included) to the line that issued it, in ``recorder``.

    One is made per capture worker; ``recorder`` is switched for every migration function.
    The hooks are set on the ``Operations`` instance (not a subclass) because Alembic's
    ``op`` module proxy is registered for the ``Operations`` class itself.
    """

    def __init__(self, context: MigrationContext) -> None:
        self.recorder = Recorder(Path())
        self.operations = operations = Operations(context)
        operations.invoke = self._invoke  # type: ignore[method-assign]
        operations.batch_alter_table = self._batch_alter_table  # type: ignore[method-assign]
        autocommit_block = context.autocommit_block

        @contextlib.contextmanager
        def recorded_autocommit_block() -> Iterator[None]:
            with autocommit_block(), self.recorder.autocommit():
                yield

        context.autocommit_block = recorded_autocommit_block  # type: ignore[method-assign]

    def _invoke(self, operation: MigrateOperation) -> Any:
        return _invoke_recorded(Operations.invoke, self.operations, operation, self.recorder)

    @contextlib.contextmanager
    def _batch_alter_table(self, table_name: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        if isinstance(kwargs.get("schema"), StandIn):
            kwargs["schema"] = stood_in_schema(kwargs["schema"])
        with Operations.batch_alter_table(self.operations, table_name, *args, **kwargs) as batch_op:
            invoke, recorder = type(batch_op).invoke, self.recorder
            issued = _ApplyAtEnd(batch_op.impl, recorder)
            if batch_op.impl.recreate != "always":
                batch_op.impl.batch = issued
            batch_op.invoke = lambda operation: _invoke_recorded(
                invoke, batch_op, operation, recorder
            )
            yield batch_op
            issued.apply()  # before Alembic's own flush, which then finds nothing left


def _invoke_recorded(
    invoke: Any, operations: Any, operation: MigrateOperation, recorder: Recorder
) -> Any:
    _name_stood_in_schemas(operation)
    _unknown_stood_in_types(operation)
    with recorder.operation(operation):
        try:
            return invoke(operations, operation)
        except Exception as exc:  # rendering failed: record why, let the script go on
            caught = _fails_on_any_database(operation) and recorder.in_guarded_code()
            _record_failure(recorder, operation, operations.migration_context.dialect, exc, caught)
            if caught:  # as under `alembic upgrade`: the migration's handler takes it
                raise
            return None


_SCHEMA_ATTRIBUTES = ("schema", "source_schema", "referent_schema")


def _name_stood_in_schemas(operation: MigrateOperation) -> None:
    """Give the operation a name for each schema a stood-in value names (``stood_in_schema``),
    as its attribute or in its ``kw`` (a foreign key's ``source_schema=``)."""
    for attribute in _SCHEMA_ATTRIBUTES:
        value = getattr(operation, attribute, None)
        if isinstance(value, StandIn):
            setattr(operation, attribute, stood_in_schema(value))
    options = getattr(operation, "kw", None)
    if isinstance(options, dict):
        for key in _SCHEMA_ATTRIBUTES:
            if isinstance(options.get(key), StandIn):
                options[key] = stood_in_schema(options[key])


def _unknown_stood_in_types(operation: MigrateOperation) -> None:
    """A column type of the application's that derives from a stood-in one (gnocchi's
    ``ArchivePolicyDefinitionType(sqlalchemy_utils.JSONType)``) is no SQLAlchemy type: it
    becomes the unknown type it stands for, as a stood-in type itself does, instead of
    failing the whole CREATE TABLE."""
    columns = [*(getattr(operation, "columns", None) or ()), getattr(operation, "column", None)]
    for column in columns:
        if hasattr(column, "type") and _derives_from_stand_in(column.type):
            column.type = _unknown_type(column.type)
    for attribute in ("modify_type", "existing_type"):
        value = getattr(operation, attribute, None)
        if _derives_from_stand_in(value):
            setattr(operation, attribute, _unknown_type(value))


def _derives_from_stand_in(value: object) -> bool:
    kind = value if isinstance(value, type) else type(value)
    return issubclass(kind, StandInBase)


def _unknown_type(value: object) -> StandIn:
    kind = value if isinstance(value, type) else type(value)
    return StandIn(f"{kind.__module__}.{kind.__qualname__}()", kind.__module__)


def stood_in_schema(value: StandIn) -> str:
    """A schema named by a stood-in value (c2cgeoportal's ``schema=config["schema"]``), by
    how the migration names it (``config_schema``: one plain name, since Alembic splits a
    schema at its dots and recipes quote it): the operation is exact but for the schema's
    name, which is the same wherever the history names it so. SQLAlchemy, given the stand-in
    itself, would make it an empty name or fail (``schema + "." + name``)."""
    return re.sub(r"\W+", "_", value.code_name).strip("_") or "stood_in_schema"


def _fails_on_any_database(operation: MigrateOperation) -> bool:
    """An operation SQLAlchemy refuses before any SQL is sent, online as offline: a
    constraint dropped without its name. Other render failures are offline only (a value
    with no literal form), and the migration goes on past them as it would online."""
    return isinstance(operation, ops.DropConstraintOp) and operation.constraint_name is None


def _record_failure(
    recorder: Recorder,
    operation: MigrateOperation | None,
    dialect: Any,
    exc: Exception,
    caught: bool = False,
) -> None:
    sql = _with_placeholders(operation, dialect) if operation is not None else None
    if sql is None:
        recorder.unrenderable(operation, exc, caught)
    else:
        recorder.write(sql)


def _with_placeholders(operation: MigrateOperation, dialect: Any) -> str | None:
    """The statement of ``op.execute()`` or ``op.bulk_insert()`` with ``$1`` placeholders
    where Alembic's offline render could not write a value as a literal (a bound value of
    an unknown type): its shape is exact, and the values do not matter to any rule."""
    if isinstance(operation, ops.ExecuteSQLOp):
        clause = operation.sqltext
        clause = sa.text(clause) if isinstance(clause, str) else clause
    elif isinstance(operation, ops.BulkInsertOp):
        clause = sa.insert(operation.table)
    else:
        return None
    try:
        return str(clause.compile(dialect=dialect)).strip()
    except Exception:
        return None

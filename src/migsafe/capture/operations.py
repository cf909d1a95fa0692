"""An Alembic ``Operations`` that attributes every operation, batch ones included, to its line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import MigrateOperation, Operations, ops

from migsafe.capture.offline_bind import with_literals
from migsafe.capture.recorder import FailsOnPostgreSQL, Recorder
from migsafe.capture.stand_ins import StandIn
from migsafe.capture.stood_in_arguments import without_stand_ins


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
            kwargs["schema"] = kwargs["schema"].schema_name
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
    without_stand_ins(operation)
    with recorder.operation(operation):
        try:
            return invoke(operations, operation)
        except FailsOnPostgreSQL:  # the migration's handler takes it
            raise
        except Exception as exc:  # rendering failed: record why, let the script go on
            caught = _fails_on_any_database(operation) and recorder.in_guarded_code()
            _record_failure(recorder, operation, operations.migration_context.dialect, exc, caught)
            if caught:  # as under `alembic upgrade`: the migration's handler takes it
                raise
            return None


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
    """The statement of ``op.execute()`` or ``op.bulk_insert()``, where Alembic's offline
    render could not write a value as a literal (a bound value of a column of no type:
    invenio's ``sa.sql.column("enabled")`` set to False): the plain values written in all
    the same, as ``--sql`` writes them, and ``$1`` placeholders for the others (its shape
    is exact)."""
    if isinstance(operation, ops.ExecuteSQLOp):
        clause = operation.sqltext
        clause = sa.text(clause) if isinstance(clause, str) else clause
    elif isinstance(operation, ops.BulkInsertOp):
        clause = sa.insert(operation.table)
    else:
        return None
    try:
        compiled = clause.compile(dialect=dialect)
    except Exception:
        return None
    sql = str(compiled).strip()
    if isinstance(operation, ops.BulkInsertOp):  # its rows are not the statement's values
        return sql
    values = compiled.params
    return with_literals(sql, tuple(values.get(name) for name in compiled.positiontup or ()))

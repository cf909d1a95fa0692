"""An Alembic ``Operations`` that attributes every operation, batch ones included, to its line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import MigrateOperation, Operations, ops

from migsafe.capture.recorder import Recorder


class _ApplyNow(list):
    """Stands in for a batch's op list: PostgreSQL never needs the table-copy batch mode,
    so each batch operation is applied the moment it is issued, which keeps its line."""

    def __init__(self, batch_impl: Any) -> None:
        super().__init__()
        self._batch_impl = batch_impl

    def append(self, entry: tuple[str, tuple, dict]) -> None:
        opname, args, kwargs = entry
        getattr(self._batch_impl.operations.impl, opname)(*args, **kwargs)


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
        with Operations.batch_alter_table(self.operations, table_name, *args, **kwargs) as batch_op:
            if batch_op.impl.recreate != "always":
                batch_op.impl.batch = _ApplyNow(batch_op.impl)
            invoke, recorder = type(batch_op).invoke, self.recorder
            batch_op.invoke = lambda operation: _invoke_recorded(
                invoke, batch_op, operation, recorder
            )
            yield batch_op


def _invoke_recorded(
    invoke: Any, operations: Any, operation: MigrateOperation, recorder: Recorder
) -> Any:
    with recorder.operation(operation):
        try:
            return invoke(operations, operation)
        except Exception as exc:  # rendering failed: record why, let the script go on
            sql = _with_placeholders(operation, operations.migration_context.dialect)
            if sql is None:
                recorder.unrenderable(operation, exc)
            else:
                recorder.write(sql)
            return None


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

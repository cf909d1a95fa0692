"""Run a migration's upgrade()/downgrade() offline and record what it would do.

The script really runs, under Alembic's offline ``MigrationContext`` (``as_sql=True``,
PostgreSQL dialect), so loops, helper functions and ``batch_alter_table`` come out exactly as
they would against a database. Every SQL text Alembic renders is recorded together with the
Alembic operation that produced it and the line of the migration file that issued it.

A script that cannot run offline (it reads query results through ``op.get_bind()``, or an
import fails) is reported with the reason, and its ``op.*`` calls are then evaluated one by one
from the AST so that most of its operations are still checked.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import itertools
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import MigrateOperation, Operations

from migsafe.project import MigrationScript, body_shape, failing_line

_module_ids = itertools.count()


@dataclass(frozen=True)
class Emitted:
    """One SQL text rendered by Alembic, with where it came from.

    ``sql`` is None for an operation that could not be rendered at all (its ``error`` says
    why), e.g. ``op.drop_constraint(None, ...)``.
    """

    sql: str | None
    line: int
    operation: MigrateOperation | None
    error: str | None = None


@dataclass
class Capture:
    """Everything one direction (upgrade or downgrade) of one script emitted."""

    function: str
    emitted: list[Emitted] = field(default_factory=list)
    fallback_reason: str | None = None

    @property
    def operations(self) -> list[Emitted]:
        """One entry per Alembic operation (the first SQL text of each)."""
        seen: set[int] = set()
        result = []
        for item in self.emitted:
            if item.operation is not None and id(item.operation) not in seen:
                seen.add(id(item.operation))
                result.append(item)
        return result


class _Recorder:
    """Alembic's output buffer: each ``write`` is one statement, attributed on arrival."""

    def __init__(self, path: Path) -> None:
        self.filename = str(path)
        self.emitted: list[Emitted] = []
        self.operations: list[MigrateOperation] = []

    def write(self, text: str) -> None:
        operation = self.operations[-1] if self.operations else None
        self.emitted.append(Emitted(text.strip(), self.issuing_line(), operation))

    def flush(self) -> None:
        """Alembic flushes after every statement; nothing is buffered here."""

    def issuing_line(self) -> int:
        """The innermost line of the migration file on the current call stack."""
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno
            frame = frame.f_back
        return 0

    @contextlib.contextmanager
    def operation(self, operation: MigrateOperation) -> Iterator[None]:
        self.operations.append(operation)
        try:
            yield
        finally:
            self.operations.pop()

    def unrenderable(self, operation: MigrateOperation, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {_one_line(exc)}"
        self.emitted.append(Emitted(None, self.issuing_line(), operation, error))


class _ApplyNow(list):
    """Stands in for a batch's op list: PostgreSQL never needs the table-copy batch mode,
    so each batch operation is applied the moment it is issued, which keeps its line."""

    def __init__(self, batch_impl: Any) -> None:
        super().__init__()
        self._batch_impl = batch_impl

    def append(self, entry: tuple[str, tuple, dict]) -> None:
        opname, args, kwargs = entry
        getattr(self._batch_impl.operations.impl, opname)(*args, **kwargs)


def _recording_operations(context: MigrationContext, recorder: _Recorder) -> Operations:
    """An ``Operations`` whose every operation, batch ones included, is attributed.

    The hooks are set on the instance (not a subclass) because Alembic's ``op`` module proxy
    is registered for the ``Operations`` class itself.
    """
    operations = Operations(context)
    operations.invoke = _recording_invoke(operations, recorder)  # type: ignore[method-assign]

    @contextlib.contextmanager
    def batch_alter_table(table_name: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with Operations.batch_alter_table(operations, table_name, *args, **kwargs) as batch_op:
            if batch_op.impl.recreate != "always":
                batch_op.impl.batch = _ApplyNow(batch_op.impl)
            batch_op.invoke = _recording_invoke(batch_op, recorder)
            yield batch_op

    operations.batch_alter_table = batch_alter_table  # type: ignore[method-assign]
    return operations


def _recording_invoke(operations: Any, recorder: _Recorder) -> Any:
    invoke = type(operations).invoke

    def recording_invoke(operation: MigrateOperation) -> Any:
        with recorder.operation(operation):
            try:
                return invoke(operations, operation)
            except Exception as exc:  # rendering failed: record why, let the script go on
                recorder.unrenderable(operation, exc)
                return None

    return recording_invoke


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def load_module(script: MigrationScript) -> types.ModuleType:
    """Import the script under a private name, as Alembic does, without touching sys.modules."""
    name = f"_migsafe_revision_{next(_module_ids)}"
    spec = importlib.util.spec_from_file_location(name, script.path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _offline_operations(script: MigrationScript) -> Iterator[tuple[Operations, _Recorder]]:
    recorder = _Recorder(script.path)
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": recorder, "literal_binds": True},
    )
    operations = _recording_operations(context, recorder)
    operations._install_proxy()
    try:
        yield operations, recorder
    finally:
        operations._remove_proxy()


def capture(script: MigrationScript) -> tuple[Capture, Capture]:
    """Capture upgrade() and downgrade() of one script."""
    try:
        module = load_module(script)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        reason = f"importing it failed ({type(exc).__name__}: {_one_line(exc)})"
        return (
            _capture_from_source(script, "upgrade", None, reason),
            _capture_from_source(script, "downgrade", None, reason),
        )
    return _capture_function(script, module, "upgrade"), _capture_function(
        script, module, "downgrade"
    )


def _capture_function(script: MigrationScript, module: types.ModuleType, name: str) -> Capture:
    function = getattr(module, name, None)
    if not callable(function):
        return Capture(name)  # no such function: nothing to capture
    with _offline_operations(script) as (_, recorder):
        try:
            function()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            if body_shape(script.function(name)) == "raises":  # a deliberate one-way revision
                return Capture(name, recorder.emitted)
            line = failing_line(exc, script.path)
            where = f" at line {line}" if line else ""
            needs_db = "get_bind" in script.source
            hint = " (it reads from the database through op.get_bind())" if needs_db else ""
            reason = (
                f"{name}() cannot run offline{where}{hint}: {type(exc).__name__}: {_one_line(exc)}"
            )
            return _capture_from_source(script, name, module, reason)
    return Capture(name, recorder.emitted)


def _capture_from_source(
    script: MigrationScript, name: str, module: types.ModuleType | None, reason: str
) -> Capture:
    """Evaluate each top-level ``op.*(...)`` call of the function on its own.

    Calls whose arguments are local variables cannot be evaluated this way and are skipped;
    everything with literal or module-level arguments is captured as usual.
    """
    function = script.function(name)
    if function is None:
        return Capture(name, fallback_reason=reason)
    namespace: dict[str, Any] = dict(vars(module)) if module is not None else _bare_namespace()
    with _offline_operations(script) as (operations, recorder):
        namespace["op"] = operations
        exec(_each_call_on_its_own(function, script.path), namespace)
    return Capture(name, recorder.emitted, fallback_reason=reason)


def _each_call_on_its_own(function: ast.FunctionDef, path: Path) -> types.CodeType:
    """One code object running every ``op.*`` call in its own ``try`` (one compile, not n)."""
    calls = sorted(_op_calls(function), key=lambda c: (c.lineno, c.col_offset))
    guarded = [
        ast.Try(
            body=[ast.Expr(call)],
            handlers=[ast.ExceptHandler(ast.Name("Exception", ast.Load()), None, [ast.Pass()])],
            orelse=[],
            finalbody=[],
        )
        for call in calls
    ]
    module = ast.Module(body=guarded or [ast.Pass()], type_ignores=[])
    return compile(ast.fix_missing_locations(module), str(path), "exec")


def _bare_namespace() -> dict[str, Any]:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    return {"sa": sa, "sqlalchemy": sa, "postgresql": postgresql, **vars(sa)}


def _op_calls(function: ast.FunctionDef) -> Iterator[ast.Call]:
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "op"
            and node.func.attr not in {"get_bind", "get_context", "batch_alter_table"}
        ):
            yield node

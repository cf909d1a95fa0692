"""The roundtrip's migrations run in a worker process (``migsafe.isolation``).

A migration may call ``sys.exit()``, ``os._exit()``, crash the interpreter or never return.
Run in migsafe's own process, the first would end the roundtrip with exit code 0 and no
report: a gate that passes. Here the ``Migrator`` lives in a worker with its own connection
to the workspace's database, and every step is a request to it: a step that exits, crashes
or runs past its time limit fails its revision (the worker is replaced, a statement still
running on the server is terminated) and the stairway goes on.

While the worker gets a step ready, migsafe reads the snapshot of the step before; the
worker waits for it to arrive (the workspace's ``quiet`` event) before it changes anything
(``Migrator.before_changes``).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from migsafe.isolation import Worker, WorkerLost, WorkerTimedOut
from migsafe.roundtrip.environment import AlembicProject
from migsafe.roundtrip.migrator import ForeignConnection, Migrator, step_error
from migsafe.roundtrip.result import StepError
from migsafe.roundtrip.workspace import Workspace


class IsolatedMigrator:
    """The parent's side: the ``Migrator`` interface, each call a request to the worker.

    ``upgrade``/``downgrade`` return ``(error, left_open)``: the step's error (None when it
    worked) and whether it left work outside Alembic's transaction.
    """

    def __init__(
        self,
        project: AlembicProject,
        workspace: Workspace,
        url: str,
        use_env: bool,
        target_metadata: Any,
        timeout: float,
        snapshot_arrived: Callable[[], None] = lambda: None,
    ) -> None:
        self._arguments = (project, use_env, target_metadata, workspace.quiet)
        self._meanwhile = _ReadingSnapshot(workspace, snapshot_arrived)
        self._timeout = timeout
        self._url = url
        self._worker: Worker | None = None
        self._backend_pid: int | None = None

    def upgrade(self, revision: str, step: str = "upgrade") -> tuple[StepError | None, bool]:
        return self._step(("upgrade", revision, step), step, self._timeout)

    def downgrade(self, revision: str) -> tuple[StepError | None, bool]:
        return self._step(("downgrade", revision, "downgrade"), "downgrade", self._timeout)

    def apply(self, revisions: list[str]) -> StepError | None:
        """Upgrade several revisions in order, as one run (rebuilding a database)."""
        error, _ = self._step(("apply", revisions, "upgrade"), "upgrade",
                              self._timeout * max(1, len(revisions)))  # fmt: skip
        return error

    def drift(self) -> list[str] | None:
        """The model drift, described; None when no target metadata is known."""
        kind, value = self._request(("drift", None, "drift"), self._timeout)
        if kind == "failed":
            raise RuntimeError(f"the drift check failed: {value.message}")
        return value

    def restart(self, url: str | None = None) -> None:
        """A new worker (and connection), on ``url`` when the database was replaced."""
        self.stop()
        self._url = url or self._url

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    def _step(
        self, request: tuple[str, Any, str], step: str, timeout: float
    ) -> tuple[StepError | None, bool]:
        kind, value = self._request(request, timeout)
        if kind == "done":
            return None, value
        return value, False

    def _request(self, request: tuple[str, Any, str], timeout: float) -> tuple[str, Any]:
        worker = self._started()
        step = request[2]
        try:
            worker.send(request)
            kind, value = worker.receive(timeout, self._meanwhile)
            if kind == "foreign":
                raise ForeignConnection(value)
            if kind == "failed":
                self.stop()  # its connection may be aborted: the next step gets a new one
            return kind, value
        except WorkerTimedOut as exc:
            self._terminate_backend()
            self._worker = None
            return "failed", StepError(step, f"the migration {exc}")
        except WorkerLost as exc:
            self._worker = None
            return "failed", StepError(step, f"the migration {exc}")

    def _started(self) -> Worker:
        if self._worker is None:
            self._worker = Worker(_serve, self._url, *self._arguments)
            message = self._worker.receive(self._timeout)
            if message[0] != "ready":  # the worker could not even connect
                self._worker.stop()
                self._worker = None
                raise RuntimeError(f"the migration worker failed to start: {message[1]}")
            self._backend_pid = message[1]
        return self._worker

    def _terminate_backend(self) -> None:
        """A step that ran out of time may still hold locks on the server: end it there."""
        if self._backend_pid is None:
            return
        engine = create_engine(self._url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                                   {"pid": self._backend_pid})  # fmt: skip
        finally:
            engine.dispose()


class _ReadingSnapshot:
    """What migsafe does while the worker runs a step: read the snapshot in flight."""

    def __init__(self, workspace: Workspace, arrived: Callable[[], None]) -> None:
        self._workspace, self._arrived = workspace, arrived

    def waiting_fds(self) -> list[int]:
        return self._workspace.waiting_fds()

    def make_progress(self) -> None:
        if self._workspace.make_progress():
            self._arrived()


def _serve(
    connection: Connection, url: str, project: AlembicProject, use_env: bool, metadata: Any,
    quiet: Any,
) -> None:  # fmt: skip
    """The worker: one connection, one Migrator, requests answered until the pipe closes."""
    engine = create_engine(url, poolclass=NullPool)
    event.listen(engine, "before_cursor_execute", _plain_sql_as_is, retval=True)
    try:
        database = engine.connect()
    except Exception as exc:
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    connection.send(("ready", database.connection.driver_connection.info.backend_pid))

    migrator = Migrator(project, database, use_env, metadata, quiet.wait)
    while True:
        try:
            action, argument, step = connection.recv()
        except EOFError:
            return
        connection.send(_answer(migrator, project, action, argument, step))


def _plain_sql_as_is(
    connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
) -> tuple[str, Any]:
    """SQL a migration hands the driver itself (``exec_driver_sql``), without parameters,
    goes to PostgreSQL as it is: psycopg 3 would otherwise read the ``%`` of
    ``format('%I', name)`` as a placeholder. SQL that SQLAlchemy compiled has its ``%``
    escaped for the parameters and keeps them."""
    if not parameters and getattr(context, "compiled", None) is None:
        return statement, None
    return statement, parameters


def _answer(
    migrator: Migrator, project: AlembicProject, action: str, argument: Any, step: str
) -> tuple[str, Any]:
    try:
        if action == "drift":
            return "done", migrator.drift_described()
        if action == "apply":
            migrator.apply(argument)
            return "done", False
        return "done", getattr(migrator, action)(argument)
    except ForeignConnection as exc:
        return "foreign", str(exc)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit included: a migration must not end the run
        path = _path_of(project, argument if isinstance(argument, str) else None)
        try:
            return "failed", step_error(step, exc, path)
        except Exception:
            return "failed", StepError(step, traceback.format_exception_only(exc)[-1].strip())


def _path_of(project: AlembicProject, revision: str | None) -> Path | None:
    if revision is None:
        return None
    return Path(project.scripts.get_revision(revision).path)

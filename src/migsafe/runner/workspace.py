"""The database the stairway works in, replaced by a fresh one when a failed step spoils it.

The stairway runs in a worker process (``isolated.py``), which may die at any moment; the
databases themselves are made and dropped by migsafe's own process, which hands the worker
the URL of a fresh one when it asks (``new_database``). The connections here are the
worker's: the working one, and the ``SnapshotReader``'s two.

SQL a migration hands the driver itself (``exec_driver_sql``) without parameters goes to
PostgreSQL as it is, so that the ``%`` of ``format('%I', name)`` is not read as a placeholder
by psycopg 3; SQL that SQLAlchemy compiled has its ``%`` escaped and keeps its parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from migsafe.schema.snapshot import Snapshot, SnapshotReader


class Workspace:
    def __init__(
        self, database_url: str, version_table: str = "alembic_version",
        version_schema: str = "public", new_database: Callable[[], str] | None = None,
        make_version_schema: bool = False,
    ) -> None:  # fmt: skip
        self.database_url = database_url
        self.make_version_schema = make_version_schema  # env.py makes it, when it is run
        self._new_database = new_database
        self.version_table, self.version_schema = version_table, version_schema
        self._current = ExitStack()
        self.connection: Connection | None = None
        self._snapshots: SnapshotReader | None = None

    def open(self) -> Connection:
        """Connect to the database the provider handed out."""
        return self._connect(self.database_url, ExitStack())

    def fresh(self) -> Connection:
        """Leave the current database and connect to a new, empty one."""
        assert self._new_database is not None, "this workspace cannot make databases"
        self.wait_for_snapshot()
        self.close()
        return self._connect(self._new_database(), ExitStack())

    def _connect(self, url: str, stack: ExitStack) -> Connection:
        try:
            engine = create_engine(url, poolclass=NullPool)
            event.listen(engine, "before_cursor_execute", _plain_sql_as_is, retval=True)
            stack.callback(engine.dispose)
            self._snapshots = SnapshotReader(engine, self.version_table, self.version_schema)
            stack.callback(self._snapshots.close)
            self.connection = stack.enter_context(engine.connect())
            self._make_version_schema()
        except BaseException:
            stack.close()
            raise
        self._current = stack
        return self.connection

    def _make_version_schema(self) -> None:
        """The schema of Alembic's version table, when it is not ``public``: Alembic does not
        make it (a deploy's env.py, or whoever set up the database, did), and the first
        revision failed on it ("schema "meta" does not exist"), or was blamed for it."""
        if not self.make_version_schema or self.connection is None:
            return
        if self.version_schema in ("", "public"):
            return
        name = '"' + self.version_schema.replace('"', '""') + '"'
        self.connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {name}")
        self.connection.commit()

    def reconnect(self) -> Connection:
        """A new connection to the same database (after an error may have left the old one
        aborted or in autocommit mode)."""
        assert self.connection is not None
        engine = self.connection.engine
        self.connection.close()
        self.connection = self._current.enter_context(engine.connect())
        return self.connection

    def snapshot(self) -> Snapshot:
        """The schema as committed, read while the caller goes on: call ``wait_for_snapshot`` before
        changing the schema. The working connection must not be inside a transaction (the
        snapshot could not see what it has not committed)."""
        assert self.connection is not None and self._snapshots is not None
        if self.connection.in_transaction():
            raise RuntimeError("a snapshot needs the working connection outside any transaction")
        return self._snapshots.start()

    def wait_for_snapshot(self) -> None:
        """Wait for the snapshot being read, if any."""
        if self._snapshots is not None:
            self._snapshots.wait_for_snapshot()

    def close(self) -> None:
        self.connection = None
        self._snapshots = None
        self._current.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _plain_sql_as_is(
    connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
) -> tuple[str, Any]:
    if not parameters and getattr(context, "compiled", None) is None:
        return statement, None
    return statement, parameters

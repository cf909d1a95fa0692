"""The database a roundtrip works in, replaced by a fresh one when a failed step spoils it.

The run starts in the database the provider handed out (migsafe's own: the disposable server's
database, or the scratch database on an existing server). A rebuild creates a new
``migsafe_<random>`` database next to it on the same server, and drops it again when it is
replaced in turn or when the roundtrip ends; the provider removes the first one.

Each database comes with its own ``SnapshotReader`` (two more connections), closed before
the database is dropped.
"""

from __future__ import annotations

from contextlib import ExitStack

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from migsafe.postgres.url import scratch_database
from migsafe.roundtrip.snapshot import Snapshot, SnapshotReader


class Workspace:
    def __init__(
        self, database_url: str, version_table: str = "alembic_version",
        version_schema: str = "public",
    ) -> None:  # fmt: skip
        self.database_url = database_url
        self.version_table, self.version_schema = version_table, version_schema
        self._current = ExitStack()
        self.connection: Connection | None = None
        self._snapshots: SnapshotReader | None = None
        self.rebuilds = 0

    def open(self) -> Connection:
        """Connect to the database the provider handed out."""
        return self._connect(self.database_url, ExitStack())

    def fresh(self) -> Connection:
        """Drop the current rebuilt database (if any) and connect to a new, empty one."""
        self.settle()
        self.close()
        stack = ExitStack()
        try:
            url = stack.enter_context(scratch_database(self.database_url))
        except BaseException:
            stack.close()
            raise
        return self._connect(url, stack)

    def _connect(self, url: str, stack: ExitStack) -> Connection:
        try:
            engine = create_engine(url, poolclass=NullPool)
            stack.callback(engine.dispose)
            self._snapshots = SnapshotReader(engine, self.version_table, self.version_schema)
            stack.callback(self._snapshots.close)
            self.connection = stack.enter_context(engine.connect())
        except BaseException:
            stack.close()
            raise
        self._current = stack
        return self.connection

    def reconnect(self) -> Connection:
        """A new connection to the same database (after an error may have left the old one
        aborted or in autocommit mode)."""
        assert self.connection is not None
        engine = self.connection.engine
        self.connection.close()
        self.connection = self._current.enter_context(engine.connect())
        return self.connection

    def snapshot(self) -> Snapshot:
        """The schema as committed, read while the caller goes on: call ``settle`` before
        changing the schema. The working connection must not be inside a transaction (the
        snapshot could not see what it has not committed)."""
        assert self.connection is not None and self._snapshots is not None
        if self.connection.in_transaction():
            raise RuntimeError("a snapshot needs the working connection outside any transaction")
        return self._snapshots.start()

    def settle(self) -> None:
        """Wait for the snapshot being read, if any."""
        if self._snapshots is not None:
            self._snapshots.settle()

    def close(self) -> None:
        self.connection = None
        self._snapshots = None
        self._current.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

"""The database a roundtrip works in, replaced by a fresh one when a failed step spoils it.

The run starts in the database the provider handed out (migsafe's own: the disposable server's
database, or the scratch database on an existing server). A rebuild creates a new
``migsafe_<random>`` database next to it on the same server, and drops it again when it is
replaced in turn or when the roundtrip ends; the provider removes the first one.

Each database comes with its own ``SnapshotReader`` (two connections), closed before the
database is dropped; the migrations' worker holds a third.
"""

from __future__ import annotations

from contextlib import ExitStack

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from migsafe.isolation import shared_event
from migsafe.postgres.url import scratch_database
from migsafe.roundtrip.snapshot import Snapshot, SnapshotReader


class Workspace:
    """The database migrations run in (by a worker: see ``isolated.py``), and the snapshot
    reader on it."""

    def __init__(
        self, database_url: str, version_table: str = "alembic_version",
        version_schema: str = "public",
    ) -> None:  # fmt: skip
        self.database_url = database_url
        self.version_table, self.version_schema = version_table, version_schema
        self._current = ExitStack()
        self._snapshots: SnapshotReader | None = None
        self.rebuilds = 0
        # set while no snapshot is on its way: the migrations' worker waits for it before
        # it changes anything
        self.quiet = shared_event()

    def open(self) -> str:
        """Start on the database the provider handed out; returns its URL."""
        self._attach(self.database_url, ExitStack())
        return self.database_url

    def fresh(self) -> str:
        """Drop the current rebuilt database (if any); returns the URL of a new, empty one."""
        self.settle()
        self.close()
        stack = ExitStack()
        try:
            url = stack.enter_context(scratch_database(self.database_url))
        except BaseException:
            stack.close()
            raise
        self._attach(url, stack)
        return url

    def _attach(self, url: str, stack: ExitStack) -> None:
        try:
            engine = create_engine(url, poolclass=NullPool)
            stack.callback(engine.dispose)
            self._snapshots = SnapshotReader(
                engine, self.version_table, self.version_schema, self.quiet
            )
            stack.callback(self._snapshots.close)
        except BaseException:
            stack.close()
            raise
        self._current = stack

    def snapshot(self) -> Snapshot:
        """The schema as committed, read while the caller goes on: call ``settle`` before
        changing the schema. The migrations' worker commits each step before it returns,
        so the snapshot sees all of it."""
        assert self._snapshots is not None
        return self._snapshots.start()

    def settle(self) -> None:
        """Wait for the snapshot being read, if any."""
        if self._snapshots is not None:
            self._snapshots.settle()

    def waiting_fds(self) -> list[int]:
        return self._snapshots.waiting_fds() if self._snapshots is not None else []

    def make_progress(self) -> bool:
        """Take what has arrived of the snapshot being read; True once it is all here."""
        return self._snapshots.make_progress() if self._snapshots is not None else True

    def close(self) -> None:
        self._snapshots = None
        self._current.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

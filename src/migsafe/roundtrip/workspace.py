"""The database a roundtrip works in, replaced by a fresh one when a failed step spoils it.

Every database here is created by migsafe on the server it was handed (a ``migsafe_<random>``
scratch database) and dropped when it is replaced or when the roundtrip ends.
"""

from __future__ import annotations

from contextlib import ExitStack

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from migsafe.postgres.url import scratch_database


class Workspace:
    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._current = ExitStack()
        self.url = ""
        self.connection: Connection | None = None
        self.rebuilds = 0

    def fresh(self) -> Connection:
        """Drop the current database (if any) and connect to a new, empty one."""
        self.close()
        stack = ExitStack()
        try:
            self.url = stack.enter_context(scratch_database(self.server_url))
            engine = create_engine(self.url, poolclass=NullPool)
            stack.callback(engine.dispose)
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

    def close(self) -> None:
        self.connection = None
        self._current.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

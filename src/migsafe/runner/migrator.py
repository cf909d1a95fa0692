"""Run exactly one revision up or down through Alembic's own machinery, on migsafe's connection.

Each step is one ``RevisionStep`` handed to Alembic's ``run_migrations``, so a stairway over a
branched history moves one revision at a time (``alembic downgrade <parent>`` would also undo
the sibling branch). By default migsafe configures the ``EnvironmentContext`` itself, the way
env.py would; ``use_env`` runs the project's env.py instead, with the connection handed over in
``config.attributes["connection"]`` (Alembic's cookbook pattern).

The connection given to Alembic is never inside a transaction, and every migration gets its own
transaction (``transaction_per_migration``): that is what lets ``autocommit_block()`` commit,
switch to autocommit for CREATE INDEX CONCURRENTLY, and begin again. Tools that hand Alembic a
connection already in a transaction make it treat the transaction as external, and then
``autocommit_block()`` cannot work.

``before_changes`` is called before anything may change the schema. While Alembic only reads
the version table to find where the database stands, a snapshot of the previous step may
still be read beside it; the migration itself, any other statement, and env.py wait for it.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationStep
from sqlalchemy import event
from sqlalchemy.engine import Connection

from migsafe.connection_guard import connections_checked
from migsafe.project import failing_line
from migsafe.runner.alembic_project import AlembicProject, ProjectError, loaded


@dataclass(frozen=True)
class StepError:
    """A step that raised: where in the migration file, the SQL it was running, the reason."""

    step: str  # upgrade, downgrade, re-upgrade
    message: str
    line: int | None = None
    sql: str | None = None


class ForeignConnection(RuntimeError):
    """env.py or a migration opened a connection to a database migsafe did not create."""


class Migrator:
    def __init__(
        self,
        project: AlembicProject,
        connection: Connection,
        use_env: bool = False,
        target_metadata: Any = None,
        before_changes: Callable[[], None] = lambda: None,
    ) -> None:
        if use_env and not project.env_py.is_file():
            raise ProjectError(f"{project.env_py}: --use-env needs an env.py, and there is none")
        self.project = project
        self.connection = connection
        self.use_env = use_env
        self.target_metadata = target_metadata
        self.before_changes = before_changes
        self._reading_heads = False  # Alembic is reading the version table, nothing else
        event.listen(connection, "before_cursor_execute", self._before_statement)

    def upgrade(self, revision: str) -> bool:
        """Apply one revision; True when it left work outside Alembic's transaction."""
        return self._run([self._step(revision, upgrade=True)])

    def downgrade(self, revision: str) -> bool:
        return self._run([self._step(revision, upgrade=False)])

    def apply(self, revisions: list[str]) -> None:
        """Upgrade several revisions in order, as one run (rebuilding a database)."""
        self._run([self._step(revision, upgrade=True) for revision in revisions])

    def drift(self) -> list[Any] | None:
        """Alembic's autogenerate comparison of target metadata with the database.

        None when no target metadata is known (neither given nor set by env.py).
        """
        from alembic.autogenerate import compare_metadata

        found: list[Any] | None = None

        def compare(heads: tuple[str, ...], context: Any) -> list[MigrationStep]:
            nonlocal found
            metadata = context.opts.get("target_metadata")
            if metadata is not None:
                found = list(compare_metadata(context, metadata))
            return []

        self._run_function(compare)
        return found

    def drift_described(self) -> list[str] | None:
        """``drift()`` as one line per difference (what crosses to migsafe's process)."""
        from migsafe.runner.drift import describe_drift

        found = self.drift()
        return None if found is None else [describe_drift(d) for d in found]

    def _step(self, revision: str, upgrade: bool) -> MigrationStep:
        script = self.project.scripts.get_revision(revision)
        revision_map = self.project.scripts.revision_map
        if upgrade:
            step = MigrationStep.upgrade_from_script(revision_map, script)
        else:
            step = MigrationStep.downgrade_from_script(revision_map, script)
        databases = self._databases()
        if databases and not self.use_env:
            step.migration_fn = _for_each_database(step.migration_fn, databases)
        return step

    def _databases(self) -> list[str]:
        """The databases alembic.ini names for Alembic's multi-database template, whose env.py
        calls each function once per database with its ``engine_name``."""
        named = self.project.config.get_main_option("databases") or ""
        return [name for name in re.split(r"[,\s]+", named) if name]

    def _run(self, steps: list[MigrationStep]) -> bool:
        self._run_function(lambda heads, context: steps)
        return self._commit_untracked()

    def _commit_untracked(self) -> bool:
        """Commit a transaction Alembic lost track of, and say so.

        After ``op.get_bind().commit()`` the statements that follow run in a transaction
        SQLAlchemy begins on its own; Alembic commits the one it began (already gone), so
        when the revision is the last one of a run the rest is rolled back when the
        connection closes, version stamp included. migsafe commits it, as the next revision
        of a longer run would, and reports it.
        """
        if not self.connection.in_transaction():
            return False
        self.connection.commit()
        return True

    def _before_statement(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not (self._reading_heads and statement.lstrip()[:6].upper() == "SELECT"):
            self.before_changes()

    def _run_function(self, fn: Any) -> None:
        if self.connection.in_transaction():
            self.connection.rollback()
        project = self.project

        def migrations(heads: tuple[str, ...], context: Any) -> Any:
            self._reading_heads = False
            self.before_changes()
            return fn(heads, context)

        # env.py, and the migrations, read the URL of the database from the config, and
        # may open connections of their own: they get migsafe's, and no other is let through
        url = self.connection.engine.url.render_as_string(hide_password=False)
        project.config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        with (
            EnvironmentContext(project.config, project.scripts, fn=migrations) as environment,
            only_connections_to(self.connection),
        ):
            if self.use_env:  # env.py opens the connection: nothing runs beside it
                self.before_changes()
                project.config.attributes["connection"] = self.connection
                project.scripts.run_env()
            else:
                metadata = self.target_metadata
                environment.configure(
                    connection=self.connection,
                    target_metadata=metadata,
                    # a model with tables in schemas of their own is compared there too
                    include_schemas=metadata is not None
                    and any(table.schema for table in metadata.tables.values()),
                    version_table=project.version_table,
                    version_table_schema=project.version_schema,
                    transaction_per_migration=True,
                )
                self._reading_heads = True
                try:
                    with environment.begin_transaction():
                        environment.run_migrations()
                finally:
                    self._reading_heads = False


def _for_each_database(function: Callable[..., Any], databases: list[str]) -> Callable[..., None]:
    """``upgrade(engine_name)`` of the multi-database template, called for each database in
    turn as its env.py does; here all of them run in the one scratch database. A function
    that takes no ``engine_name`` is called once, as written."""

    @functools.wraps(function)
    def each(**arguments: Any) -> None:
        real = loaded(function)
        try:
            takes = "engine_name" in inspect.signature(real).parameters
        except (TypeError, ValueError):
            takes = False
        if not takes:
            real(**arguments)
            return
        for name in databases:
            real(engine_name=name, **arguments)

    return each


@contextmanager
def only_connections_to(connection: Connection) -> Iterator[None]:
    """Refuse any new database connection env.py or a migration opens to a database other
    than ours: through SQLAlchemy (an engine of its own, from an environment variable), or
    through the driver itself (``psycopg.connect(os.environ["PROD_DSN"])``). Each is closed
    as soon as it is open, before a statement runs on it."""
    ours = connection.connection.driver_connection.info
    expected = (ours.host, ours.port, ours.dbname)

    def check(dbapi_connection: Any, record: Any = None) -> None:
        info = getattr(dbapi_connection, "info", None)
        actual = (getattr(info, "host", None), getattr(info, "port", None),
                  getattr(info, "dbname", None))  # fmt: skip
        if actual != expected:
            dbapi_connection.close()
            raise ForeignConnection(
                f"connected to database {actual[2]!r} on {actual[0]}, not to the one migsafe "
                "created; connect through op.get_bind() (and env.py through "
                "config.attributes['connection']: see docs/roundtrip.md)"
            )

    with connections_checked(check):
        yield


def step_error(step: str, exc: BaseException, path: Path | None) -> StepError:
    """One line of reason, the SQL being run and the line of the migration file that ran it."""
    from sqlalchemy.exc import StatementError

    line = failing_line(exc, path) if path is not None else None
    if isinstance(exc, SystemExit):
        return StepError(step, f"the migration called sys.exit({exc.code!r})", line)
    original = getattr(exc, "orig", None) or exc
    reason = str(original).strip().splitlines()[0] if str(original).strip() else ""
    message = f"{type(original).__name__}: {reason}" if reason else type(original).__name__
    sql = exc.statement if isinstance(exc, StatementError) else None
    return StepError(step, message, line, " ".join(sql.split()) if sql else None)

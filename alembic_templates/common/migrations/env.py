"""Alembic's environment, from migsafe's template: safe defaults for PostgreSQL.

- Every migration runs in its own transaction, with lock_timeout and statement_timeout from
  alembic.ini; inside op.get_context().autocommit_block() (CONCURRENTLY) statement_timeout is
  lifted, as an index build on a big table takes as long as it takes.
- The database comes from DATABASE_URL, else sqlalchemy.url in alembic.ini. A connection
  handed over in config.attributes["connection"] (tests, `migsafe roundtrip --use-env`,
  `migsafe revision --autogenerate`) is used as it is.
- A migration that cannot get a lock within lock_timeout is run again after a pause
  (migsafe.runtime.retry_on_lock_timeout, when alembic-migsafe is installed).
- `alembic upgrade --sql` needs no database.
"""

from __future__ import annotations

{{stdlib_imports}}
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from logging.config import fileConfig

from alembic import context
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import {{sqlalchemy_imports}}
{{engine_imports}}

{{metadata_import}}

try:  # alembic-migsafe where the migrations run: a busy lock is waited out, not fatal
    from migsafe.runtime import retry_on_lock_timeout
except ImportError:

    def retry_on_lock_timeout(run: Callable[[], None], **options: object) -> None:
        run()

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = {{metadata_expression}}
LOCK_TIMEOUT = config.get_main_option("lock_timeout", "5s")
STATEMENT_TIMEOUT = config.get_main_option("statement_timeout", "15min")


def database_url(required: bool) -> str | None:
    url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        if required:
            raise CommandError("no database: set DATABASE_URL, or sqlalchemy.url in alembic.ini")
        return None
    for scheme in ("postgres://", "postgresql://"):  # psycopg 3, not SQLAlchemy's psycopg2
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def configure(**options: object) -> MigrationContext:
    context.configure(
        target_metadata=target_metadata,
        transaction_per_migration=True,
        compare_type=True,
        **options,
    )
    migration = context.get_context()
    migration.autocommit_block = _without_statement_timeout(migration)  # type: ignore[method-assign]
    return migration


def _setting(name: str, value: str) -> str:
    return "SET {} = '{}'".format(name, value.replace("'", "''"))


def _without_statement_timeout(
    migration: MigrationContext,
) -> Callable[[], AbstractContextManager[None]]:
    autocommit_block = migration.autocommit_block

    @contextmanager
    def block() -> Iterator[None]:
        with autocommit_block():
            migration.execute(_setting("statement_timeout", "0"))
            try:
                yield
            finally:
                migration.execute(_setting("statement_timeout", STATEMENT_TIMEOUT))

    return block


def run_migrations_offline() -> None:
    """Write the SQL instead of running it (alembic upgrade --sql)."""
    url = database_url(required=False)
    migration = configure(
        url=url, dialect_name=None if url else "postgresql", literal_binds=True
    )
    migration.execute(_setting("lock_timeout", LOCK_TIMEOUT))
    migration.execute(_setting("statement_timeout", STATEMENT_TIMEOUT))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    """Set the timeouts for the session, then run each migration in its own transaction."""
    idle = not connection.in_transaction()
    connection.execute(text(_setting("lock_timeout", LOCK_TIMEOUT)))
    connection.execute(text(_setting("statement_timeout", STATEMENT_TIMEOUT)))
    if idle:
        connection.commit()  # only the SETs were in it; each migration begins its own
    configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


{{run_online}}


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

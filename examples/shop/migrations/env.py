"""Alembic environment of the example shop project."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = None


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Use the connection a caller handed over (migsafe roundtrip, tests), else make one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        run_migrations(connection)


def run_migrations(connection: Connection) -> None:
    # a migration waits at most 5 s for a lock, instead of queueing the application behind it
    idle = not connection.in_transaction()
    connection.exec_driver_sql("SET lock_timeout = '5s'")
    if idle:
        connection.commit()  # only the SET was in it: each migration begins its own
    context.configure(
        connection=connection, target_metadata=target_metadata, transaction_per_migration=True
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

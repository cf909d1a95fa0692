"""Minimal env.py for the benchmark's script directory: the Alembic cookbook pattern of using
what the caller hands over in ``config.attributes["connection"]`` (a Connection from the bare
stairway, an Engine from pytest-alembic)."""

from alembic import context
from sqlalchemy.engine import Engine


def run(connection) -> None:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


connectable = context.config.attributes["connection"]
if isinstance(connectable, Engine):
    with connectable.connect() as connection:
        run(connection)
else:
    run(connectable)

"""An existing server: migsafe creates a scratch database there, works only in it, drops it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from migsafe.postgres.binaries import PostgresUnavailable


def masked(url: str) -> str:
    """The URL with its password hidden, for every message and log line."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """Create ``migsafe_<random>`` on the server of ``url``, yield its URL, drop it after.

    Only that database is ever touched; the database named in ``url`` is used only to
    connect and issue CREATE/DROP DATABASE.
    """
    import psycopg

    parsed = make_url(url).set(drivername="postgresql+psycopg")
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"migsafe_{secrets.token_hex(6)}"
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()).replace(parsed.password or "\0", "***")
        raise PostgresUnavailable(f"cannot connect to {masked(url)}: {reason}") from None
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield parsed.set(database=name).render_as_string(hide_password=False)
        finally:
            force = " WITH (FORCE)" if connection.info.server_version >= 130000 else ""
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"{force}')

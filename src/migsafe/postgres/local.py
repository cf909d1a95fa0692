"""A throwaway PostgreSQL server from local binaries, started and stopped by migsafe itself.

``initdb`` runs once per major version into a cached template data directory; each run copies
it (on tmpfs when there is room) and starts ``postgres`` directly as a child process, on a unix
socket in a private directory, with durability switched off. The child gets a parent-death
signal, so a migsafe that is SIGKILLed takes its server with it; run directories left by such
a run are removed at the next start.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from migsafe.cache import cache_directory
from migsafe.lifetime import die_with_parent
from migsafe.postgres.binaries import (
    Installation,
    PostgresUnavailable,
    running_as_root,
    unprivileged_account,
    usable_by,
)
from migsafe.postgres.watchdog import alive, spawn

PORT = 5432
READY_TIMEOUT = 30.0
TMPFS = Path("/dev/shm")
TMPFS_MIN_FREE = 512 * 1024 * 1024
SPEED_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
# Dynamic shared memory as files in the data directory, not POSIX segments in /dev/shm: a
# SIGKILLed server leaves none behind (the run directory goes, and with it the files)
RUN_SETTINGS = (*SPEED_SETTINGS, "dynamic_shared_memory_type=mmap")


def runtime_dir() -> Path:
    """Where data directories live: tmpfs when it has room (file creation on disk is slow)."""
    if TMPFS.is_dir() and shutil.disk_usage(TMPFS).free >= TMPFS_MIN_FREE:
        return TMPFS / f"migsafe-{os.getuid()}"
    return cache_directory() / "run"


@dataclass
class LocalServer:
    """One running server; ``url`` is a SQLAlchemy URL over the unix socket."""

    run_dir: Path
    process: subprocess.Popen
    socket_dir: Path
    watchdog: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.socket_dir}&port={PORT}"

    @property
    def psql_command(self) -> str:
        return f"psql -h {self.socket_dir} -p {PORT} -U postgres postgres"

    def stop(self) -> None:
        """Immediate shutdown (the data is thrown away anyway), then remove every file."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGQUIT)
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            if self.watchdog is not None:
                self.watchdog.wait()


def start(installation: Installation) -> LocalServer:
    """Start a server from ``installation``; raise PostgresUnavailable with the reason."""
    if sys.platform == "win32":
        raise PostgresUnavailable(
            "the local PostgreSQL driver runs on Linux and macOS; on Windows pass "
            "--postgres docker or --postgres URL of an existing server"
        )
    try:
        return _start(installation)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise PostgresUnavailable(
            f"no space left on device for a PostgreSQL data directory ({exc.filename or ''}): "
            "free some space or point MIGSAFE_CACHE_DIR at a disk that has room"
        ) from None


def _start(installation: Installation) -> LocalServer:
    account = unprivileged_account() if running_as_root() else None
    cache = cache_directory()
    _make_dir(cache, account=None, mode=0o755)
    bin_dir = usable_by(installation, account, cache) if account else installation.bin_dir
    template = _template(bin_dir, installation, cache, account)
    base = runtime_dir()
    _make_dir(base, account=None, mode=0o755)
    remove_stale_runs(base)
    run_dir = base / f"run-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        _make_dir(run_dir, account, mode=0o700)
        data, sockets = run_dir / "data", run_dir / "socket"
        _copy_owned(template, data, account)
        _make_dir(sockets, account, mode=0o700)
        log = open(run_dir / "server.log", "wb")  # noqa: SIM115 - handed to the child
        with log:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-k", str(sockets), "-p", str(PORT),
                 "-c", "listen_addresses=", *_settings()],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, **_as_account(account),
            )  # fmt: skip
        watchdog = None if sys.platform == "linux" else spawn(process.pid)
        server = LocalServer(run_dir, process, sockets, watchdog)
        _wait_until_ready(server, data)
        return server
    except BaseException:
        _kill_leftovers(run_dir)
        raise


def _settings() -> list[str]:
    return [arg for setting in RUN_SETTINGS for arg in ("-c", setting)]


def _as_account(account: object | None) -> dict:
    """Popen arguments that switch to ``account`` and then arm the parent-death signal.

    The signal must be set after the user switch: Linux clears it on a credential change.
    """
    options: dict = {"preexec_fn": die_with_parent} if sys.platform == "linux" else {}
    if account is not None:
        options.update(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
    return options


def _template(bin_dir: Path, installation: Installation, cache: Path, account) -> Path:
    template = cache / "templates" / f"{installation.origin}-{installation.major}"
    if (template / "PG_VERSION").is_file():
        return template
    _make_dir(template.parent, account=None, mode=0o755)
    staging = template.with_name(f"{template.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    _make_dir(staging, account, mode=0o700)
    completed = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(staging), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--locale=C", "--no-sync"],
        capture_output=True, text=True, check=False, **_as_account(account),
    )  # fmt: skip
    if completed.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = " | ".join((completed.stderr or completed.stdout).strip().splitlines()[-3:])
        raise PostgresUnavailable(f"initdb failed in {staging}: {tail}")
    try:
        staging.rename(template)
    except OSError:  # another migsafe made it first
        shutil.rmtree(staging, ignore_errors=True)
    return template


def _wait_until_ready(server: LocalServer, data: Path) -> None:
    """Poll postmaster.pid until the server says "ready" (no fixed sleeps)."""
    pid_file = data / "postmaster.pid"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise PostgresUnavailable(f"postgres exited at start: {_log_tail(server.run_dir)}")
        try:
            lines = pid_file.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            lines = []
        if len(lines) >= 8 and lines[7].strip() == "ready":
            return
        time.sleep(0.002)
    raise PostgresUnavailable(
        f"postgres was not ready after {READY_TIMEOUT:.0f} s: {_log_tail(server.run_dir)}"
    )


def _log_tail(run_dir: Path, lines: int = 3) -> str:
    try:
        text = (run_dir / "server.log").read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return " | ".join(text.strip().splitlines()[-lines:])


def _make_dir(path: Path, account, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)
    path.chmod(mode)


def _copy_owned(source: Path, target: Path, account) -> None:
    shutil.copytree(source, target, symlinks=True)
    if account is not None:
        for directory, _, files in os.walk(target):
            os.chown(directory, account.pw_uid, account.pw_gid)
            for name in files:
                os.chown(os.path.join(directory, name), account.pw_uid, account.pw_gid)
    target.chmod(0o700)


def remove_stale_runs(base: Path) -> list[Path]:
    """Remove run directories whose migsafe process no longer exists (it was killed)."""
    removed = []
    for run_dir in base.glob("run-*-*"):
        pid = run_dir.name.split("-")[1]
        if pid.isdigit() and not alive(int(pid)):
            _kill_leftovers(run_dir)
            removed.append(run_dir)
    return removed


def _kill_leftovers(run_dir: Path) -> None:
    """Stop a server still running from ``run_dir`` (if any), then delete the directory."""
    pid_file = run_dir / "data" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass
    shutil.rmtree(run_dir, ignore_errors=True)

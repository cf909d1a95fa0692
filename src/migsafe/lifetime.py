"""Children that never outlive migsafe, whatever way migsafe ends."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child process: be SIGKILLed as soon as the parent dies (Linux; elsewhere a
    watchdog or the closed pipe to the parent ends the child)."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the signal was armed
        os._exit(1)


_PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> None:
    """In a worker: the processes a migration starts and detaches (``start_new_session``, a
    double fork) become this process's children when their parent ends, instead of init's,
    so that ``kill_descendants`` still finds them (Linux; elsewhere their process group is
    all that is killed)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def kill_descendants(pid: int) -> None:
    """SIGKILL every process below ``pid``, whatever its session or group, until none is
    left (one may fork while the others are killed). Read from /proc; a no-op without it."""
    for _ in range(10):
        below = _descendants(pid)
        if not below:
            return
        for child in below:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGKILL)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if fields[0] != b"Z":  # a zombie is dead already: its parent reaps it
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, queue = [], list(children.get(pid, ()))
    while queue:
        child = queue.pop()
        found.append(child)
        queue.extend(children.get(child, ()))
    return found

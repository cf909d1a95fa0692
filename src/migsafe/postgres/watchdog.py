"""Kill a server whose migsafe died, where Linux's parent-death signal does not exist.

Started as ``python -m migsafe.postgres.watchdog PARENT_PID SERVER_PID`` next to the server on
macOS and Windows; it polls twice a second and exits as soon as either process is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

POLL_SECONDS = 0.5


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch(parent: int, server: int, poll: float = POLL_SECONDS) -> None:
    """Return when ``server`` exits; SIGKILL it first if ``parent`` goes before it."""
    while alive(server):
        if not alive(parent):
            os.kill(server, getattr(signal, "SIGKILL", signal.SIGTERM))
            return
        time.sleep(poll)


def spawn(server: int) -> subprocess.Popen:
    """Start a watchdog for ``server`` on behalf of this process."""
    return subprocess.Popen(
        [sys.executable, "-m", "migsafe.postgres.watchdog", str(os.getpid()), str(server)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


if __name__ == "__main__":
    watch(int(sys.argv[1]), int(sys.argv[2]))

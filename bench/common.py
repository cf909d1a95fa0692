"""What the whole-process benchmarks share: timing a command, and compiling sources first.

This workplace sets PYTHONDONTWRITEBYTECODE, so a source tree that was never compiled is
compiled again by every process. An installed wheel has its .pyc files (pip writes them at
install time), and so do the packages the baselines run on; ``precompile`` gives migsafe's
source tree and the third-party histories the same footing before anything is timed.
"""

from __future__ import annotations

import compileall
import subprocess
import sys
import time
from pathlib import Path


def precompile(*directories: Path) -> None:
    for directory in directories:
        compileall.compile_dir(str(directory), quiet=1)


def timed(
    command: list[str], env: dict[str, str] | None = None, accepted: tuple[int, ...] = (0,)
) -> float:
    """Seconds the command took as a whole process; stops the benchmark if it exits with a
    code not in ``accepted`` (a run that failed half-way would time nothing useful)."""
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode not in accepted:
        tail = (completed.stdout + completed.stderr).strip().splitlines()[-5:]
        sys.exit(f"{' '.join(command[:4])} failed:\n" + "\n".join(tail))
    return elapsed

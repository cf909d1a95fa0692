"""A migration's output, shown for its first run only.

A capture runs a function more than once: again as a deploy runs it, where reads find a
row, where a table asked for exists. What the function prints (airflow's "processing batch
1", mlflow's banner about its long migration) was written to stderr each time, as if the
migration had run over and over. The runs after the first write to nowhere: the standard
streams' descriptors point at ``os.devnull`` meanwhile, so a logging handler holding the
stream object is silent too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def output_silenced() -> Iterator[None]:
    """Descriptors 1 and 2 at ``os.devnull`` while inside, put back after; what Python
    buffered before is written first, what it buffered inside is dropped with it. One the
    migration closed already (in its first run) is left as it is."""
    _flushed()
    saved: dict[int, int] = {}
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            saved[fd] = _copy_above_the_standard_streams(fd)
    opened = os.open(os.devnull, os.O_WRONLY)
    null = _copy_above_the_standard_streams(opened)
    os.close(opened)
    try:
        for fd in saved:
            os.dup2(null, fd)
        yield
    finally:
        _flushed()
        for fd, kept in saved.items():
            with contextlib.suppress(OSError):  # (the migration may close what it finds open)
                os.dup2(kept, fd)
                os.close(kept)
        with contextlib.suppress(OSError):
            os.close(null)


def _copy_above_the_standard_streams(fd: int) -> int:
    """A copy of ``fd`` numbered 3 or above: one numbered 1 (the lowest free descriptor,
    where the migration closed its stdout) would be closed by the migration's next
    ``os.close(1)``."""
    low: list[int] = []
    copy = os.dup(fd)
    while copy <= 2:  # (os.dup takes the lowest free number; F_DUPFD is POSIX only)
        low.append(copy)
        copy = os.dup(fd)
    for taken in low:
        os.close(taken)
    return copy


def _flushed() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # closed or replaced by the migration
            stream.flush()

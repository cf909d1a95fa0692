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
    buffered before is written first, what it buffered inside is dropped with it."""
    _flushed()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        _flushed()
        for fd, kept in zip((1, 2), saved, strict=True):
            os.dup2(kept, fd)
            os.close(kept)
        os.close(null)


def _flushed() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # closed or replaced by the migration
            stream.flush()

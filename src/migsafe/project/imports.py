"""The import path a project's migrations expect (alembic.ini's ``prepend_sys_path``)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def import_path(extra: Iterable[Path]) -> Iterator[None]:
    """Let migration scripts import the project's own modules, as Alembic's env would."""
    added = [str(p) for p in (*extra, Path.cwd())]
    saved = list(sys.path)
    sys.path[:0] = [p for p in added if p not in sys.path]
    try:
        yield
    finally:
        sys.path[:] = saved

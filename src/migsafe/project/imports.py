"""The import path a project's migrations expect (alembic.ini's ``prepend_sys_path``), and
finding a module on a path without importing it."""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Iterable, Iterator, Sequence
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


def find_module(name: str, search_path: Sequence[str]) -> importlib.machinery.ModuleSpec | None:
    """Where the dotted module ``name`` is on ``search_path``, found without importing it
    or its packages; None when it is not there."""
    path: Sequence[str] | None = list(search_path)
    spec = None
    for part in name.split("."):
        if path is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(part, path)
        if spec is None:
            return None
        path = spec.submodule_search_locations
    return spec


def application_package(env_py: Path) -> Path | None:
    """The top-level package directory env.py belongs to, when it is inside one: above the
    top-most directory with an ``__init__.py`` (mlflow's env.py sits deep in
    mlflow/store/db_migrations; zun's, conda-store's and nbgrader's in a script directory
    that is no package, inside one)."""
    directory = env_py.resolve().parent  # relative, "." would be its own parent
    if not (directory / "__init__.py").is_file():
        directory = directory.parent  # zun/db/sqlalchemy/alembic/env.py: the package is above
    if not (directory / "__init__.py").is_file():
        return None
    while (directory.parent / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    return directory

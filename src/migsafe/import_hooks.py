"""What a finder placed first on ``sys.meta_path`` needs to act on an import and leave the
rest to the finders after it: the spec they would give, and a loader around theirs.

Shared by the stand-ins (a project module whose import fails keeps what it defined), and by
what patches a module only once something imports it (``patched_when_imported``): the
connection guard's database drivers, the 1.x calls of SQLAlchemy's ORM.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


def spec_from_the_others(
    finder: object,
    fullname: str,
    path: Any,
    target: Any,
    skip: Callable[[object], bool] = lambda other: False,
) -> importlib.machinery.ModuleSpec | None:
    """The spec the finders after ``finder`` (but those ``skip`` says) give for ``fullname``."""
    for other in sys.meta_path:
        if other is finder or skip(other) or not hasattr(other, "find_spec"):
            continue
        spec = other.find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


class WrappingLoader(importlib.abc.Loader):
    """A loader around another: it makes the module as that one does, and answers for it
    otherwise (``get_source``, ``is_package``, resource readers); a subclass decides how the
    module runs (``exec_module``, calling ``self._loader.exec_module``)."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


@contextmanager
def patched_when_imported(
    names: Iterable[str], patch: Callable[[types.ModuleType], None]
) -> Iterator[None]:
    """``patch`` each module of ``names`` while inside: now, for one imported already;
    as its import ends, for one imported meanwhile (each time it is: a project's module
    taken out of ``sys.modules`` is imported anew). What ``patch`` changes is its to undo
    (the caller's context restores it); importing a module only to patch it costs a run
    that never needs it (psycopg: 40 ms; SQLAlchemy's ORM: 50 ms)."""
    waiting = set()
    for name in names:
        if name in sys.modules:
            patch(sys.modules[name])
        else:
            waiting.add(name)
    finder = _PatchOnImport(waiting, patch)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: a module of its names that the finders after it find
    is patched as soon as it has run."""

    def __init__(self, names: set[str], patch: Callable[[types.ModuleType], None]) -> None:
        self._names = names
        self._patch = patch
        self._finding: set[str] = set()  # asked again by a finder it asked: not its turn

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._names or fullname in self._finding:
            return None
        self._finding.add(fullname)
        try:
            spec = spec_from_the_others(self, fullname, path, target)
        finally:
            self._finding.discard(fullname)
        if spec is None or spec.loader is None or spec.origin is None:  # (a stand-in)
            return spec
        spec.loader = _PatchingLoader(spec.loader, self._patch)
        return spec


class _PatchingLoader(WrappingLoader):
    def __init__(self, loader: Any, patch: Callable[[types.ModuleType], None]) -> None:
        super().__init__(loader)
        self._patch = patch

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        self._patch(module)

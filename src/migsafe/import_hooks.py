"""What a finder placed first on ``sys.meta_path`` needs to act on an import and leave the
rest to the finders after it: the spec they would give, and a loader around theirs.

Shared by the stand-ins (a project module whose import fails keeps what it defined) and the
connection guard (a database driver is patched as its import ends).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable
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

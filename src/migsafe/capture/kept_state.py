"""What a run in a made-up world leaves in the project's modules is undone after it.

A migration, or a helper of the application, may keep what it read in a module-level cache
(``_cache["legacy"] = [r.id for r in bind.execute(...)]``, a ``functools.cache``): the rows
made up for one run would then be what the runs after it read, real ones included, and a
later script's read would never reach the database (a tester's helper module). Around each
such run the project's modules and the script's own are kept as they were: their names,
the contents of their dicts, lists and sets, and their functions' caches, emptied after.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import types
from collections.abc import Iterable, Iterator
from typing import Any

from migsafe.capture.code_origin import is_project_file

_Containers = dict | list | set


@contextlib.contextmanager
def kept_as_they_were(namespaces: Iterable[dict[str, Any]]) -> Iterator[None]:
    """Inside, the namespaces (modules' ``__dict__``) may change; afterwards they, and the
    containers they held, are as they were."""
    saved = []
    for namespace in namespaces:
        names = dict(namespace)
        held = {id(value): (value, _copy(value)) for name, value in names.items()
                if issubclass(type(value), _Containers) and not name.startswith("__")}  # fmt: skip
        # (``__builtins__`` is the builtins' own dict: a module's, not its state)
        saved.append((namespace, names, held))
    try:
        yield
    finally:
        for namespace, names, held in saved:
            namespace.clear()
            namespace.update(names)
            for value, contents in held.values():
                _put_back(value, contents)
            for value in names.values():
                clear = inspect.getattr_static(value, "cache_clear", None)
                if callable(clear) and not issubclass(type(value), type):
                    value.cache_clear()


def project_namespaces(script: dict[str, Any]) -> list[dict[str, Any]]:
    """The script's namespace (not in ``sys.modules``), and those of the project's modules
    it names: a module it imports, the module of a function or a class it imports (the
    tester's ``from mighelpers import legacy_ids``). Not every module of the project: on
    superset's history, keeping hundreds of them around each made-up run cost half the
    check."""
    found = {id(script): script}
    for value in list(script.values()):  # looked at as they are, never through a proxy's
        # ``__getattr__`` or ``__class__`` (lazy_object_proxy's would make its object)
        owner = inspect.getattr_static(value, "__module__", None)
        module = value if issubclass(type(value), types.ModuleType) else sys.modules.get(
            owner if isinstance(owner, str) else ""
        )  # fmt: skip
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str) and is_project_file(filename):
            namespace = vars(module)
            found.setdefault(id(namespace), namespace)
    return list(found.values())


def _copy(value: dict | list | set) -> Any:
    return dict(value) if isinstance(value, dict) else list(value)


def _put_back(value: dict | list | set, contents: Any) -> None:
    value.clear()
    if isinstance(value, dict):
        value.update(contents)
    elif isinstance(value, list):
        value.extend(contents)
    else:
        value.update(contents)

"""The installed libraries env.py imports, imported before the migrations run.

Under ``alembic upgrade`` env.py runs first, and its imports can change what a migration may
call: ``from geoalchemy2 import alembic_helpers`` registers ``op.add_geospatial_column``,
``import alembic_postgresql_enum`` registers ``op.sync_enum_values``. check does not run
env.py (it connects, configures and runs migrations), but imports what it imports from the
environment, so those operations exist. The application's own modules are not imported here:
a migration that needs one imports it itself, and one that reaches it as an attribute of its
package, as env.py's import left it, gets it then (``submodules_on_first_use``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import sys
import time
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from migsafe.capture.code_origin import is_project_file
from migsafe.import_hooks import patched_when_imported
from migsafe.project.imports import import_path
from migsafe.project.target_metadata import ConventionSource


def import_installed(names: Iterable[str]) -> tuple[str, ...]:
    """Import each of ``names`` that an installed library provides; skip the rest (the
    project's own, or failing to import: the migration then fails, or not, as it would
    have). Returns those found nowhere: not installed here, which a notice about an
    operation a plugin would have registered names."""
    missing = []
    for name in names:
        if name in sys.modules:
            continue
        if not _installed(name.partition(".")[0]):
            if not _found(name.partition(".")[0]):
                missing.append(name)
            continue
        try:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        except (Exception, SystemExit):  # one that cannot be imported here registers nothing
            continue
    return tuple(missing)


# packages whose attributes migsafe hands out itself while capturing (stand_ins: SQLAlchemy's
# submodules on first use), or that are whole when imported (alembic.op, alembic.context)
_OWN_ATTRIBUTES = frozenset(("sqlalchemy", "alembic"))


@contextmanager
def submodules_on_first_use(imported: Iterable[str]) -> Iterator[None]:
    """While inside, a module env.py imports (``imported``) that a migration reaches as an
    attribute of its package is imported then, as env.py's import had made it one.

    prefect's migrations ``import prefect`` and call ``prefect.server.utilities.database
    .UUID()``: under ``alembic upgrade``, env.py imported that module first. Importing what
    env.py imports of the application before every check would cost the histories that never
    need it (conda-store's models import conda_lock: a quarter second); this imports each
    such module when, and only when, a migration asks its package for it. A package's own
    ``__getattr__`` answers the rest; nothing else is changed, and all is put back after."""
    children: dict[str, set[str]] = {}
    for name in imported:
        parts = name.split(".")
        if parts[0] not in _OWN_ATTRIBUTES:
            for depth in range(1, len(parts)):
                children.setdefault(".".join(parts[:depth]), set()).add(parts[depth])
    given: list[tuple[types.ModuleType, Any, Callable[[str], Any]]] = []

    def patch(package: types.ModuleType) -> None:
        names = children.get(package.__name__)
        if names is None:  # a module that renamed itself as it ran
            return
        own = vars(package).get("__getattr__")
        getter = _imported_on_first_use(package.__name__, names, own)
        package.__getattr__ = getter  # type: ignore[attr-defined]
        given.append((package, own, getter))

    try:
        with patched_when_imported(children, patch):
            yield
    finally:
        for package, own, getter in reversed(given):
            if vars(package).get("__getattr__") is getter:  # not replaced since
                if own is None:
                    del package.__getattr__  # type: ignore[attr-defined]
                else:
                    package.__getattr__ = own  # type: ignore[attr-defined]


def _imported_on_first_use(
    package: str, names: set[str], own: Callable[[str], Any] | None
) -> Callable[[str], Any]:
    def __getattr__(attribute: str) -> Any:
        if attribute in names:
            submodule = f"{package}.{attribute}"
            try:
                return importlib.import_module(submodule)
            except ModuleNotFoundError as exc:
                if exc.name != submodule:  # the submodule is there: an import of its failed
                    raise
        if own is not None:
            return own(attribute)
        raise AttributeError(f"module {package!r} has no attribute {attribute!r}")

    return __getattr__


def _found(top_level: str) -> bool:
    try:
        return importlib.util.find_spec(top_level) is not None
    except (ImportError, ValueError):
        return False


def _installed(top_level: str) -> bool:
    """A top-level module found outside the project (finding it imports nothing)."""
    try:
        spec = importlib.util.find_spec(top_level)
    except (ImportError, ValueError):
        return False
    origin = spec.origin if spec is not None else None
    if spec is not None and origin is None and spec.submodule_search_locations:
        origin = next(iter(spec.submodule_search_locations), None)  # a namespace package
    return (
        origin is not None and origin not in ("built-in", "frozen") and not is_project_file(origin)
    )


def convention_imported(
    source: ConventionSource, env_py: Path, timeout: float,
    probed: Callable[[], None] = lambda: None,
) -> tuple[dict[str, str | Callable[..., object]] | None, str | None]:  # fmt: skip
    """A naming convention no literal spells out (indico's has callables for tokens of its
    own), as importing its module gives it, or why not. Imported as env.py imports it, so
    that what the application needs and is not installed stands in. Tried first in a
    process of its own, for at most ``timeout`` seconds: an import that ends the process or
    never returns costs only the convention (the worker would be lost before its first
    script, and that script blamed); ``probed()`` is called when it worked there."""
    if hasattr(os, "fork"):
        why = _in_a_process_of_its_own(source, env_py, timeout)
        if why is not None:
            return None, why
        probed()  # (the worker's supervisor starts the import's time limit again)
    convention = _evaluated(source, env_py)
    return convention, None if convention is not None else "importing it gives no convention"


_ENDED = "importing it ended the process"


def _in_a_process_of_its_own(source: ConventionSource, env_py: Path, timeout: float) -> str | None:
    """Why importing it there gave no convention; None when it did."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child ends here, whatever happens
        try:
            os._exit(0 if _evaluated(source, env_py) is not None else 1)
        finally:
            os._exit(1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            code = os.waitstatus_to_exitcode(status)
            if code == 0:
                return None
            return (
                "importing it gives no convention"
                if code == 1
                else "importing it ended the process"
            )
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return f"importing it did not finish within {timeout:g} s (--timeout)"


def _evaluated(
    source: ConventionSource, env_py: Path
) -> dict[str, str | Callable[..., object]] | None:
    namespace: dict[str, Any] = {"__name__": "migsafe_env_py"}
    try:
        with import_path([source.root]):
            code = compile(f"import {source.module} as module", str(env_py), "exec")
            exec(code, namespace)  # the project's own module, as env.py imports it
        value = eval(source.expression, vars(namespace["module"]))  # its own source
    except (Exception, SystemExit):
        return None
    if not isinstance(value, dict) or not value:
        return None
    if not all(isinstance(k, str) and (isinstance(v, str) or _plain_callable(v))
               for k, v in value.items()):  # fmt: skip
        return None
    return value


def _plain_callable(value: object) -> bool:
    """A function of the project (a convention's token), not a stand-in, which is callable
    too but names nothing."""
    return isinstance(value, types.FunctionType)

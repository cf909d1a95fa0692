"""What the project's env.py and alembic.ini set for every migration, read from their text.

A linter of single files cannot see env.py; migsafe reads it (without running it) so that a
timeout env.py sets for every migration counts for each of them, and a revision that needs
``transaction_per_migration`` knows whether env.py configures it. Each fact is True, False,
or None when it cannot be told (no env.py, or one that decides at run time).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from migsafe.project.imports import application_package

if TYPE_CHECKING:
    from migsafe.project.target_metadata import ConventionSource

# `SET lock_timeout = '5s'`, `set_config('lock_timeout', ...)`, `-c lock_timeout=5s`
_SETTING = r"{name}\W+(?:=|to)?\W*'?(?P<value>[\w.]+)"
_OFF = {"", "0", "0ms", "0s", "0min"}


@dataclass(frozen=True)
class Environment:
    lock_timeout: bool | None = None  # env.py or the connection sets one (not 0)
    statement_timeout: bool | None = None
    transaction_per_migration: bool | None = None
    # the connection runs every statement in a transaction of its own (privacyidea's
    # ``execution_options(isolation_level="AUTOCOMMIT")``): no migration holds a lock past
    # the statement that takes it
    autocommit: bool = False
    # the modules env.py imports at its top (``geoalchemy2.alembic_helpers``): importing an
    # Alembic plugin registers the operations the migrations call (``add_geospatial_column``)
    imports: tuple[str, ...] = ()
    # every module env.py imports at its top, the application's own too: a migration may
    # reach one as an attribute of its package, which env.py's import made (prefect's
    # ``prefect.server.utilities.database.UUID()`` after only ``import prefect``)
    imported: tuple[str, ...] = ()
    # the naming convention of env.py's target_metadata (``project.target_metadata``), by
    # which Alembic names the constraints an operation makes without a name
    naming_convention: tuple[tuple[str, str], ...] = ()
    # where a convention no literal spells out is (its module and expression): the check
    # worker imports it (indico's has callables for tokens of its own)
    convention_source: ConventionSource | None = None
    convention_files: tuple[Path, ...] = ()  # the files read to find the convention
    convention_scanned: Path | None = None  # the package searched for one, if it was

    def sets(self, setting: str) -> bool:
        return bool(getattr(self, setting))


def find_env_py(location: Path | None) -> Path | None:
    """The env.py of a script directory: in ``location``, or, for a versions directory named
    on its own, in one up to two levels above it (prefect keeps its PostgreSQL revisions in
    ``versions/postgresql``, beside its env.py's ``versions``)."""
    if location is None:
        return None
    for directory in [location, *location.parents][:3]:
        if (directory / "env.py").is_file():
            return directory / "env.py"
    return None


def read_environment(env_py: Path | None, options: dict[str, str]) -> Environment:
    """The facts of an env.py (its source) and alembic.ini's ``[alembic]`` options."""
    if env_py is None or not env_py.is_file():
        return Environment()
    try:
        tree = ast.parse(env_py.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError):
        return Environment()
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
               and isinstance(n.value, str)]  # fmt: skip
    strings.append(unquote(options.get("sqlalchemy.url", "")))
    return Environment(
        lock_timeout=_sets(strings, options, "lock_timeout"),
        statement_timeout=_sets(strings, options, "statement_timeout"),
        transaction_per_migration=_configures_transaction_per_migration(tree),
        autocommit=_runs_in_autocommit(tree, options),
        imports=_top_level_imports(tree, _application_name(env_py)),
        imported=_top_level_imports(tree, None),
    )


def _application_name(env_py: Path) -> str | None:
    """The name of the top-level package env.py belongs to: the application's own,
    installed or not (conda_store_server)."""
    package = application_package(env_py)
    return package.name if package is not None else None


def _runs_in_autocommit(tree: ast.Module, options: dict[str, str]) -> bool:
    """Whether the connection the migrations run on is in autocommit: alembic.ini gives the
    engine ``sqlalchemy.isolation_level = AUTOCOMMIT``, or the function of env.py that
    configures the migrations on a connection sets ``isolation_level="AUTOCOMMIT"`` (on
    that connection, its engine, or a dict of options; privacyidea's). An engine in
    autocommit made elsewhere in env.py (to create the database first) does not count."""
    if options.get("sqlalchemy.isolation_level", "").strip().upper() == "AUTOCOMMIT":
        return True
    scopes: list[ast.AST] = [
        node for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ] + [tree]  # fmt: skip
    for scope in scopes:
        inside = list(_own_nodes(scope))
        configures = any(
            isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "configure"
            and any(k.arg == "connection" for k in node.keywords)
            for node in inside
        )  # fmt: skip
        if configures and any(_sets_autocommit(node) for node in inside):
            return True
    return False


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function (or the module), not those of the functions inside it."""
    for child in ast.iter_child_nodes(scope):
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from _own_nodes(child)


def _sets_autocommit(node: ast.AST) -> bool:
    pairs: list[tuple[object, ast.expr]] = []
    if isinstance(node, ast.keyword):
        pairs.append((node.arg, node.value))
    elif isinstance(node, ast.Dict):
        pairs += [
            (getattr(k, "value", None), v) for k, v in zip(node.keys, node.values, strict=True)
        ]
    return any(
        name == "isolation_level" and isinstance(value, ast.Constant)
        and str(value.value).upper() == "AUTOCOMMIT"
        for name, value in pairs
    )  # fmt: skip


def _top_level_imports(tree: ast.Module, application: str | None) -> tuple[str, ...]:
    """``import a.b`` gives ``a.b``; ``from a import b`` gives ``a`` and ``a.b`` (``b`` may be
    a submodule); relative imports, and those of the ``application``'s package, are the
    project's own (installed, conda-store's models import conda_lock: a quarter second
    that no migration needed)."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    own = [name for name in names if name.partition(".")[0] == application]
    return tuple(dict.fromkeys(name for name in names if name not in own))


def _sets(strings: list[str], options: dict[str, str], name: str) -> bool:
    """Whether env.py's strings (not its comments) or the database URL set ``name`` to
    something other than 0: ``SET lock_timeout = '5s'``, ``-c lock_timeout=5s``; or name it
    alone, as migsafe's own env.py does, reading the value from alembic.ini's option of the
    same name, which must not be 0 then."""
    if name in options and turned_off(options[name]):
        return False
    pattern = re.compile(_SETTING.format(name=name), re.IGNORECASE)
    values = [m.group("value").lower() for text in strings for m in pattern.finditer(text)]
    return any(not turned_off(value) for value in values) or name in strings


def turned_off(value: str) -> bool:
    """A timeout of 0 (or none given) means no timeout."""
    return value.strip().strip("'\"").lower() in _OFF


def _configures_transaction_per_migration(tree: ast.Module) -> bool | None:
    """Whether the ``configure(...)`` calls that run migrations on a connection (offline
    mode, which writes SQL, does not matter here) say ``transaction_per_migration=True``;
    None when one passes it through a variable or ``**options``, or there is none."""
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "configure"
    ]
    online = [c for c in calls if any(k.arg == "connection" for k in c.keywords)] or calls
    found: list[bool | None] = []
    for call in online:
        keyword = next((k for k in call.keywords if k.arg == "transaction_per_migration"), None)
        if keyword is None:
            found.append(None if any(k.arg is None for k in call.keywords) else False)
        elif isinstance(keyword.value, ast.Constant):
            found.append(bool(keyword.value.value))
        else:
            found.append(None)
    if not found or None in found:
        return None
    return all(found)

"""The user's Alembic project as Alembic itself sees it: config, script directory, version
table.

migsafe runs the project's revisions unmodified. The version table's name and schema are read
from ``[tool.migsafe]`` or, failing that, from literal ``version_table=`` arguments in env.py,
so that the snapshot can leave that table out and Alembic writes to the same table it would.
"""

from __future__ import annotations

import ast
import importlib
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionMap

from migsafe.errors import MigsafeError, described
from migsafe.project import History, MigrationScript, Project, import_path
from migsafe.project.script_directory import script_directory

DEFAULT_VERSION_TABLE = "alembic_version"


class ProjectError(MigsafeError):
    """The project cannot be loaded; the message is one line naming the file."""


@dataclass
class AlembicProject:
    config: Config
    scripts: ScriptDirectory
    version_table: str = DEFAULT_VERSION_TABLE
    version_schema: str | None = None

    @property
    def env_py(self) -> Path:
        return Path(self.scripts.dir) / "env.py"


def alembic_project(project: Project) -> AlembicProject:
    """The project as Alembic sees it, walking the revisions migsafe read (``use_history``).

    The version table comes from ``[tool.migsafe]``, else from env.py's literal
    ``configure(version_table=...)``, else Alembic's default.
    """
    try:
        with import_path(project.sys_path):
            scripts = script_directory(project.config)
    except Exception as exc:
        where = project.config.config_file_name or project.location
        raise ProjectError(f"{where}: {described(exc)}") from None
    alembic = AlembicProject(project.config, scripts)
    literal = _env_configure_literals(alembic.env_py)
    settings = project.settings
    alembic.version_table = (
        settings.version_table or literal.get("version_table") or DEFAULT_VERSION_TABLE
    )
    alembic.version_schema = settings.version_table_schema or literal.get("version_table_schema")
    use_history(alembic, project.history)
    return alembic


def use_history(project: AlembicProject, history: History) -> None:
    """Let Alembic walk the revisions migsafe read, importing each script only when one of
    its functions first runs.

    Alembic imports every script before the first step, so one script whose import fails
    (the application is not installed) fails the first revision, whichever it is; here it
    fails the step of its own revision, with its own line, and the others still run.
    """
    scripts = [Script(_LazyModule(s), s.revision, s.path) for s in history.scripts]
    project.scripts.revision_map = RevisionMap(lambda: iter(scripts))


class _LazyModule(types.ModuleType):
    """A revision script as Alembic sees it before it is run: its identifiers and docstring,
    read from the source; ``upgrade``/``downgrade`` import the real module on first call."""

    def __init__(self, script: MigrationScript) -> None:
        super().__init__(script.path.stem, ast.get_docstring(script.tree))
        self.__file__ = str(script.path)
        self._script = script
        self._module: types.ModuleType | None = None
        self.revision = script.revision
        down = script.down_revisions
        self.down_revision = down[0] if len(down) == 1 else (down or None)
        self.branch_labels = script.branch_labels or None
        self.depends_on = script.depends_on or None

    def upgrade(self, *args: object, **kwargs: object) -> object:
        return self.real().upgrade(*args, **kwargs)

    def downgrade(self, *args: object, **kwargs: object) -> object:
        return self.real().downgrade(*args, **kwargs)

    def real(self) -> types.ModuleType:
        if self._module is None:
            module = types.ModuleType(f"_migsafe_roundtrip_{self._script.revision}")
            module.__file__ = str(self._script.path)
            exec(
                compile(self._script.tree, str(self._script.path), "exec", dont_inherit=True),
                module.__dict__,
            )
            self._module = module
        return self._module


def loaded(function: Callable[..., Any]) -> Callable[..., Any]:
    """The migration's own ``upgrade``/``downgrade`` behind a lazily imported script's (whose
    signature is the script's, once imported)."""
    owner = getattr(function, "__self__", None)
    if isinstance(owner, _LazyModule):
        return getattr(owner.real(), function.__name__)
    return function


def _env_configure_literals(env_py: Path) -> dict[str, str]:
    """String literals passed to ``context.configure(...)`` in env.py, when it has any."""
    try:
        tree = ast.parse(env_py.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "configure":
            for keyword in node.keywords:
                if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                    found[keyword.arg] = keyword.value.value
    return found


def import_object(reference: str, source: str):
    """Resolve ``package.module:attribute.path`` (for target metadata); errors name ``source``."""
    module_name, _, attribute_path = reference.partition(":")
    try:
        value = importlib.import_module(module_name)
        for attribute in filter(None, attribute_path.split(".")):
            value = getattr(value, attribute)
    except Exception as exc:
        raise ProjectError(f"{source}: cannot import {reference!r}: {described(exc)}") from None
    return value

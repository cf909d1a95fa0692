"""Find migration scripts, read their revision identifiers and order them by the revision graph.

Scripts are read with ``ast`` rather than imported: a broken import in one script must not
stop the others from being ordered and checked, and reading identifiers is much cheaper than
running module code.
"""

from __future__ import annotations

import ast
import enum
import heapq
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from migsafe.findings import Diagnostic

REVISION_VARIABLES = ("revision", "down_revision", "branch_labels", "depends_on")


@dataclass(frozen=True)
class MigrationScript:
    """One migration file and the identifiers that place it in the revision graph."""

    path: Path
    source: str
    tree: ast.Module
    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()

    def function(self, name: str) -> ast.FunctionDef | None:
        """The module-level ``def name()``, if the script has one."""
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
        return None


@dataclass
class History:
    """The scripts of one check, parents before children."""

    scripts: list[MigrationScript]
    heads: list[MigrationScript]
    complete: bool


@dataclass
class Sources:
    """What the command line named, resolved to script files."""

    files: list[Path] = field(default_factory=list)
    sys_path: list[Path] = field(default_factory=list)
    complete: bool = True
    diagnostics: list[Diagnostic] = field(default_factory=list)
    config_file: Path | None = None  # the project's alembic.ini, when one was named or found
    script_location: Path | None = None  # the directory holding env.py, or the versions


def find_sources(paths: Sequence[Path], config_file: Path | None = None) -> Sources:
    """Resolve versions directories, single files, project directories and alembic.ini files."""
    sources = Sources()
    targets = list(paths)
    if config_file is not None:
        targets.append(config_file)
    for target in targets:
        if not target.exists():
            sources.diagnostics.append(Diagnostic(target, "path does not exist", fatal=True))
        elif target.is_file() and target.suffix == ".ini":
            _add_config(sources, target)
        elif target.is_file():
            sources.files.append(target)
            sources.complete = False
            sources.script_location = sources.script_location or _script_location(target.parent)
        elif (target / "alembic.ini").is_file():
            _add_config(sources, target / "alembic.ini")
        elif (target / "env.py").is_file() and (target / "versions").is_dir():
            _add_versions_dir(sources, target / "versions", recursive=False)
            sources.script_location = sources.script_location or target.resolve()
        else:
            _add_versions_dir(sources, target, recursive=False)
            sources.script_location = sources.script_location or _script_location(target)
    sources.files = sorted(dict.fromkeys(p.resolve() for p in sources.files))
    return sources


def _script_location(versions: Path) -> Path:
    """The script directory a versions directory belongs to (where env.py is), else itself."""
    versions = versions.resolve()
    return versions.parent if (versions.parent / "env.py").is_file() else versions


def _add_versions_dir(sources: Sources, directory: Path, recursive: bool) -> None:
    pattern = "**/*.py" if recursive else "*.py"
    sources.files.extend(p for p in directory.glob(pattern) if p.name != "__init__.py")


def _add_config(sources: Sources, ini: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = Config(str(ini))
    here = ini.resolve().parent
    prepend = config.get_main_option("prepend_sys_path") or "."
    sys_path = [here / part for part in prepend.replace(",", " ").split()]
    try:
        with import_path(sys_path):  # a package-style script_location imports its package
            script_dir = ScriptDirectory.from_config(config)
    except (CommandError, KeyError, ValueError) as exc:
        sources.diagnostics.append(Diagnostic(ini, _one_line(str(exc)), fatal=True))
        return
    except ImportError as exc:
        location = config.get_main_option("script_location")
        message = f"script_location {location!r}: cannot import {exc.name or 'its package'!r}"
        sources.diagnostics.append(Diagnostic(ini, message, fatal=True))
        return
    sources.config_file = sources.config_file or ini.resolve()
    sources.script_location = sources.script_location or Path(script_dir.dir)
    sources.sys_path.extend(sys_path)
    recursive = bool(script_dir.recursive_version_locations)
    for location in script_dir._version_locations:
        _add_versions_dir(sources, Path(location), recursive)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read_script(path: Path) -> MigrationScript | Diagnostic:
    """Parse one file; return a fatal diagnostic when it cannot be a migration script."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Diagnostic(path, f"cannot read file: {exc.strerror}", fatal=True)
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Diagnostic(path, f"not UTF-8 text (invalid byte at offset {exc.start})", fatal=True)
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        return Diagnostic(path, f"Python syntax error: {exc.msg}", fatal=True, line=exc.lineno)
    try:
        values = _module_literals(tree)
    except ValueError as exc:
        return Diagnostic(path, str(exc), fatal=True)
    revision = values.get("revision")
    if not isinstance(revision, str) or not revision:
        return Diagnostic(path, "no `revision` variable: not an Alembic migration", fatal=True)
    return MigrationScript(
        path=path,
        source=source,
        tree=tree,
        revision=revision,
        down_revisions=_as_tuple(values.get("down_revision")),
        branch_labels=_as_tuple(values.get("branch_labels")),
        depends_on=_as_tuple(values.get("depends_on")),
    )


def _module_literals(tree: ast.Module) -> dict[str, object]:
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in REVISION_VARIABLES:
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    raise ValueError(
                        f"`{target.id}` (line {node.lineno}) is not a literal string, tuple or None"
                    ) from None
    return values


def _as_tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def load_history(sources: Sources) -> tuple[History, list[Diagnostic]]:
    """Read every script and order them; graph problems become fatal diagnostics."""
    diagnostics = list(sources.diagnostics)
    by_revision: dict[str, MigrationScript] = {}
    for path in sources.files:
        script = read_script(path)
        if isinstance(script, Diagnostic):
            diagnostics.append(script)
            continue
        first = by_revision.get(script.revision)
        if first is not None:
            diagnostics.append(
                Diagnostic(
                    script.path,
                    f"duplicate revision id {script.revision!r} (also in {first.path})",
                    fatal=True,
                )
            )
            continue
        by_revision[script.revision] = script

    if sources.complete:
        diagnostics.extend(_missing_parents(by_revision))
    ordered, cyclic = _topological_order(by_revision)
    if cyclic:
        names = ", ".join(str(s.path.name) for s in cyclic)
        diagnostics.append(
            Diagnostic(cyclic[0].path, f"revision cycle through {names}", fatal=True)
        )
    children = {parent for s in by_revision.values() for parent in s.down_revisions}
    heads = [s for s in ordered if s.revision not in children]
    return History(ordered, heads, sources.complete), diagnostics


def _missing_parents(by_revision: dict[str, MigrationScript]) -> Iterable[Diagnostic]:
    for script in by_revision.values():
        for parent in script.down_revisions:
            if parent not in by_revision:
                yield Diagnostic(
                    script.path,
                    f"down_revision {parent!r} names no revision in this history",
                    fatal=True,
                )


def _topological_order(
    by_revision: dict[str, MigrationScript],
) -> tuple[list[MigrationScript], list[MigrationScript]]:
    """Kahn's algorithm; ties go by file name so the order is stable.

    Returns the ordered scripts and, separately, those caught in a cycle.
    """
    known = set(by_revision)
    parents = {
        rev: {p for p in (*s.down_revisions, *s.depends_on) if p in known and p != rev}
        for rev, s in by_revision.items()
    }
    self_loops = [s for rev, s in by_revision.items() if rev in s.down_revisions]
    children: dict[str, list[str]] = {rev: [] for rev in by_revision}
    for rev, ps in parents.items():
        for p in ps:
            children[p].append(rev)
    waiting = {rev: len(ps) for rev, ps in parents.items()}
    ready = [(by_revision[r].path.name, r) for r, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    ordered: list[MigrationScript] = []
    while ready:
        _, rev = heapq.heappop(ready)
        ordered.append(by_revision[rev])
        for child in children[rev]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (by_revision[child].path.name, child))
    placed = {s.revision for s in ordered}
    cyclic = [s for r, s in by_revision.items() if r not in placed] or self_loops
    return ordered, cyclic


class BodyShape(enum.Enum):
    """What a migration function's body is, read from its source."""

    ABSENT = "absent"  # no such function
    EMPTY = "empty"  # pass, ``...`` or only a docstring
    RAISES = "raises"  # starts by raising: a deliberately one-way revision
    CODE = "code"


def body_shape(function: ast.FunctionDef | None) -> BodyShape:
    if function is None:
        return BodyShape.ABSENT
    body = [
        node
        for node in function.body
        if not (isinstance(node, ast.Pass) or _is_constant_expression(node))
    ]
    if not body:
        return BodyShape.EMPTY
    if isinstance(body[0], ast.Raise):
        return BodyShape.RAISES
    return BodyShape.CODE


def _is_constant_expression(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


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


def failing_line(exc: BaseException, path: Path) -> int | None:
    """The line of the migration file ``path`` that was running, innermost, when ``exc``
    was raised (a helper or a loop in the file gives its own line); None if it never ran."""
    names = {str(path), str(path.resolve())}
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in names:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line

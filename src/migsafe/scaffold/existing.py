"""``migsafe init --existing``: the safeguards of a new project, proposed to one that has
Alembic already, as a patch to review (nothing changes unless asked to apply it).

- alembic.ini: the post-write hook that checks each new revision, a ``lock_timeout``, and a
  file name that sorts by date and cannot collide (for new revisions only);
- env.py: every connection it opens gets that ``lock_timeout`` (an event on connect, so it
  holds whatever env.py does; a connection handed over is the caller's);
- the models: a naming convention for unique, check, foreign key and primary key
  constraints, the names PostgreSQL gives unnamed ones, so nothing existing changes name.
  Indexes keep SQLAlchemy's own convention for the same reason.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from migsafe.project.imports import find_module
from migsafe.scaffold.templates import MetadataReference, ScaffoldError, template_root

HOOK_LINES = (
    "migsafe.type = console_scripts",
    "migsafe.entrypoint = migsafe",
    "migsafe.options = check --fail-on error REVISION_SCRIPT_FILENAME",
)
NAMING_CONVENTION = """\
# migsafe: the names PostgreSQL gives unnamed constraints, so a later migration can drop
# them by name; indexes keep SQLAlchemy's convention (ix_<table>_<column>)
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}
"""
ENV_TIMEOUT = """
# migsafe: a migration that waits longer than lock_timeout (alembic.ini) for a lock fails
# instead of queueing every query of the application behind it
from alembic import context as _migsafe_context
from sqlalchemy import event as _migsafe_event
from sqlalchemy.engine import Engine as _MigsafeEngine

_LOCK_TIMEOUT = _migsafe_context.config.get_main_option("lock_timeout", "5s")


@_migsafe_event.listens_for(_MigsafeEngine, "connect")
def _set_lock_timeout(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET lock_timeout = '{}'".format(_LOCK_TIMEOUT.replace("'", "''")))
    cursor.close()
    dbapi_connection.commit()
"""


@dataclass
class Adoption:
    """The proposed changes: each file's text before and after, and what could not be done."""

    root: Path
    changes: dict[Path, tuple[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def patch(self) -> str:
        """A unified diff, relative to ``root`` (``git apply`` takes it)."""
        parts = []
        for path, (before, after) in self.changes.items():
            name = path.relative_to(self.root).as_posix()
            parts.extend(
                difflib.unified_diff(
                    before.splitlines(keepends=True), after.splitlines(keepends=True),
                    f"a/{name}", f"b/{name}",
                )
            )  # fmt: skip
        return "".join(parts)

    def apply(self) -> list[Path]:
        for path, (_, after) in self.changes.items():
            path.write_text(after, encoding="utf-8")
        return list(self.changes)


def adoption(ini: Path, metadata: MetadataReference | None, sys_path: list[Path]) -> Adoption:
    """What to change in the project of ``ini`` (its env.py, and the module of ``metadata``)."""
    if not ini.is_file():
        raise ScaffoldError(f"{ini}: no such file; `migsafe init` starts a new project")
    result = Adoption(ini.parent.resolve())
    _propose(result, ini.resolve(), _adopt_ini)
    env_py = _env_py(ini)
    if env_py is None:
        result.notes.append("no env.py found under script_location: lock_timeout not added")
    else:
        _propose(result, env_py, _adopt_env)
    if metadata is None:
        result.notes.append(
            "no --metadata (or metadata in [tool.migsafe]): add the naming convention to "
            "your models' MetaData yourself:\n" + NAMING_CONVENTION
        )
    else:
        module = _module_file(metadata.module, sys_path)
        if module is None:
            result.notes.append(f"--metadata {metadata}: cannot find {metadata.module!r}")
        else:
            _propose(result, module, _adopt_models)
    return result


def _propose(result: Adoption, path: Path, change: Callable[[str], tuple[str, str]]) -> None:
    """Add ``change(text)`` of ``path`` to ``result``: the new text and, if any, a note."""
    before = path.read_text(encoding="utf-8")
    after, note = change(before)
    if note:
        shown = path.relative_to(result.root) if path.is_relative_to(result.root) else path
        result.notes.append(f"{shown}: {note}")
    if after != before:
        result.changes[path] = (before, after)


def _adopt_ini(text: str) -> tuple[str, str]:
    template = (template_root() / "common" / "alembic.ini").read_text(encoding="utf-8")
    wanted = {key: _option(template, "alembic", key) for key in
              ("file_template", "truncate_slug_length", "timezone", "lock_timeout")}  # fmt: skip
    additions = [f"{key} = {value}" for key, value in wanted.items()
                 if _option(text, "alembic", key) is None]  # fmt: skip
    if additions:
        text = _append_to_section(text, "alembic", ["# migsafe", *additions])
    hooks = _option(text, "post_write_hooks", "hooks")
    comment = "# every new revision is checked the moment it is written"
    if hooks is None and _section(text, "post_write_hooks") is not None:
        # Alembic's own alembic.ini has the section, its examples commented out: a second
        # [post_write_hooks] would make the file unreadable (DuplicateSectionError)
        text = _append_to_section(
            text, "post_write_hooks", ["", comment, "hooks = migsafe", *HOOK_LINES]
        )
    elif hooks is None:
        block = ["", "[post_write_hooks]", comment, "hooks = migsafe", *HOOK_LINES]
        text = text.rstrip("\n") + "\n" + "\n".join(block) + "\n"
    elif "migsafe" not in re.split(r"[\s,]+", hooks):
        text = re.sub(r"(?m)^(hooks\s*=\s*)(.*)$", lambda m: f"{m.group(1)}{m.group(2)}, migsafe",
                      text, count=1)  # fmt: skip
        text = _append_to_section(text, "post_write_hooks", list(HOOK_LINES))
    return text, ""


def _adopt_env(text: str) -> tuple[str, str]:
    if "lock_timeout" in text:
        return text, "already sets lock_timeout; left as it is"
    tree = ast.parse(text)
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    if not imports:
        return text, "no imports to add the lock_timeout after; add it by hand"
    lines = text.splitlines(keepends=True)
    at = max(node.end_lineno or node.lineno for node in imports)
    return "".join([*lines[:at], ENV_TIMEOUT, *lines[at:]]), ""


def _adopt_models(text: str) -> tuple[str, str]:
    if "naming_convention" in text:
        return text, "already has a naming convention; left as it is"
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) == "MetaData" and node.end_lineno:
            _add_argument(lines, node, "naming_convention=NAMING_CONVENTION")
            return _with_convention(lines, tree), ""
    for node in tree.body:
        bases = [_called(base) for base in node.bases] if isinstance(node, ast.ClassDef) else []
        if "DeclarativeBase" in bases:
            first = node.body[0]
            indent = " " * first.col_offset
            at = first.end_lineno if _is_docstring(first) else first.lineno - 1
            lines.insert(at, f"{indent}metadata = MetaData(naming_convention=NAMING_CONVENTION)\n")
            return _with_convention(lines, tree, import_metadata=True), ""
    return text, "no MetaData(...) or DeclarativeBase in it: add the naming convention by hand"


def _add_argument(lines: list[str], call: ast.Call, argument: str) -> None:
    """Write ``argument`` last in ``call``: on a line of its own when the call's ``)`` is."""
    end = (call.end_lineno or 1) - 1
    line = lines[end]
    column = len(line.encode()[: (call.end_col_offset or 1) - 1].decode())
    if line[:column].strip():
        comma = ", " if _needs_comma(lines, call) else ""
        lines[end] = f"{line[:column]}{comma}{argument}{line[column:]}"
        return
    previous = lines[end - 1]
    indent = previous[: len(previous) - len(previous.lstrip())]
    if not previous.rstrip().endswith((",", "(")):
        lines[end - 1] = previous.rstrip("\n") + ",\n"
    lines.insert(end, f"{indent}{argument},\n")


def _needs_comma(lines: list[str], call: ast.Call) -> bool:
    """Whether an argument added before the call's ``)`` needs a comma before it."""
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    if not arguments:
        return False
    last = max(arguments, key=lambda a: (a.end_lineno or 0, a.end_col_offset or 0))
    source = "".join(lines).encode()
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode()))
    begin = starts[(last.end_lineno or 1) - 1] + (last.end_col_offset or 0)
    end = starts[(call.end_lineno or 1) - 1] + (call.end_col_offset or 1) - 1
    return b"," not in source[begin:end]


def _with_convention(lines: list[str], tree: ast.Module, import_metadata: bool = False) -> str:
    """``lines`` with NAMING_CONVENTION (and the MetaData import) after the module's imports."""
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    at = max((n.end_lineno or n.lineno for n in imports), default=0)
    block = []
    imported = {alias.name for n in imports if isinstance(n, ast.ImportFrom) for alias in n.names}
    if import_metadata and "MetaData" not in imported:
        block.append("from sqlalchemy import MetaData\n")
    block += ["\n", NAMING_CONVENTION]
    return "".join([*lines[:at], *block, *lines[at:]])


def _called(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def _is_docstring(node: ast.stmt) -> bool:
    value = node.value if isinstance(node, ast.Expr) else None
    return isinstance(value, ast.Constant) and isinstance(value.value, str)


def _option(text: str, section: str, key: str) -> str | None:
    body = _section(text, section)
    match = re.search(rf"(?m)^{re.escape(key)}\s*=\s*(.*)$", body or "")
    return match.group(1).strip() if match else None


def _section(text: str, section: str) -> str | None:
    match = _section_pattern(section).search(text)
    return match.group(1) if match else None


def _section_pattern(section: str) -> re.Pattern[str]:
    """``[section]``'s body: from its header to the next header or the end."""
    return re.compile(rf"(?ms)^\[{re.escape(section)}\][ \t]*$(.*?)(?=^\[|\Z)")


def _append_to_section(text: str, section: str, new_lines: list[str]) -> str:
    """``new_lines`` after the last line of ``section`` that is not blank, but before a last
    paragraph of comments, which introduces the next section (Alembic's alembic.ini says
    "# Logging configuration." above [loggers])."""
    match = _section_pattern(section).search(text)
    assert match is not None, section
    body = match.group(1)
    kept = body.rstrip()
    paragraph_at = kept.rfind("\n\n")
    last_paragraph = kept[paragraph_at:].strip().splitlines() if paragraph_at >= 0 else []
    if last_paragraph and all(line.lstrip().startswith("#") for line in last_paragraph):
        before, after = kept[:paragraph_at], kept[paragraph_at:]
        added = "\n" + "\n".join(new_lines) + after + (body[len(kept) :] or "\n")
        return text[: match.start(1)] + before + added + text[match.end(1) :]
    added = "\n" + "\n".join(new_lines) + (body[len(kept) :] or "\n")
    return text[: match.start(1)] + kept + added + text[match.end(1) :]


def _env_py(ini: Path) -> Path | None:
    from migsafe.project.script_directory import script_directory
    from migsafe.project.sources import read_config

    try:
        directory = Path(script_directory(read_config(ini)).dir)
    except Exception:
        return None
    env_py = directory / "env.py"
    return env_py if env_py.is_file() else None


def _module_file(module: str, sys_path: list[Path]) -> Path | None:
    spec = find_module(module, [str(path) for path in sys_path])
    origin = spec.origin if spec is not None else None
    return Path(origin) if origin and origin.endswith(".py") else None

"""``migsafe init``: a new project's Alembic setup, written from the templates, never over a
file that exists."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migsafe.config import find_pyproject
from migsafe.scaffold.templates import MetadataReference, ScaffoldError, project_files


@dataclass
class InitResult:
    directory: Path
    written: list[Path] = field(default_factory=list)
    pyproject: Path | None = None  # the pyproject.toml that gained [tool.migsafe]
    pyproject_note: str = ""  # why none did
    metadata: MetadataReference | None = None
    next_commands: list[str] = field(default_factory=list)


def init_project(
    directory: Path, template: str = "sync", metadata: MetadataReference | None = None
) -> InitResult:
    """Write the project's Alembic files into ``directory`` (made if missing).

    Raises ScaffoldError, having written nothing, when any of them exists already.
    """
    if directory.exists() and not directory.is_dir():
        raise ScaffoldError(f"{directory}: not a directory")
    files = project_files(template, metadata)
    existing = [path for path in files if (directory / path).exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ScaffoldError(
            f"{directory / existing[0]} already exists{more}; init never overwrites a file: "
            "for a project that has Alembic already, see `migsafe init --existing`"
        )
    result = InitResult(directory, metadata=metadata)
    for relative, content in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        result.written.append(target)
    reference = metadata or MetadataReference.parse("models:Base.metadata")
    result.pyproject, result.pyproject_note = _add_settings(directory, reference)
    result.next_commands = _next_commands(directory, metadata is None)
    return result


def _add_settings(directory: Path, metadata: MetadataReference) -> tuple[Path | None, str]:
    """Append ``[tool.migsafe]`` to the project's pyproject.toml, leaving the rest as it is."""
    pyproject = find_pyproject(directory.resolve())
    if pyproject is None:
        return None, "no pyproject.toml: migsafe's defaults apply"
    text = pyproject.read_text(encoding="utf-8")
    if "[tool.migsafe]" in text:
        return None, f"{pyproject} already has [tool.migsafe]; left as it is"
    separator = (
        "" if text.endswith("\n\n") or not text else ("\n" if text.endswith("\n") else "\n\n")
    )
    pyproject.write_text(
        text + separator + "[tool.migsafe]\n"
        "# the models roundtrip compares with the migrated database (model drift)\n"
        f'metadata = "{metadata}"\n',
        encoding="utf-8",
    )
    return pyproject, ""


def _next_commands(directory: Path, starter_models: bool) -> list[str]:
    config = (
        "" if directory.resolve() == Path.cwd().resolve() else f" -c {directory / 'alembic.ini'}"
    )
    first = "add a model to models.py, then: " if starter_models else ""
    return [
        "export DATABASE_URL=postgresql://user@localhost/app   # or: migsafe postgres",
        f'{first}migsafe revision{config} --autogenerate -m "create users"',
        f"migsafe roundtrip{config} --use-env && alembic{config} upgrade head",
    ]

"""What the user named (versions directories, files, project directories, alembic.ini or a
``Config``), resolved to migration script files and the import path their project wants."""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migsafe.findings import Diagnostic
from migsafe.project.imports import import_path

if TYPE_CHECKING:
    from alembic.config import Config


@dataclass
class Sources:
    """What the command line named, resolved to script files."""

    files: list[Path] = field(default_factory=list)
    sys_path: list[Path] = field(default_factory=list)
    complete: bool = True
    diagnostics: list[Diagnostic] = field(default_factory=list)
    config: Config | None = None  # the project's Alembic config, when it has one
    script_location: Path | None = None  # the directory holding env.py, or the versions
    listed: list[tuple[Path, bool]] = field(default_factory=list)  # directories, recursive?


def find_sources(
    paths: Sequence[Path], config_file: Path | None = None, config: Config | None = None
) -> Sources:
    """Resolve versions directories, single files, project directories and alembic.ini files,
    or an Alembic ``Config`` a caller already has."""
    sources = Sources()
    if config is not None:
        _add_config(sources, config)
    if config_file is not None:  # read as Alembic's -c reads it, whatever its name
        if not config_file.is_file():  # (mailman's is alembic.cfg)
            what = "path does not exist" if not config_file.exists() else "not a file"
            sources.diagnostics.append(Diagnostic(config_file, what, fatal=True))
        else:
            _add_config(sources, read_config(config_file))
    configured = [directory for directory, _ in sources.listed]
    for target in paths:
        if not target.exists():
            sources.diagnostics.append(Diagnostic(target, "path does not exist", fatal=True))
        elif configured and not _within(target, configured, sources.script_location):
            message = (  # a tester's ``check ../other -c alembic.ini`` mixed two projects
                "not part of the project the configuration names (its versions: "
                f"{', '.join(as_shown(d) for d in configured)}): check one project at a time"
            )
            sources.diagnostics.append(Diagnostic(target, message, fatal=True))
        elif target.is_file() and target.suffix == ".ini":
            _add_config(sources, read_config(target))
        elif target.is_file():
            sources.files.append(target)
            sources.complete = False
            sources.script_location = sources.script_location or _script_location(target.parent)
        elif (target / "alembic.ini").is_file():
            _add_config(sources, read_config(target / "alembic.ini"))
        elif has_alembic_table(target / "pyproject.toml"):  # Alembic's settings there alone
            from alembic.config import Config

            _add_config(sources, Config(toml_file=str(target / "pyproject.toml")))
        elif (target / "env.py").is_file() and (target / "versions").is_dir():
            _add_versions_dir(sources, target / "versions", recursive=True)
            sources.script_location = sources.script_location or target.resolve()
        elif _is_migrate_repository(target):
            sources.diagnostics.append(Diagnostic(target, _MIGRATE_REPOSITORY, fatal=True))
        else:
            _add_versions_dir(sources, target, recursive=_is_versions_dir(target))
            sources.script_location = sources.script_location or _script_location(target)
    sources.files = sorted(dict.fromkeys(p.resolve() for p in sources.files))
    return sources


_MIGRATE_REPOSITORY = (
    "a sqlalchemy-migrate repository (migrate.cfg), not an Alembic history: migsafe checks "
    "Alembic migrations; point it at the project's Alembic versions directory, if it has one"
)


def as_shown(path: Path) -> str:
    """A path as messages show it: from the working directory when below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _within(target: Path, directories: list[Path], script_location: Path | None) -> bool:
    """``target`` is one of the configured project's files or directories: below one of its
    versions directories, or its script directory (or a directory above both)."""
    resolved = target.resolve()
    inside = [*directories, *([script_location.resolve()] if script_location else [])]
    return any(resolved == d or d in resolved.parents or resolved in d.parents for d in inside)


def _is_migrate_repository(directory: Path) -> bool:
    """tricircle's ``migrate_repo/`` (or its ``versions/``): sqlalchemy-migrate's scripts
    define ``upgrade(migrate_engine)`` and no revision, so each would be an error of its own.

    A ``migrate.cfg`` left beside an Alembic history (glance's, next to its env.py and
    scripts that declare revisions) does not make one."""
    if (directory / "migrate.cfg").is_file():
        repository = directory
    elif directory.name == "versions" and (directory.parent / "migrate.cfg").is_file():
        repository = directory.parent
    else:
        return False
    if (repository / "env.py").is_file():
        return False
    versions = repository / "versions"
    return not any(_declares_revision(p) for p in versions.glob("*.py"))


def _script_location(versions: Path) -> Path:
    """The script directory a versions directory belongs to (where env.py is), else itself."""
    versions = versions.resolve()
    return versions.parent if (versions.parent / "env.py").is_file() else versions


def _add_versions_dir(sources: Sources, directory: Path, recursive: bool) -> None:
    sources.listed.append((directory.resolve(), recursive))
    sources.files.extend(scripts_in(directory, recursive))


# a module-level ``revision = ...`` (or ``revision: str = ...``): what makes a file a revision
_DECLARES_REVISION = re.compile(rb"^revision\s*(?::[^=\n]*)?=", re.MULTILINE)


def scripts_in(directory: Path, recursive: bool) -> list[Path]:
    """The migration scripts a versions directory holds: its ``.py`` files but
    ``__init__.py`` (one that is not a revision is reported as such); with ``recursive``,
    also those of its subdirectories that declare a ``revision`` (a helper module kept
    beside them is not one). In a script directory (one with env.py, whose versions
    directories are named in alembic.ini: galaxy's ``versions_gxy``), only the files that
    declare a revision count at any level. Hidden directories and ``__pycache__`` are not
    looked into."""
    script_directory = (directory / "env.py").is_file()
    found = [
        p
        for p in sorted(directory.glob("*.py"))
        if p.name != "__init__.py" and (not script_directory or _declares_revision(p))
    ]
    if not recursive:
        return found
    for root, directories, files in os.walk(directory):
        directories[:] = sorted(d for d in directories if not d.startswith((".", "__")))
        if Path(root) == directory:
            continue
        found += [
            Path(root, name)
            for name in sorted(files)
            if name.endswith(".py")
            and name != "__init__.py"
            and _declares_revision(Path(root, name))
        ]
    return found


def _is_versions_dir(directory: Path) -> bool:
    """A directory named on the command line is read with its subdirectories when it is a
    script directory (env.py in it), belongs to one (env.py beside it) or holds a revision
    itself: OpenStack keeps ``versions/<release>/expand/``. Any other directory (a
    repository's root) is not searched below its own files."""
    if (directory / "env.py").is_file() or (directory.resolve().parent / "env.py").is_file():
        return True
    return any(_declares_revision(p) for p in directory.glob("*.py") if p.name != "__init__.py")


def _declares_revision(path: Path) -> bool:
    try:
        return _DECLARES_REVISION.search(path.read_bytes()) is not None
    except OSError:
        return False


def read_config(ini: Path) -> Config:
    """Alembic's configuration from ``ini``, with the ``[tool.alembic]`` table of the
    pyproject.toml beside it (``alembic init -t pyproject`` keeps script_location there),
    as Alembic's command line reads both; or from a pyproject.toml alone."""
    from alembic.config import Config  # importing Alembic takes 0.2 s: only when there is one

    if ini.suffix == ".toml":  # ``-c pyproject.toml``: a project configured there alone
        return Config(toml_file=str(ini))
    pyproject = ini.parent / "pyproject.toml"
    return Config(str(ini), toml_file=str(pyproject) if has_alembic_table(pyproject) else None)


def has_alembic_table(pyproject: Path) -> bool:
    """``pyproject`` holds Alembic's own settings (``[tool.alembic]``)."""
    try:
        return "[tool.alembic" in pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def _add_config(sources: Sources, config: Config) -> None:
    from alembic.util import CommandError

    from migsafe.project.script_directory import script_directory

    named = config.config_file_name or config.toml_file_name
    ini = Path(named) if named else Path("<alembic Config>")
    here = ini.resolve().parent if named else Path.cwd()
    try:
        config.file_config  # noqa: B018 - parsed here, once: a broken file is bad input
    except (configparser.Error, UnicodeDecodeError) as exc:
        sources.diagnostics.append(Diagnostic(ini, _ini_problem(exc), fatal=True))
        return
    section = config.config_ini_section
    if config.config_file_name and not config.file_config.has_section(section):
        sources.diagnostics.append(Diagnostic(ini, _no_section(config), fatal=True))
        return
    prepend = config.get_main_option("prepend_sys_path") or "."
    sys_path = [here / part for part in prepend.replace(",", " ").split()]
    if named:
        _locate_beside_the_file(config, here)
    try:
        with import_path(sys_path):
            script_dir = script_directory(config)
    except (CommandError, KeyError, ValueError) as exc:
        sources.diagnostics.append(Diagnostic(ini, _config_problem(config, exc), fatal=True))
        return
    except ImportError as exc:
        location = config.get_alembic_option("script_location")
        message = f"script_location {location!r}: cannot find the package {exc.name!r}"
        sources.diagnostics.append(Diagnostic(ini, f"{message} on the import path", fatal=True))
        return
    if _relative(config) and not (Path(script_dir.dir) / "env.py").is_file():
        # a location that depends on where migsafe runs, and is wrong from here: Alembic
        # could not run it either (ihatemoney's ``script_location = .``)
        location = config.get_alembic_option("script_location")
        message = (
            f"script_location {location!r} holds no env.py, which Alembic runs ({_RELATIVE}): "
            "what it would set (lock_timeout, the naming convention) is not known"
        )
        sources.diagnostics.append(Diagnostic(ini, message, fatal=False))
    sources.config = sources.config or config
    sources.script_location = sources.script_location or Path(script_dir.dir)
    sources.sys_path.extend(sys_path)
    recursive = bool(script_dir.recursive_version_locations)
    for location in script_dir._version_locations:
        _add_versions_dir(sources, Path(location), recursive)


def _locate_beside_the_file(config: Config, here: Path) -> None:
    """Flask-Migrate runs Alembic with script_location set to the folder of its alembic.ini,
    whatever the file says: most often nothing (fittrackee), or ``.`` (ihatemoney). So
    does anyone who runs ``alembic`` from that folder. Where the file names no location and
    its folder holds env.py, or names a relative one that holds no env.py from the working
    directory but does from the file's folder, the location is taken from the file's
    folder."""
    location = config.get_alembic_option("script_location")
    if location is None:
        beside = here if (here / "env.py").is_file() else None
    elif _relative(config) and not (Path(str(location)) / "env.py").is_file():
        beside = here / str(location) if (here / str(location) / "env.py").is_file() else None
    else:
        beside = None
    if beside is not None:
        config.set_main_option("script_location", str(beside.resolve()).replace("%", "%%"))


def _config_problem(config: Config, exc: Exception) -> str:
    """What is wrong with the configuration, in one line: Alembic's words, except for a
    script_location that is no directory, where they say to run ``alembic init``."""
    location = config.get_alembic_option("script_location")
    if isinstance(location, str) and "Path doesn't exist" in str(exc):
        relative = f", {_RELATIVE}" if _relative(config) else ""
        return f"script_location {location!r} is no directory{relative}"
    return _one_line(str(exc))


def _relative(config: Config) -> bool:
    """A script_location that is a relative path (not a package resource, ``pkg:dir``)."""
    location = config.get_alembic_option("script_location")
    return isinstance(location, str) and not os.path.isabs(location) and ":" not in location


_RELATIVE = (
    "taken from the working directory as Alembic takes a relative path: run from the "
    "directory it is relative to, or write it as %(here)s/..."
)


def _no_section(config: Config) -> str:
    """fief's alembic.ini holds one section per database (``[main]``, ``[workspace]``),
    which Alembic's ``--name`` picks: say which there are, and how migsafe reads one."""
    sections = ", ".join(f"[{s}]" for s in config.file_config.sections()) or "none"
    return (
        f"has no [{config.config_ini_section}] section (its sections: {sections}); to check "
        "one of them, call migsafe.command.check(alembic.config.Config(path, "
        "ini_section=NAME)) from Python (the command line has no --name yet)"
    )


def _ini_problem(exc: Exception) -> str:
    """What makes the file no ini file Alembic can read, with its line: configparser's own
    messages name the file (the diagnostic does already) and run over several lines."""
    what = "cannot be read as an ini file"
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"{what}: line {exc.lineno} ({exc.line.strip()!r}) comes before any [section]"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"{what}: line {exc.lineno} sets {exc.option!r} of [{exc.section}] a second time"
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"{what}: line {exc.lineno} opens [{exc.section}] a second time"
    if isinstance(exc, configparser.ParsingError):
        lineno, line = exc.errors[0]  # the line as repr() gives it, newline and all
        text = line.replace("\\n", "")
        return f"{what}: line {lineno} ({text}) is neither a [section] nor a key"
    return f"{what}: {_one_line(str(exc))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())

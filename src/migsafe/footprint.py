"""What a check read, to tell later whether its result still holds without redoing it.

A check depends on more than its scripts: the alembic.ini, which files the versions
directories hold, the modules the migrations import (a helper in the project, the
application's models) and the modules they could not import (stood in: installing one
changes what the script does). A ``Footprint`` lists all of that; ``holds()`` answers from
file contents, directory listings and ``stat`` calls alone, without importing Alembic, so a
re-run on an unchanged tree costs a fraction of a check.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migsafe.project.imports import find_module


@dataclass(frozen=True)
class Footprint:
    """Everything a check's result depends on besides the request and the settings."""

    files: Mapping[str, str] = field(default_factory=dict)  # path -> digest of its bytes
    listings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # dir -> its scripts
    recursive: tuple[str, ...] = ()  # the directories listed with their subdirectories
    modules: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # path -> size, mtime
    missing: tuple[str, ...] = ()  # modules that were stood in
    search_path: tuple[str, ...] = ()  # where the migrations looked for modules

    def holds(self) -> bool:
        """True while every input is as it was when the result was computed."""
        return (
            all(file_digest(Path(path)) == digest for path, digest in self.files.items())
            and all(
                scripts_listed(Path(directory), directory in self.recursive) == names
                for directory, names in self.listings.items()
            )
            and all(_stat(path) == stat for path, stat in self.modules.items())
            and not any(find_module(name, self.search_path) for name in self.missing)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "files": dict(self.files),
            "listings": {d: list(names) for d, names in self.listings.items()},
            "recursive": list(self.recursive),
            "modules": {path: list(stat) for path, stat in self.modules.items()},
            "missing": list(self.missing),
            "search_path": list(self.search_path),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Footprint:
        return cls(
            files=dict(data["files"]),
            listings={d: tuple(names) for d, names in data["listings"].items()},
            recursive=tuple(data["recursive"]),
            modules={path: (stat[0], stat[1]) for path, stat in data["modules"].items()},
            missing=tuple(data["missing"]),
            search_path=tuple(data["search_path"]),
        )


@dataclass(frozen=True)
class ImportedModules:
    """What running migration code imported: module files (with their stat), and the
    names that could not be found and were stood in."""

    files: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    search_path: tuple[str, ...] = ()  # sys.path then (a script may have added to it)
    read: tuple[str, ...] = ()  # other files it opened (SQL kept beside the migration)


# files opened that are code, whose change the modules' stat tells already
_CODE_SUFFIXES = (".py", ".pyc", ".pyi", ".so", ".pth")
# the kernel's views of the running system, files whose bytes differ on every read: a
# library reading /proc/stat (mlflow's, with its dependencies installed) is no input of the
# result. (Under /dev, only files of a memory file system such as /dev/shm are regular
# files, real ones: a device is no file here.)
_SYSTEM_STATE = ("/proc/", "/sys/")


class FilesOpened:
    """The files the running code opens (an audit hook: Python says so for every
    ``open()``), for a footprint: ``op.execute(Path("0002.sql").read_text())`` depends on
    the SQL file as much as on the script. Installed once in a worker process, for good
    (an audit hook cannot be removed); ``taken()`` says what was opened since the last call."""

    def __init__(self) -> None:
        self._opened: set[str] = set()
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and args and isinstance(args[0], (str, os.PathLike)):
            path = os.fspath(args[0])
            if not path.endswith(_CODE_SUFFIXES):
                self._opened.add(path)

    def taken(self) -> tuple[str, ...]:
        opened, self._opened = self._opened, set()
        files = {os.path.abspath(p) for p in opened}
        return tuple(
            sorted(p for p in files if not p.startswith(_SYSTEM_STATE) and os.path.isfile(p))
        )


def imported_since(before: set[str], modules: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """The files (with their stat) of the modules in ``modules`` (``sys.modules``) that are
    not in ``before``; built-in modules and stand-ins have none."""
    files: dict[str, tuple[int, int]] = {}
    for name in modules.keys() - before:
        origin = getattr(modules[name], "__file__", None)
        stat = _stat(Path(origin)) if isinstance(origin, str) else None
        if stat is not None:
            files[origin] = stat
    return files


def footprint_of(
    contents: Mapping[Path, bytes | None],
    listed: Iterable[tuple[Path, bool]],
    imported: Iterable[ImportedModules],
) -> Footprint:
    """The footprint of a check that read ``contents`` (each file's bytes as it read them;
    None for one it could not read),
    listed the scripts of ``listed`` directories (recursively or not) and ran code that
    imported ``imported``."""
    modules: dict[str, tuple[int, int]] = {}
    missing: set[str] = set()
    search_path: dict[str, None] = {}
    for part in imported:
        modules.update(part.files)
        missing.update(part.missing)
        search_path.update(dict.fromkeys(part.search_path))
    return Footprint(
        files={str(p): "" if data is None else _digest(data) for p, data in contents.items()},
        listings={str(d): scripts_listed(d, recursive) for d, recursive in listed},
        recursive=tuple(str(d) for d, recursive in listed if recursive),
        modules=modules,
        missing=tuple(sorted(missing)),
        search_path=tuple(search_path),
    )


def file_digest(path: Path) -> str | None:
    try:
        return _digest(path.read_bytes())
    except OSError:
        return None


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def scripts_listed(directory: Path, recursive: bool = False) -> tuple[str, ...]:
    """The migration scripts a versions directory holds, as migsafe lists them (relative
    paths, sorted). A cache hit lists them again: with the application package listed too
    (where a naming convention was looked for: airflow's 1,800 modules), strings from one
    walk, not a Path object for each."""
    if not recursive:
        try:
            names = os.listdir(directory)
        except OSError:
            return ()
        return tuple(sorted(n for n in names if n.endswith(".py") and n != "__init__.py"))
    found = []
    for where, _, files in os.walk(directory):
        relative = os.path.relpath(where, directory)
        prefix = "" if relative == os.curdir else f"{relative}{os.sep}"
        found += [f"{prefix}{n}" for n in files if n.endswith(".py") and n != "__init__.py"]
    return tuple(sorted(found))


def files_stat(paths: Iterable[str | Path]) -> dict[str, tuple[int, int]]:
    """Each file's stat, as a footprint keeps that of a module (its size and mtime)."""
    return {str(path): stat for path in paths if (stat := _stat(path)) is not None}


def _stat(path: str | Path) -> tuple[int, int] | None:
    try:
        result = os.stat(path)
    except OSError:
        return None
    return (result.st_size, result.st_mtime_ns)

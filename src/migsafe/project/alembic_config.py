"""The ``[alembic]`` options of the configuration a revision file belongs to, found from the
file itself: the alembic.ini (or ``[tool.alembic]`` in pyproject.toml) in a directory above it
whose ``script_location`` or ``version_locations`` holds it.

Read as text, not through ``alembic.config.Config``: rules about files named by a bare
versions directory still find the project's template, and nothing of the project runs.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from migsafe.project.scripts import MigrationScript

DEFAULT_FILE_TEMPLATE = "%(rev)s_%(slug)s"
_SEPARATORS = {"os": os.pathsep, "space": " ", "newline": "\n", "colon": ":", "semicolon": ";",
               "comma": ","}  # fmt: skip
_LOOKED_UP = 5  # how many directories above a versions directory alembic.ini may be


@dataclass(frozen=True)
class AlembicConfig:
    """The ``[alembic]`` options of the configuration the scripts belong to."""

    path: Path  # alembic.ini, or pyproject.toml
    options: dict[str, str | list[str]]

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def file_template(self) -> str:
        template = self.options.get("file_template")
        return template if isinstance(template, str) and template else DEFAULT_FILE_TEMPLATE

    @property
    def truncate_slug_length(self) -> int:
        try:
            return int(str(self.options.get("truncate_slug_length") or 40))
        except ValueError:
            return 40

    @property
    def script_location(self) -> Path | None:
        """Where env.py is: the relative location taken from the file's folder, and with
        none, the file's folder if it holds env.py (Flask-Migrate's layout)."""
        location = self.options.get("script_location")
        if not isinstance(location, str) or not location:
            return self.directory.resolve() if (self.directory / "env.py").is_file() else None
        if ":" in location and not Path(location).is_absolute():
            return None  # a package resource (``myapp:migrations``): not followed
        return (self.directory / location).resolve()

    def list_option(self, name: str) -> list[str]:
        """An option that lists paths, split as Alembic splits it."""
        value = self.options.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        separator = _SEPARATORS.get(str(self.options.get("path_separator")))
        parts = value.split(separator) if separator else re.split(r", *| +|:", value)
        return [part.strip() for part in parts if part.strip()]

    def version_directories(self) -> list[Path]:
        location = self.script_location
        listed = [(self.directory / p).resolve() for p in self.list_option("version_locations")]
        return listed or ([location / "versions"] if location else [])


def alembic_config(
    script: Path, known: dict[Path, AlembicConfig | None] | None = None
) -> AlembicConfig | None:
    """The alembic.ini (or pyproject.toml ``[tool.alembic]``) in a directory above the
    script whose ``script_location`` or ``version_locations`` holds it; None when there is
    none (a bare versions directory, or a configuration somewhere else). ``known`` keeps
    what one check found for each directory (the files are read again by the next)."""
    directory = script.resolve().parent
    if known is None:
        return _config_for(directory)
    if directory not in known:
        known[directory] = _config_for(directory)
    return known[directory]


def _config_for(directory: Path) -> AlembicConfig | None:
    for candidate in [directory, *directory.parents][: _LOOKED_UP + 1]:
        config = _read_config(candidate)
        if config is not None and any(
            directory == place or place in directory.parents
            for place in (*config.version_directories(), config.script_location)
            if place is not None
        ):
            return config
    return None


def _read_config(directory: Path) -> AlembicConfig | None:
    options: dict[str, str | list[str]] = {}
    found: Path | None = None
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            table = {}
        alembic = table.get("tool", {}).get("alembic")
        if isinstance(alembic, dict):
            found = pyproject
            for key, value in alembic.items():
                if isinstance(value, (str, list)):
                    options[key] = _toml_value(value, directory)
    ini = directory / "alembic.ini"
    if ini.is_file():
        parser = configparser.ConfigParser(defaults={"here": str(directory)})
        try:
            parser.read(ini, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return None
        if parser.has_section("alembic"):
            found = ini
            for key in parser.options("alembic"):
                if key == "here":
                    continue
                try:
                    options[key] = parser.get("alembic", key)
                except configparser.Error:
                    continue
    return AlembicConfig(found, options) if found is not None else None


def _toml_value(value: str | list, directory: Path) -> str | list[str]:
    def one(text: object) -> str:
        try:
            return str(text) % {"here": str(directory)}
        except (KeyError, ValueError, TypeError):
            return str(text)

    return one(value) if isinstance(value, str) else [one(v) for v in value]


def config_files(scripts: list[MigrationScript]) -> list[Path]:
    """The configuration files the scripts belong to: what a verdict drawn from their
    options depends on (a cached result no longer holds when one changes)."""
    known: dict[Path, AlembicConfig | None] = {}
    found = {config.path for s in scripts if (config := alembic_config(s.path, known))}
    return sorted(found)

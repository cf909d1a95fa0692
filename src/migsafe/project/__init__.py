"""The project a command works on, loaded once: its Alembic config, its scripts in graph
order, the import path they expect, and the settings found next to it.

Every command (check, roundtrip, and those to come) starts from ``load_project``, whether it
was given paths, an alembic.ini or an ``alembic.config.Config`` object.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migsafe.config import Settings, load_settings
from migsafe.findings import Diagnostic
from migsafe.project.history import History, load_history
from migsafe.project.imports import import_path
from migsafe.project.scripts import (
    BodyShape,
    MigrationScript,
    body_shape,
    failing_line,
    raised_on_purpose,
    read_script,
    stopped_itself,
)
from migsafe.project.sources import Sources, find_sources

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "BodyShape",
    "History",
    "MigrationScript",
    "Project",
    "Sources",
    "body_shape",
    "failing_line",
    "find_sources",
    "import_path",
    "load_history",
    "load_project",
    "project_directory",
    "project_settings",
    "raised_on_purpose",
    "read_script",
    "stopped_itself",
]


@dataclass
class Project:
    """Everything a command needs to know about the project before it runs anything."""

    location: Path  # what was named first: the place settings and git are looked up from
    config: Config  # Alembic's, from alembic.ini, given, or made for a bare versions directory
    sources: Sources
    history: History
    settings: Settings
    diagnostics: list[Diagnostic] = field(default_factory=list)  # unreadable input, graph

    @property
    def scripts(self) -> list[MigrationScript]:
        return self.history.scripts

    @property
    def sys_path(self) -> list[Path]:
        return self.sources.sys_path

    @property
    def has_fatal(self) -> bool:
        return any(d.fatal for d in self.diagnostics)


def load_project(
    paths: Sequence[Path] = (),
    config_file: Path | None = None,
    config: Config | None = None,
    x_arguments: Sequence[str] = (),
) -> Project:
    """Read the project the paths (or alembic.ini, or ``config``) name.

    Raises ``ConfigError`` when the project's ``[tool.migsafe]`` cannot be used; everything
    wrong with the scripts themselves is a diagnostic, so that the others still get checked.
    """
    targets = _targets(paths, config_file, config)
    sources = find_sources(targets, config_file, config)
    history, diagnostics = load_history(sources)
    alembic_config = sources.config or _bare_config(sources)
    if x_arguments:
        alembic_config.cmd_opts = argparse.Namespace(x=list(x_arguments))
    settings = project_settings(paths, config_file, config)
    location = _location(targets, config_file, config)
    return Project(location, alembic_config, sources, history, settings, diagnostics)


def project_settings(
    paths: Sequence[Path] = (), config_file: Path | None = None, config: Config | None = None
) -> Settings:
    """The ``[tool.migsafe]`` settings of the project ``load_project`` would load, without
    loading it (or importing Alembic)."""
    return load_settings(project_directory(paths, config_file, config))


def project_directory(
    paths: Sequence[Path] = (), config_file: Path | None = None, config: Config | None = None
) -> Path:
    """The directory of what was named first: where settings and git are looked up from."""
    location = _location(_targets(paths, config_file, config), config_file, config)
    return location if location.is_dir() else location.parent


def _targets(paths: Sequence[Path], config_file: Path | None, config: Config | None) -> list[Path]:
    return list(paths) or ([] if config_file or config else [Path.cwd()])


def _location(targets: list[Path], config_file: Path | None, config: Config | None) -> Path:
    """What was named first: where settings (and git) are looked up from."""
    named = [*targets, *([config_file] if config_file else [])]
    if config is not None and config.config_file_name:
        named.append(Path(config.config_file_name))
    return named[0] if named else Path.cwd()


def _bare_config(sources: Sources) -> Config:
    """A config for versions directories without alembic.ini, as Alembic would need one:
    the script directory, and the versions directory itself when it has no env.py."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("path_separator", "os")
    location = sources.script_location
    if location is not None:
        config.set_main_option("script_location", str(location))
        if not ((location / "env.py").is_file() and (location / "versions").is_dir()):
            config.set_main_option("version_locations", str(location))
    return config

"""Alembic's ``ScriptDirectory`` of a configuration, without running the application.

A package-style ``script_location`` (``pkg.sub:dir``) makes Alembic import the package to
find the directory: that runs the application's ``__init__`` in migsafe's own process,
which fails where its dependencies are not installed (aim's imports aimrocks, aodh's
oslo_config) and may do anything. migsafe finds the directory on the import path instead.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory


def script_directory(config: Config) -> ScriptDirectory:
    """``ScriptDirectory.from_config(config)``, a package-style script_location found without
    importing its package; raises as that does, and ModuleNotFoundError when the package is
    not on the import path."""
    with _package_location_found(config):
        return ScriptDirectory.from_config(config)


@contextmanager
def _package_location_found(config: Config) -> Iterator[None]:
    """While Alembic reads ``config``, a package-style script_location stands as the
    directory it names; the caller's Config is as it was afterwards."""
    section = config.config_ini_section
    location = config.get_alembic_option("script_location")
    if not isinstance(location, str) or os.path.isabs(location) or ":" not in location:
        yield
        return
    package, *parts = location.split(":")
    top, *subpackages = package.split(".")
    spec = importlib.util.find_spec(top)  # a top-level name: nothing of it runs
    bases = [Path(b) for b in (spec.submodule_search_locations or [])] if spec else []
    if not bases:
        raise ModuleNotFoundError(name=top)
    candidates = [base.joinpath(*subpackages, *parts) for base in bases]
    directory = next((c for c in candidates if c.is_dir()), candidates[0])
    had = config.file_config.has_option(section, "script_location")
    raw = config.file_config.get(section, "script_location", raw=True) if had else None
    config.file_config.set(section, "script_location", str(directory).replace("%", "%%"))
    try:
        yield
    finally:  # the caller's Config as it was
        if raw is None:
            config.file_config.remove_option(section, "script_location")
        else:
            config.file_config.set(section, "script_location", raw)

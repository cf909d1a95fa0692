"""Settings from ``[tool.migsafe]`` in pyproject.toml, overridden by the command line."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from migsafe.errors import MigsafeError
from migsafe.findings import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

DEFAULT_PG_VERSION = 15
DEFAULT_TIMEOUT = 60.0  # seconds per script (check) or per step (roundtrip)
_STRING_KEYS = {
    "metadata": "metadata",
    "version-table": "version_table",
    "version-table-schema": "version_table_schema",
}


class ConfigError(MigsafeError):
    """A setting that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    pg_version: int | None = None  # the major the migrations run on; None: not said
    fail_on: Severity = Severity.WARNING
    ignore: frozenset[str] = field(default_factory=frozenset)
    metadata: str | None = None  # "package.module:Base.metadata", for roundtrip's drift check
    version_table: str | None = None
    version_table_schema: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    source: Path | None = None

    @property
    def target_pg_version(self) -> int:
        """The major the rules judge for: the one said, else the default."""
        return self.pg_version or DEFAULT_PG_VERSION

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class Overrides:
    """What the command line says over the project's ``[tool.migsafe]``: each value that
    is set replaces the project's, and ``ignore`` adds to the project's list."""

    pg_version: int | None = None
    fail_on: Severity | None = None
    ignore: tuple[str, ...] = ()
    timeout: float | None = None
    metadata: str | None = None

    def over(self, settings: Settings) -> Settings:
        return settings.with_overrides(
            pg_version=self.pg_version,
            fail_on=self.fail_on,
            ignore=settings.ignore | frozenset(self.ignore) if self.ignore else None,
            timeout=self.timeout,
            metadata=self.metadata,
        )


def find_pyproject(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_settings(start: Path | None = None) -> Settings:
    """Read ``[tool.migsafe]`` from the nearest pyproject.toml (none: defaults)."""
    path = find_pyproject((start or Path.cwd()).resolve())
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("migsafe", {})
    return settings_from_table(table, path)


def settings_from_table(table: Mapping[str, Any], path: Path) -> Settings:
    known = {"postgres-version", "fail-on", "ignore", "timeout", *_STRING_KEYS}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key [tool.migsafe] {unknown[0]!r}")
    settings = Settings(source=path)
    if "postgres-version" in table:
        version = table["postgres-version"]
        if not isinstance(version, int) or not 9 <= version <= 30:
            raise ConfigError(f"{path}: [tool.migsafe] postgres-version must be a major version")
        settings = replace(settings, pg_version=version)
    if "fail-on" in table:
        try:
            settings = replace(settings, fail_on=Severity.parse(str(table["fail-on"])))
        except ValueError as exc:
            raise ConfigError(f"{path}: [tool.migsafe] fail-on: {exc}") from None
    if "ignore" in table:
        ignore = table["ignore"]
        if not isinstance(ignore, list) or not all(isinstance(i, str) for i in ignore):
            raise ConfigError(f"{path}: [tool.migsafe] ignore must be a list of rule names")
        settings = replace(settings, ignore=frozenset(i.strip() for i in ignore))
    if "timeout" in table:
        timeout = table["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigError(f"{path}: [tool.migsafe] timeout must be a number of seconds > 0")
        settings = replace(settings, timeout=float(timeout))
    for key, attribute in _STRING_KEYS.items():
        if key in table:
            if not isinstance(table[key], str) or not table[key].strip():
                raise ConfigError(f"{path}: [tool.migsafe] {key} must be a non-empty string")
            settings = replace(settings, **{attribute: table[key].strip()})
    return settings

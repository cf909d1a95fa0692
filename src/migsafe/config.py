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
# the longest limit taken: a day (what a pipe's poll() accepts runs out at 24 days)
MAX_TIMEOUT = 86400.0


def valid_timeout(value: object) -> bool:
    """A number of seconds above 0, finite, at most MAX_TIMEOUT (not ``inf``, not ``nan``)."""
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool)
        and 0 < value <= MAX_TIMEOUT  # false for nan
    )  # fmt: skip


_STRING_KEYS = {
    "metadata": "metadata",
    "version-table": "version_table",
    "version-table-schema": "version_table_schema",
}


class ConfigError(MigsafeError):
    """A setting that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    """What a project asks of migsafe (``[tool.migsafe]``), the command line said over it.

    Rules: the ones ``select`` names (default: every rule that is not opt-in), plus
    ``extend_select`` (how opt-in rules are turned on), less ``ignore``; each a rule name, a
    code, a code prefix (``MS01``) or ``ALL``. ``severity`` changes a rule's severity;
    ``exclude`` (path globs, matched from the right: ``versions/0001_*.py``) keeps scripts
    from being judged (they still run, for the schema they build).
    """

    pg_version: int | None = None  # the major the migrations run on; None: not said
    fail_on: Severity = Severity.WARNING
    ignore: frozenset[str] = field(default_factory=frozenset)
    select: frozenset[str] | None = None
    extend_select: frozenset[str] = field(default_factory=frozenset)
    severity: tuple[tuple[str, Severity], ...] = ()  # (rule, severity)
    exclude: tuple[str, ...] = ()
    report_unused_ignores: bool = False
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
    select: tuple[str, ...] | None = None  # replaces the project's select
    extend_select: tuple[str, ...] = ()
    timeout: float | None = None
    metadata: str | None = None
    report_unused_ignores: bool | None = None

    def over(self, settings: Settings) -> Settings:
        extended = settings.extend_select | frozenset(self.extend_select)
        return settings.with_overrides(
            pg_version=self.pg_version,
            fail_on=self.fail_on,
            ignore=settings.ignore | frozenset(self.ignore) if self.ignore else None,
            select=frozenset(self.select) if self.select is not None else None,
            extend_select=extended if self.extend_select else None,
            timeout=self.timeout,
            metadata=self.metadata,
            report_unused_ignores=self.report_unused_ignores,
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
    known = {
        "postgres-version", "fail-on", "ignore", "select", "extend-select", "severity",
        "exclude", "report-unused-ignores", "timeout", *_STRING_KEYS,
    }  # fmt: skip
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
    for key, attribute in (("ignore", "ignore"), ("select", "select"),
                           ("extend-select", "extend_select")):  # fmt: skip
        if key in table:
            names = _strings(table[key], path, key, "a list of rule names, codes or prefixes")
            settings = replace(settings, **{attribute: frozenset(names)})
    if "exclude" in table:
        globs = _strings(table["exclude"], path, "exclude", "a list of path globs")
        settings = replace(settings, exclude=tuple(globs))
    if "severity" in table:
        settings = replace(settings, severity=_severities(table["severity"], path))
    if "report-unused-ignores" in table:
        if not isinstance(table["report-unused-ignores"], bool):
            raise ConfigError(f"{path}: [tool.migsafe] report-unused-ignores must be true or false")
        settings = replace(settings, report_unused_ignores=table["report-unused-ignores"])
    if "timeout" in table:
        timeout = table["timeout"]
        if not valid_timeout(timeout):
            raise ConfigError(
                f"{path}: [tool.migsafe] timeout must be a number of seconds > 0, at most "
                f"{MAX_TIMEOUT:g}"
            )
        settings = replace(settings, timeout=float(timeout))
    for key, attribute in _STRING_KEYS.items():
        if key in table:
            if not isinstance(table[key], str) or not table[key].strip():
                raise ConfigError(f"{path}: [tool.migsafe] {key} must be a non-empty string")
            settings = replace(settings, **{attribute: table[key].strip()})
    return settings


def _strings(value: object, path: Path, key: str, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: [tool.migsafe] {key} must be {what}")
    return [item.strip() for item in value]


def _severities(table: object, path: Path) -> tuple[tuple[str, Severity], ...]:
    """``[tool.migsafe.severity]``: rule = "error" | "warning" | "notice"."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.migsafe.severity] must be a table of rule = level")
    found = []
    for rule, level in table.items():
        try:
            found.append((rule.strip(), Severity.parse(str(level))))
        except ValueError as exc:
            raise ConfigError(f"{path}: [tool.migsafe.severity] {rule}: {exc}") from None
    return tuple(found)

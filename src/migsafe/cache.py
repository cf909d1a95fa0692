"""A re-run on an unchanged tree answers from the last run's result.

A check's cost is mostly importing Alembic and running every script; a re-run whose
inputs did not change repeats that for nothing. The cache keys a result by what was asked
(paths, config file, ``-x``, the settings in effect, the working directory) and by what
computes it (migsafe and its own source, Python, Alembic, SQLAlchemy, pglast); the entry
holds the result and its ``Footprint`` (what the check read), which must still hold for the
entry to answer. Looking up imports neither Alembic nor the rules.

Entries live in the user's cache directory (``MIGSAFE_CACHE_DIR`` moves it), one JSON file
each, written to a temporary file and renamed into place: two runs sharing the directory
each see a whole entry or none. A result a re-run could give differently (a script timed
out, or its worker died) is never stored. Anything wrong with the cache is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from migsafe import __version__
from migsafe.config import Settings
from migsafe.findings import (
    Change,
    ChangeKind,
    CheckResult,
    Diagnostic,
    Finding,
    RevisionLocks,
    Severity,
)
from migsafe.footprint import Footprint

FORMAT = 4  # of the entries; a migsafe that writes another format never reads these
MAX_ENTRIES = 256  # the least recently used beyond this are removed
_LIBRARIES = ("alembic", "sqlalchemy", "pglast")


def cache_directory() -> Path:
    """migsafe's cache (check results, PostgreSQL templates): ``MIGSAFE_CACHE_DIR``, else
    the platform's user cache directory; as root a world-traversable one, which the
    unprivileged PostgreSQL server can reach."""
    configured = os.environ.get("MIGSAFE_CACHE_DIR")
    if configured:
        return Path(configured)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/tmp") / "migsafe-root"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "migsafe"


class ResultCache:
    """Check results by request, in ``directory``."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = (directory or cache_directory()) / "check"

    def key(self, request: Mapping[str, Any], settings: Settings) -> str:
        """The key of a check asked ``request`` under ``settings``, by this migsafe."""
        material = {
            "format": FORMAT,
            "migsafe": [__version__, _own_code_stamp()],
            "python": sys.version,
            "libraries": [_installed_version(name) for name in _LIBRARIES],
            "cwd": os.getcwd(),
            "request": request,
            "settings": _settings_json(settings),
        }
        encoded = json.dumps(material, sort_keys=True, default=str).encode()
        return hashlib.blake2b(encoded, digest_size=20).hexdigest()

    def lookup(self, key: str) -> CheckResult | None:
        """The stored result, when its footprint still holds."""
        path = self.directory / f"{key}.json"
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry["format"] != FORMAT or not Footprint.from_json(entry["footprint"]).holds():
                return None
            result = _result_from_json(entry["result"])
            os.utime(path)  # recently used: pruned last
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return result

    def store(self, key: str, result: CheckResult) -> None:
        """Keep ``result`` under ``key``, unless a re-run could give it differently."""
        if result.footprint is None:
            return
        entry = {
            "format": FORMAT,
            "footprint": result.footprint.to_json(),
            "result": _result_json(result),
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(suffix=".tmp", dir=self.directory)
        except OSError:
            return  # a cache that cannot be written only makes the next run slower
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(entry, handle)
            os.replace(temporary, self.directory / f"{key}.json")
        except OSError:
            return
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        self._prune()

    def _prune(self) -> None:
        try:
            entries = [e for e in os.scandir(self.directory) if e.name.endswith(".json")]
            if len(entries) <= MAX_ENTRIES:
                return
            entries.sort(key=lambda e: e.stat().st_mtime_ns)
            for entry in entries[: len(entries) - MAX_ENTRIES]:
                os.unlink(entry.path)
        except OSError:
            return  # another run pruned it first


def check_request(
    paths: Sequence[Path],
    config_file: Path | None,
    x_arguments: Sequence[str],
    changed: set[Path] | None = None,
) -> dict[str, Any]:
    """What a check of these paths asks, in the terms of a cache key (``changed``: the
    files ``--since`` found, which decide what is judged)."""
    return {
        "paths": [str(p.resolve()) for p in paths],
        "config_file": str(config_file.resolve()) if config_file else None,
        "x": list(x_arguments),
        "changed": sorted(map(str, changed)) if changed is not None else None,
    }


def _own_code_stamp() -> str:
    """Size and modification time of every file of migsafe itself, so that a checkout
    being worked on never answers with results of its older code."""
    package = Path(__file__).parent
    stamp = hashlib.blake2b(digest_size=16)
    for directory, _, files in sorted(os.walk(package)):
        for name in sorted(files):
            if not name.endswith(".pyc"):
                stat = os.stat(os.path.join(directory, name))
                stamp.update(f"{directory}/{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return stamp.hexdigest()


def _installed_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _settings_json(settings: Settings) -> dict[str, Any]:
    data = asdict(settings)
    data["ignore"] = sorted(settings.ignore)
    data["fail_on"] = int(settings.fail_on)
    return data


def _result_json(result: CheckResult) -> dict[str, Any]:
    return {
        "findings": [
            {**asdict(f), "severity": int(f.severity), "path": str(f.path)} for f in result.findings
        ],
        "diagnostics": [
            {**asdict(d), "path": None if d.path is None else str(d.path)}
            for d in result.diagnostics
        ],
        "checked": result.checked,
        "fail_on": int(result.fail_on),
        "paths": [str(p) for p in result.paths],
        "revisions": [_revision_json(r) for r in result.revisions],
    }


def _revision_json(revision: RevisionLocks) -> dict[str, Any]:
    return {
        **asdict(revision),
        "path": str(revision.path),
        "changes": [{**asdict(c), "kind": c.kind.value} for c in revision.changes],
    }


def _revision_from_json(data: Mapping[str, Any]) -> RevisionLocks:
    changes = tuple(
        Change(**{**c, "kind": ChangeKind(c["kind"]), "tags": tuple(c["tags"])})
        for c in data["changes"]
    )
    return RevisionLocks(
        path=Path(data["path"]),
        revision=data["revision"],
        locks=tuple((table, mode) for table, mode in data["locks"]),
        changes=changes,
        title=data["title"],
        parents=tuple(data["parents"]),
        downgrade=data["downgrade"],
    )


def _result_from_json(data: Mapping[str, Any]) -> CheckResult:
    findings = [
        Finding(**{**f, "severity": Severity(f["severity"]), "path": Path(f["path"])})
        for f in data["findings"]
    ]
    diagnostics = [
        Diagnostic(**{**d, "path": Path(d["path"]) if d["path"] is not None else None})
        for d in data["diagnostics"]
    ]
    return CheckResult(
        findings=findings,
        diagnostics=diagnostics,
        checked=data["checked"],
        fail_on=Severity(data["fail_on"]),
        paths=[Path(p) for p in data["paths"]],
        revisions=[_revision_from_json(r) for r in data["revisions"]],
    )

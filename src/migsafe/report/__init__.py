"""Output formats: one table says which formats each command has and which module renders
each, so the command line's choices and the dispatch cannot disagree. Every module has
``render(result, out)``; shared pieces (paths, locations, counts, the repository root that
SARIF and GitHub annotations locate files from) live here.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from collections.abc import Callable, Iterable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from migsafe.findings import Severity

if TYPE_CHECKING:
    from migsafe.findings import CheckResult, Diagnostic, Finding

FORMATS: dict[str, dict[str, str]] = {
    "check": {
        "text": "migsafe.report.text",
        "json": "migsafe.report.json_report",
        "junit": "migsafe.report.junit",
        "markdown": "migsafe.report.markdown",
        "sarif": "migsafe.report.sarif",
        "github": "migsafe.report.github",
    },
    "roundtrip": {
        "text": "migsafe.report.roundtrip.text",
        "json": "migsafe.report.roundtrip.json_report",
        "junit": "migsafe.report.roundtrip.junit",
        "markdown": "migsafe.report.roundtrip.markdown",
        "sarif": "migsafe.report.roundtrip.sarif",
        "github": "migsafe.report.roundtrip.github",
    },
    "runbook": {
        "text": "migsafe.report.runbook.text",
        "markdown": "migsafe.report.runbook.markdown",
        "json": "migsafe.report.runbook.json_report",
    },
}

Renderer = Callable[[Any, TextIO], None]


def format_names(command: str) -> list[str]:
    return list(FORMATS[command])


def report_module(command: str, name: str) -> Any:
    """The module rendering ``command``'s results as ``name`` (imported only when used: the
    check's reporters would pull the SQL parser into roundtrip)."""
    return import_module(FORMATS[command][name])


def renderer(command: str, name: str) -> Renderer:
    return report_module(command, name).render


def write_json(document: object, out: TextIO, *, ensure_ascii: bool = True) -> None:
    """``document`` as indented JSON, in one write: ``json.dump`` writes each token on its
    own, a system call apiece when standard output is unbuffered (``PYTHONUNBUFFERED=1``, as
    many CI images set it): 9,000 of them for mlflow's 135 findings."""
    out.write(json.dumps(document, indent=2, ensure_ascii=ensure_ascii) + "\n")


def display_path(path: Path | None) -> str:
    """Paths relative to the working directory when they are below it, as editors expect."""
    if path is None:
        return "-"
    try:
        return str(resolved(path).relative_to(resolved(Path.cwd())))
    except ValueError:  # outside the working directory
        return str(path)


def resolved(path: Path) -> Path:
    """``path.resolve()``, worked out once per path and working directory: a report names the
    same few files hundreds of times, and resolving one costs a system call per component."""
    return _resolved(path, os.getcwd())


@functools.lru_cache(maxsize=1024)
def _resolved(path: Path, working_directory: str) -> Path:
    return path.resolve()


def repository_root(paths: Iterable[Path | None]) -> Path:
    """Where the checked files' repository starts: the git top-level of the first of
    ``paths`` (one ``git rev-parse``), else the working directory. Code scanning and
    annotations locate files relative to it, whatever directory migsafe ran in."""
    first = next((path for path in paths if path is not None), None)
    if first is not None:
        directory = first.resolve()
        while not directory.is_dir() and directory != directory.parent:
            directory = directory.parent  # a file, or one that could not be read
        try:
            completed = subprocess.run(
                ["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):  # no git, or it hangs
            completed = None
        if completed is not None and completed.returncode == 0 and completed.stdout.strip():
            return Path(completed.stdout.strip())
    return Path.cwd()


def repository_path(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` with forward slashes, or None when it is outside."""
    try:
        return resolved(path).relative_to(resolved(root)).as_posix()
    except ValueError:
        return None


def location(diagnostic: Diagnostic) -> str:
    """``path:line`` of a diagnostic, or just the path when it has no line."""
    path = display_path(diagnostic.path)
    return f"{path}:{diagnostic.line}" if diagnostic.line else path


def diagnostic_line(diagnostic: Diagnostic) -> str:
    """``path:line: error|notice: message``: how every format writes a diagnostic in text."""
    label = "error" if diagnostic.fatal else "notice"
    return f"{location(diagnostic)}: {label}: {diagnostic.message}"


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """How many findings of each severity, worst first (every severity present)."""
    counts = dict.fromkeys(sorted(Severity, reverse=True), 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def table_cell(text: str) -> str:
    """Text for a Markdown table cell: on one line, its pipes escaped."""
    return text.replace("|", "\\|").replace("\n", " ")


def summary(result: CheckResult) -> str:
    """``Checked 5 migrations: 4 errors, 2 warnings; 1 input error, 3 notes on what could
    not be checked.`` (the diagnostics printed above it, fatal or not)."""
    parts = [counted(n, str(level)) for level, n in severity_counts(result.findings).items() if n]
    found = ", ".join(parts) if parts else "no problems"
    broken = sum(1 for d in result.diagnostics if d.fatal)
    noted = len(result.diagnostics) - broken
    about = [counted(broken, "input error")] if broken else []
    about += [f"{counted(noted, 'note')} on what could not be checked"] if noted else []
    if not result.checked and about:  # nothing was checked: "no problems" would read as a pass
        return f"Checked no migration: {', '.join(about)}."
    tail = f"; {', '.join(about)}" if about else ""
    return f"Checked {counted(result.checked, 'migration')}: {found}{tail}."

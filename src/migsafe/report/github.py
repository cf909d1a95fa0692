"""GitHub Actions workflow commands for check: an annotation per finding, then the summary.

``::error file=PATH,line=N,endLine=M,col=C,title=MS004 create-index-not-concurrently::MESSAGE``
(``warning`` and ``notice`` for the other severities), the finding's one-line help on the
annotation's second line. Values are escaped as the Actions toolkit escapes them
(``@actions/core``: ``%``, CR and LF in the message; also ``:`` and ``,`` in properties).
Paths are relative to the workspace (``GITHUB_WORKSPACE``, else the git top-level of the
checked files, else the working directory), so the annotations land on the pull request's
diff. Input errors are annotations too (``error`` when fatal, else ``notice``).

On by default in a workflow: when ``GITHUB_ACTIONS`` is ``true`` (GitHub sets it in every
job), the text reporter prints these annotation lines before its usual output on standard
output (not into a report file), so a plain ``migsafe check`` step annotates the diff with no
``--format`` to choose. The lines are workflow commands, which the job log hides and turns
into annotations.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from migsafe.findings import Severity
from migsafe.report import repository_path, repository_root, resolved, summary

if TYPE_CHECKING:
    from migsafe.findings import CheckResult, Diagnostic, Finding

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "notice"}


def render(result: CheckResult, out: TextIO) -> None:

    found = annotation_text(result.findings, result.diagnostics, workspace(result.paths))
    out.write(f"{found}{summary(result)}\n")


def annotates(out: TextIO) -> bool:
    """Whether the text output on ``out`` carries annotations too: in a GitHub Actions job,
    when it goes to the job's log (standard output; a report written to a file does not)."""
    return os.environ.get("GITHUB_ACTIONS") == "true" and out is sys.stdout


def workspace(paths: Iterable[Path | None]) -> Path:
    """What annotation paths are relative to: the job's workspace (the checkout), else the
    repository of ``paths``."""
    configured = os.environ.get("GITHUB_WORKSPACE")
    return Path(configured) if configured else repository_root(paths)


def annotation_text(
    findings: Iterable[Finding], diagnostics: Iterable[Diagnostic], root: Path
) -> str:
    """An annotation per finding and per diagnostic, a line each, paths relative to
    ``root``: written with the rest of the report, in one write (see ``write_json``)."""
    lines = [finding_annotation(finding, root) + "\n" for finding in findings]
    lines += [diagnostic_annotation(diagnostic, root) + "\n" for diagnostic in diagnostics]
    return "".join(lines)


def finding_annotation(finding: Finding, root: Path) -> str:
    message = f"{finding.message}\n{finding.help}" if finding.help else finding.message
    return workflow_command(
        COMMAND[finding.severity], message,
        file=annotation_path(finding.path, root), line=finding.line,
        endLine=finding.end_line, col=finding.column, title=f"{finding.code} {finding.rule}",
    )  # fmt: skip


def diagnostic_annotation(diagnostic: Diagnostic, root: Path) -> str:
    return workflow_command(
        "error" if diagnostic.fatal else "notice", diagnostic.message,
        file=annotation_path(diagnostic.path, root) if diagnostic.path else None,
        line=diagnostic.line, title="migsafe: input error" if diagnostic.fatal else "migsafe",
    )  # fmt: skip


def annotation_path(path: Path, root: Path) -> str:
    """``path`` relative to the workspace; absolute when outside it (no annotation on the
    diff, but the log still names the file)."""
    relative = repository_path(path, root)
    return relative if relative is not None else str(resolved(path))


def workflow_command(command: str, message: str, **properties: object) -> str:
    """``::command key=value,...::message``, leaving out the properties that are None."""
    given = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None
    )
    return f"::{command}{' ' + given if given else ''}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """A command's message, escaped as ``@actions/core`` does (``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property's value, escaped as ``@actions/core`` does (``escapeProperty``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")

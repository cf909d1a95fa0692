"""Machine-readable output; the schema is documented in docs/json-output.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from migsafe.findings import Finding
from migsafe.report import display_path, severity_counts, write_json

if TYPE_CHECKING:
    from migsafe.findings import CheckResult

SCHEMA_VERSION = 1


def finding_document(finding: Finding) -> dict[str, object]:
    """One finding as JSON (check's findings and roundtrip's, alike)."""
    return {
        "code": finding.code,
        "rule": finding.rule,
        "severity": str(finding.severity),
        "path": display_path(finding.path),
        "line": finding.line,
        "revision": finding.revision,
        "end_line": finding.end_line,
        "column": finding.column,
        "message": finding.message,
        "help": finding.help,
        "hint": finding.hint,
        "url": finding.url,
    }


def render(result: CheckResult, out: TextIO) -> None:
    document = {
        "schema_version": SCHEMA_VERSION,
        "checked": result.checked,
        "summary": {str(level): n for level, n in severity_counts(result.findings).items()},
        "findings": [finding_document(f) for f in result.findings],
        "diagnostics": [
            {
                "path": display_path(d.path),
                "line": d.line,
                "message": d.message,
                "fatal": d.fatal,
            }
            for d in result.diagnostics
        ],
        "revisions": [
            {
                "path": display_path(r.path),
                "revision": r.revision,
                "locks": [{"table": table, "lock": lock} for table, lock in r.locks],
            }
            for r in result.revisions
        ],
    }
    write_json(document, out)

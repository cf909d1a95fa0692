"""Machine-readable output; the schema is documented in docs/json-output.md."""

from __future__ import annotations

import json
from typing import TextIO

from migsafe.check import CheckResult
from migsafe.findings import Severity
from migsafe.report import display_path

SCHEMA_VERSION = 1


def render(result: CheckResult, out: TextIO) -> None:
    document = {
        "schema_version": SCHEMA_VERSION,
        "checked": result.checked,
        "summary": {
            str(level): sum(1 for f in result.findings if f.severity == level)
            for level in sorted(Severity, reverse=True)
        },
        "findings": [
            {
                "code": f.code,
                "rule": f.rule,
                "severity": str(f.severity),
                "path": display_path(f.path),
                "line": f.line,
                "revision": f.revision,
                "message": f.message,
                "hint": f.hint,
            }
            for f in result.findings
        ],
        "diagnostics": [
            {
                "path": display_path(d.path),
                "line": d.line,
                "message": d.message,
                "fatal": d.fatal,
            }
            for d in result.diagnostics
        ],
    }
    json.dump(document, out, indent=2)
    out.write("\n")

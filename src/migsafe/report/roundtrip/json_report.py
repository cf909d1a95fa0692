"""Machine-readable roundtrip output; the schema is documented in docs/roundtrip.md."""

from __future__ import annotations

from dataclasses import asdict
from typing import TextIO

from migsafe.footprint import file_digest
from migsafe.report import display_path, write_json
from migsafe.report.json_report import finding_document
from migsafe.roundtrip.result import RoundtripResult

SCHEMA_VERSION = 1


def render(result: RoundtripResult, out: TextIO) -> None:
    document = {
        "schema_version": SCHEMA_VERSION,
        "passed": result.passed,
        "interrupted": result.interrupted,
        "shard": result.shard,
        "provider": result.provider,
        "seconds": round(result.seconds, 3),
        "revisions": [
            {
                "revision": r.revision,
                "path": display_path(r.path),
                "digest": file_digest(r.path),  # which file it ran (runbook --roundtrip)
                "message": r.message,
                "verdict": str(r.verdict),
                "failed": r.failed(result.one_way_fails),
                "note": r.note,
                "seconds": round(r.seconds, 3),
                "error": asdict(r.error) if r.error else None,
                "changes": [asdict(change) for change in r.changes],
            }
            for r in result.revisions
        ],
        "findings": [finding_document(f) for f in result.findings],
        "drift": result.drift,
        "drift_note": result.drift_note,
        "diagnostics": [
            {"path": display_path(d.path), "line": d.line, "message": d.message, "fatal": d.fatal}
            for d in result.diagnostics
        ],
    }
    write_json(document, out)

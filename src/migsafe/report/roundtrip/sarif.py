"""SARIF 2.1.0 for roundtrip, in the form of check's (``migsafe.report.sarif``): a result per
failed revision, at its file (and the failing line when the error has one), its ``ruleId``
the verdict (``downgrade-leaves-trace``), plus the findings about the revision graph (several
heads) under their rule codes. Model drift has no file to point at, which code scanning
requires of a result, so each difference is an error notification of the invocation instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from migsafe.report import repository_root, write_json
from migsafe.report.roundtrip import problem_lines
from migsafe.report.sarif import Json, physical_location, sarif_log
from migsafe.roundtrip.result import RevisionResult, RoundtripResult, Verdict

VERDICTS_URI = "https://github.com/migsafe/migsafe/blob/main/docs/roundtrip.md#verdicts"


def render(result: RoundtripResult, out: TextIO) -> None:
    from migsafe.rules import history_rule_modules  # the graph rules: no SQL parser

    known = {module.RULE.code: module.RULE for module in history_rule_modules()}
    root = repository_root(
        [*(r.path for r in result.revisions), *(f.path for f in result.findings)]
    )
    failed = [(verdict_descriptor(r.verdict), revision_result(r, root)) for r in result.failures]
    drift = [{"level": "error", "message": {"text": f"model drift: {line}"}}
             for line in result.drift or ()]  # fmt: skip
    document = sarif_log(result.findings, known, result.diagnostics, root, extra=failed,
                         notes=drift)  # fmt: skip
    write_json(document, out)


def verdict_descriptor(verdict: Verdict) -> Json:
    text = f"{verdict.description[0].upper()}{verdict.description[1:]}."
    return {
        "id": str(verdict),
        "name": str(verdict),
        "shortDescription": {"text": text},
        "help": {
            "text": f"{text} Run `migsafe roundtrip` to see the failing step and the schema "
            "difference; docs/roundtrip.md explains each verdict.",
        },
        "helpUri": VERDICTS_URI,
        "defaultConfiguration": {"level": "error"},
        "properties": {"category": "rollback", "tags": ["roundtrip"]},
    }


def revision_result(revision: RevisionResult, root: Path) -> Json:
    """A failed revision: what failed, where, and each difference, as one result."""
    title = f" ({revision.message})" if revision.message else ""
    text = "\n".join(
        [f"{revision.revision}{title}: {revision.verdict.description}.", *problem_lines(revision)]
    )
    line = revision.error.line if revision.error is not None else None
    return {
        "level": "error",
        "message": {"text": text},
        "locations": [physical_location(revision.path, root, line or 1)],
        "properties": {"revision": revision.revision},
    }

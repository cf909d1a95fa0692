"""GitHub Actions workflow commands for roundtrip, in the form of check's
(``migsafe.report.github``): an error annotation per failed revision on its file (at the
failing line when the error has one), the verdict as its title and the failing step and each
schema difference on the following lines; then the findings about the revision graph, model
drift (an annotation without a file), input errors, and the summary line. The text reporter
prints the same annotations when ``GITHUB_ACTIONS`` is ``true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from migsafe.report.github import annotation_path, annotation_text, workflow_command, workspace
from migsafe.report.roundtrip import problem_lines, summary
from migsafe.roundtrip.result import RevisionResult, RoundtripResult


def render(result: RoundtripResult, out: TextIO) -> None:
    annotate_roundtrip(result, out)
    out.write(f"{summary(result)}\n")


def annotate_roundtrip(result: RoundtripResult, out: TextIO) -> None:
    """The annotations alone: failed revisions, graph findings, drift, input errors."""
    root = workspace([*(r.path for r in result.revisions), *(f.path for f in result.findings)])
    for revision in result.failures:
        out.write(revision_annotation(revision, root) + "\n")
    if result.drift:
        message = "\n".join(["the models and the migrated database differ:", *result.drift])
        out.write(workflow_command("error", message, title="model drift") + "\n")
    out.write(annotation_text(result.findings, result.diagnostics, root))


def revision_annotation(revision: RevisionResult, root: Path) -> str:
    title = f" ({revision.message})" if revision.message else ""
    message = "\n".join(
        [f"{revision.revision}{title}: {revision.verdict.description}.", *problem_lines(revision)]
    )
    line = revision.error.line if revision.error is not None else None
    return workflow_command(
        "error", message, file=annotation_path(revision.path, root), line=line,
        title=f"roundtrip: {revision.verdict}",
    )  # fmt: skip

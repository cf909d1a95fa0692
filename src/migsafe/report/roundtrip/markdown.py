"""A pull-request summary: a table of revisions, then the details of those that failed."""

from __future__ import annotations

from typing import TextIO

from migsafe.report import display_path, location
from migsafe.report.roundtrip import problem_lines, summary
from migsafe.roundtrip.result import RoundtripResult

_ICON = {"ok": "✅", "one-way": "↪️", "skipped": "⏭️"}


def render(result: RoundtripResult, out: TextIO) -> None:
    out.write("## migsafe roundtrip\n\n")
    if result.revisions:
        out.write(f"{summary(result)}\n\n| | revision | message | verdict |\n|---|---|---|---|\n")
        for r in result.revisions:
            icon = _ICON.get(str(r.verdict), "❌")
            out.write(f"| {icon} | `{r.revision}` | {_cell(r.message)} | {r.verdict} |\n")
    for r in result.failures:
        out.write(f"\n### ❌ `{r.revision}` {r.verdict}\n\n")
        out.write(f"`{display_path(r.path)}` — {r.verdict.description}.\n\n")
        for line in problem_lines(r):
            out.write(f"- {_cell(line)}\n")
    for finding in result.findings:
        out.write(f"\n### ❌ {finding.rule}\n\n{_cell(finding.message)}\n\n")
        out.write(f"```\n{finding.hint}\n```\n")
    if result.drift:
        out.write("\n### ❌ Model drift\n\n")
        out.writelines(f"- {_cell(line)}\n" for line in result.drift)
    for diagnostic in result.diagnostics:
        out.write(f"\n> **error** `{location(diagnostic)}`: {diagnostic.message}\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

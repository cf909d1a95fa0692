"""A pull-request summary: a table of revisions, then the details of those that failed."""

from __future__ import annotations

from typing import TextIO

from migsafe.report import display_path, location, table_cell
from migsafe.report.roundtrip import problem_lines, summary
from migsafe.roundtrip.result import RoundtripResult

_ICON = {"ok": "✅", "one-way": "↪️", "skipped": "⏭️"}


def render(result: RoundtripResult, out: TextIO) -> None:
    verdict = "✅ passed" if result.exit_code == 0 else "❌ failed"
    out.write(f"## migsafe roundtrip: {verdict}\n\n")
    if result.revisions:
        out.write(f"{summary(result)}\n\n| | revision | message | verdict |\n|---|---|---|---|\n")
        for r in result.revisions:
            icon = _ICON.get(str(r.verdict), "❌")
            out.write(f"| {icon} | `{r.revision}` | {table_cell(r.message)} | {r.verdict} |\n")
    for r in result.failures:
        out.write(f"\n### ❌ `{r.revision}` {r.verdict}\n\n")
        out.write(f"`{display_path(r.path)}` — {r.verdict.description}.\n\n")
        for line in problem_lines(r):
            out.write(f"- {table_cell(line)}\n")
    for finding in result.findings:
        out.write(f"\n### ❌ {finding.rule}\n\n{table_cell(finding.message)}\n\n")
        out.write(f"```\n{finding.hint}\n```\n")
    if result.drift:
        out.write("\n### ❌ Model drift\n\n")
        out.writelines(f"- {table_cell(line)}\n" for line in result.drift)
    elif result.drift_note:
        out.write(f"\nModel drift {result.drift_note}\n")
    for diagnostic in result.diagnostics:
        out.write(f"\n> **error** `{location(diagnostic)}`: {diagnostic.message}\n")

"""A pull-request or job summary for check: the verdict first, a table of findings, then each
finding's safe recipe folded away, then the input errors and notices."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from migsafe.report import diagnostic_line, display_path, table_cell

if TYPE_CHECKING:
    from migsafe.findings import CheckResult

_ICON = {"error": "❌", "warning": "⚠️", "notice": "💬"}


def render(result: CheckResult, out: TextIO) -> None:
    from migsafe.report.text import summary

    verdict = "✅ passed" if result.exit_code == 0 else "❌ failed"
    out.write(f"## migsafe check: {verdict}\n\n{summary(result)}\n")
    if result.findings:
        out.write("\n| | where | rule | what happens |\n|---|---|---|---|\n")
        for f in result.findings:
            where = f"`{display_path(f.path)}:{f.line}`"
            out.write(
                f"| {_ICON[str(f.severity)]} | {where} | {f.rule} | {table_cell(f.message)} |\n"
            )
        for f in result.findings:
            out.write(f"\n<details><summary>{f.rule} at <code>{display_path(f.path)}:{f.line}"
                      "</code>: what to write instead</summary>\n\n")  # fmt: skip
            out.write(f"```python\n{f.hint}\n```\n\n</details>\n")
    if result.diagnostics:
        out.write("\n")
        out.writelines(f"- {table_cell(diagnostic_line(d))}\n" for d in result.diagnostics)

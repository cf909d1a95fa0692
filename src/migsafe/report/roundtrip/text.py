"""Human output for roundtrip: one line per revision, details under the ones that failed."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.markup import escape

from migsafe.report import display_path, location
from migsafe.report.roundtrip import problem_lines, summary
from migsafe.roundtrip.result import RoundtripResult, Verdict

_MARK = {Verdict.OK: "[green]ok[/]", Verdict.ONE_WAY: "[cyan]one-way[/]",
         Verdict.SKIPPED: "[dim]skipped[/]"}  # fmt: skip


def render(result: RoundtripResult, out: TextIO) -> None:
    console = Console(file=out, highlight=False, soft_wrap=True)
    for revision in result.revisions:
        mark = _MARK.get(revision.verdict, f"[bold red]{revision.verdict}[/]")
        title = f" {escape(revision.message)}" if revision.message else ""
        console.print(
            f"{mark} [bold]{escape(revision.revision)}[/]{title} "
            f"[dim]({escape(display_path(revision.path))}, {revision.seconds:.2f} s)[/]"
        )
        for line in problem_lines(revision):
            console.print(f"    {escape(line)}")
    for diagnostic in result.diagnostics:
        label = "[bold red]error[/]" if diagnostic.fatal else "[cyan]notice[/]"
        console.print(f"{escape(location(diagnostic))}: {label}: {escape(diagnostic.message)}")
    if result.drift:
        console.print("[bold red]model drift[/] (the models and the migrated database differ):")
        for line in result.drift:
            console.print(f"    {escape(line)}")
    elif result.drift_note:
        console.print(f"[dim]model drift {escape(result.drift_note)}[/]")
    if result.revisions:
        console.print(summary(result))

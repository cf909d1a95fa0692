"""Human output for roundtrip: one line per revision, details under the ones that failed.

In a GitHub Actions job (``GITHUB_ACTIONS=true``) the failures' annotations
(``migsafe.report.roundtrip.github``) follow the revisions' lines on standard output.
"""

from __future__ import annotations

from typing import TextIO

from rich.markup import escape

from migsafe.report import display_path
from migsafe.report.github import annotates
from migsafe.report.roundtrip import problem_lines, summary
from migsafe.report.roundtrip.github import annotate_roundtrip
from migsafe.report.text import new_console, print_diagnostic, print_finding
from migsafe.roundtrip.result import RevisionResult, RoundtripResult, Verdict

_MARK = {Verdict.OK: "[green]ok[/]", Verdict.ONE_WAY: "[cyan]one-way[/]",
         Verdict.SKIPPED: "[dim]skipped[/]"}  # fmt: skip


def render(result: RoundtripResult, out: TextIO) -> None:
    for revision in result.revisions:
        render_revision(revision, out)
    render_end(result, out)


def render_revision(revision: RevisionResult, out: TextIO) -> None:
    """One revision's verdict line, and the details of a failure under it."""
    console = new_console(out)
    mark = _MARK.get(revision.verdict, f"[bold red]{revision.verdict}[/]")
    title = f" {escape(revision.message)}" if revision.message else ""
    console.print(
        f"{mark} [bold]{escape(revision.revision)}[/]{title} "
        f"[dim]({escape(display_path(revision.path))}, {revision.seconds:.2f} s)[/]"
    )
    for line in problem_lines(revision):
        console.print(f"    {escape(line)}")


def render_end(result: RoundtripResult, out: TextIO) -> None:
    """What follows the revisions: findings about the graph, input errors, drift, summary."""
    if annotates(out):
        annotate_roundtrip(result, out)
    console = new_console(out)
    for finding in result.findings:
        print_finding(console, finding)
    for diagnostic in result.diagnostics:
        print_diagnostic(console, diagnostic)
    if result.drift:
        console.print("[bold red]model drift[/] (the models and the migrated database differ):")
        for line in result.drift:
            console.print(f"    {escape(line)}")
    elif result.drift_note:
        console.print(f"[dim]model drift {escape(result.drift_note)}[/]")
    if result.revisions or result.interrupted:
        console.print(summary(result))

"""Human output: rich styling on a terminal, plain text when piped or when NO_COLOR is set.

In a GitHub Actions job (``GITHUB_ACTIONS=true``) the findings' annotations
(``migsafe.report.github``) come first on standard output, so a plain ``migsafe check`` step
annotates the diff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

if TYPE_CHECKING:
    from migsafe.findings import CheckResult

from migsafe.findings import Diagnostic, Finding, Severity
from migsafe.report import display_path, github, location, summary

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTICE: "cyan"}


def render(result: CheckResult, out: TextIO) -> None:
    if github.annotates(out):
        github.annotate(result.findings, result.diagnostics, github.workspace(result.paths), out)
    console = Console(file=out, highlight=False, soft_wrap=True)
    for finding in result.findings:
        print_finding(console, finding)
    for diagnostic in result.diagnostics:
        print_diagnostic(console, diagnostic)
    console.print(summary(result))


def print_diagnostic(console: Console, diagnostic: Diagnostic) -> None:
    """``path:line: error|notice: message``, the label coloured on a terminal."""
    label = "[bold red]error[/]" if diagnostic.fatal else "[cyan]notice[/]"
    console.print(f"{escape(location(diagnostic))}: {label}: {escape(diagnostic.message)}")


def print_finding(console: Console, finding: Finding) -> None:
    """A finding's header line (file:line, severity, rule), message and safe recipe."""
    style = _STYLE[finding.severity]
    console.print(
        f"[bold]{escape(display_path(finding.path))}:{finding.line}[/] "
        f"[{style}]{finding.severity}[/] {finding.code} [bold]{finding.rule}[/]"
        + (f" [dim](revision {escape(finding.revision)})[/]" if finding.revision else "")
    )
    console.print(f"  {escape(finding.message)}")
    console.print("  [dim]use instead:[/]")
    if console.is_terminal:
        console.print(Syntax(finding.hint, "python", theme="ansi_dark", padding=(0, 4)))
    else:
        console.print("\n".join("    " + line for line in finding.hint.splitlines()))
    console.print()

"""Human output: rich styling on a terminal, plain text when piped or when NO_COLOR is set."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

if TYPE_CHECKING:
    from migsafe.check import CheckResult

from migsafe.findings import Finding, Severity
from migsafe.report import display_path, location

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTICE: "cyan"}


def render(result: CheckResult, out: TextIO) -> None:
    console = Console(file=out, highlight=False, soft_wrap=True)
    for finding in result.findings:
        print_finding(console, finding)
    for diagnostic in result.diagnostics:
        label = "[bold red]error[/]" if diagnostic.fatal else "[cyan]notice[/]"
        console.print(f"{escape(location(diagnostic))}: {label}: {escape(diagnostic.message)}")
    console.print(_summary(result))


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


def _summary(result: CheckResult) -> str:
    counts = {
        level: sum(1 for f in result.findings if f.severity == level)
        for level in sorted(Severity, reverse=True)
    }
    parts = [f"{n} {level}{'s' if n != 1 else ''}" for level, n in counts.items() if n]
    noun = "migration" if result.checked == 1 else "migrations"
    found = ", ".join(parts) if parts else "no problems"
    broken = sum(1 for d in result.diagnostics if d.fatal)
    tail = f"; {broken} input error{'s' if broken != 1 else ''}" if broken else ""
    return f"Checked {result.checked} {noun}: {found}{tail}."

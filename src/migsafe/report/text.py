"""Human output: rich styling on a terminal, plain text when piped or when NO_COLOR is set.

In a GitHub Actions job (``GITHUB_ACTIONS=true``) the findings' annotations
(``migsafe.report.github``) come first on standard output, so a plain ``migsafe check`` step
annotates the diff.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from migsafe.findings import CheckResult

from migsafe.findings import Diagnostic, Finding, Severity
from migsafe.report import diagnostic_line, display_path, github, location, summary

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTICE: "cyan"}

Line = list[tuple[str, str]]  # (text, rich style or "") pieces of one line


def render(result: CheckResult, out: TextIO) -> None:
    pieces: list[str] = []
    if github.annotates(out):
        root = github.workspace(result.paths)
        pieces.append(github.annotation_text(result.findings, result.diagnostics, root))
    if not styled(out):  # piped (a CI log, a file): plain text, in one write (it may be
        # unbuffered, PYTHONUNBUFFERED=1: a system call per write)
        for finding in result.findings:
            pieces.extend(f"{_plain(line)}\n" for line in _finding_lines(finding))
            pieces.append(f"{_indented(finding.hint)}\n\n")
        pieces.extend(f"{diagnostic_line(diagnostic)}\n" for diagnostic in result.diagnostics)
        pieces.append(f"{summary(result)}\n")
        out.write("".join(pieces))
        return
    out.write("".join(pieces))
    console = new_console(out)
    for finding in result.findings:
        print_finding(console, finding)
    for diagnostic in result.diagnostics:
        print_diagnostic(console, diagnostic)
    console.print(summary(result))


def styled(out: TextIO) -> bool:
    """Colour only on a terminal, as rich decides it (``FORCE_COLOR`` says there is one)."""
    if os.environ.get("FORCE_COLOR") is not None:
        return True
    try:
        return out.isatty()
    except (AttributeError, ValueError):  # no such method, or a closed file
        return False


def new_console(out: TextIO) -> Console:
    """A rich console on ``out`` (rich is imported only for a terminal: rendering hundreds of
    findings through it costs a tenth of a second)."""
    from rich.console import Console

    return Console(file=out, highlight=False, soft_wrap=True)


def print_diagnostic(console: Console, diagnostic: Diagnostic) -> None:
    """``path:line: error|notice: message``, the label coloured on a terminal."""
    from rich.markup import escape

    label = "[bold red]error[/]" if diagnostic.fatal else "[cyan]notice[/]"
    console.print(f"{escape(location(diagnostic))}: {label}: {escape(diagnostic.message)}")


def print_finding(console: Console, finding: Finding) -> None:
    """A finding's header line (file:line, severity, rule), message and safe recipe."""
    from rich.markup import escape
    from rich.syntax import Syntax

    for line in _finding_lines(finding):
        console.print("".join(f"[{s}]{escape(t)}[/]" if s else escape(t) for t, s in line))
    if console.is_terminal:
        console.print(Syntax(finding.hint, "python", theme="ansi_dark", padding=(0, 4)))
    else:
        console.print(_indented(finding.hint))
    console.print()


def _finding_lines(finding: Finding) -> Iterator[Line]:
    """The lines above a finding's recipe, in pieces with their styles."""
    head: Line = [
        (f"{display_path(finding.path)}:{finding.line}", "bold"), (" ", ""),
        (str(finding.severity), _STYLE[finding.severity]), (f" {finding.code} ", ""),
        (finding.rule, "bold"),
    ]  # fmt: skip
    if finding.revision:
        head += [(" ", ""), (f"(revision {finding.revision})", "dim")]
    yield head
    yield [(f"  {finding.message}", "")]
    yield [("  ", ""), ("use instead:", "dim")]


def _plain(line: Line) -> str:
    return "".join(text for text, _ in line)


def _indented(hint: str) -> str:
    return "\n".join("    " + line for line in hint.splitlines())

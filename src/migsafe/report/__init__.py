"""Output formats for check results: one module per format, each with ``render(result, out)``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # importing the checker (pglast, capture) would slow down `roundtrip`
    from migsafe.check import CheckResult
    from migsafe.findings import Diagnostic

Renderer = Callable[["CheckResult", TextIO], None]


def renderer(name: str) -> Renderer:
    if name == "json":
        from migsafe.report import json_report

        return json_report.render
    from migsafe.report import text

    return text.render


def display_path(path: Path | None) -> str:
    """Paths relative to the working directory when they are below it, as editors expect."""
    if path is None:
        return "-"
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:  # outside the working directory
        return str(path)


def location(diagnostic: Diagnostic) -> str:
    """``path:line`` of a diagnostic, or just the path when it has no line."""
    path = display_path(diagnostic.path)
    return f"{path}:{diagnostic.line}" if diagnostic.line else path

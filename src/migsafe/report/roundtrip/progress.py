"""A rich progress bar with the current revision, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from migsafe.roundtrip import ProgressCallbacks


class RevisionProgress(ProgressCallbacks):
    def __init__(self) -> None:
        self.console = Console(file=sys.stderr)
        self.bar: Progress | None = None
        self.task = None

    def started(self, total: int, why: str) -> None:
        self.console.print(f"[dim]using {why}[/]", highlight=False)
        if not self.console.is_terminal:
            return
        self.bar = Progress(
            TextColumn("roundtrip [bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=self.console, transient=True,
        )  # fmt: skip
        self.bar.start()
        self.task = self.bar.add_task("", total=total)

    def revision(self, revision: str, selected: bool) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, description=revision, advance=1 if selected else 0)

    def __enter__(self) -> RevisionProgress:
        return self

    def __exit__(self, kind: type | None, value: object, trace: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()

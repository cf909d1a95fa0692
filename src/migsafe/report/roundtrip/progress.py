"""A rich progress bar with the current revision, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from migsafe.roundtrip import ProgressCallbacks
from migsafe.roundtrip.result import RevisionResult


class RevisionProgress(ProgressCallbacks):
    """The bar on stderr; each final verdict goes to ``on_finished`` (the streaming report,
    printed above the bar)."""

    def __init__(self, on_finished: Callable[[RevisionResult], None] = lambda r: None) -> None:
        self.on_finished = on_finished
        self.console = Console(file=sys.stderr, soft_wrap=True)  # a URL stays on one line
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

    def finished(self, result: RevisionResult) -> None:
        self.on_finished(result)

    def __enter__(self) -> RevisionProgress:
        return self

    def __exit__(self, kind: type | None, value: object, trace: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()

"""Roundtrip's output formats (registered in ``migsafe.report.FORMATS``) and what they share:
the lines that describe a failed revision, the one-sentence summary, and streaming."""

from __future__ import annotations

from typing import TextIO

from migsafe.report import report_module
from migsafe.roundtrip.result import RevisionResult, RoundtripResult


class StreamingRenderer:
    """Writes a report as the run goes: ``revision`` for each final verdict, ``finish`` at the
    end. Formats that are one document (json, junit, markdown) write everything at the end."""

    def __init__(self, name: str, out: TextIO) -> None:
        self._module = report_module("roundtrip", name)
        self._out = out
        self._streams = hasattr(self._module, "render_revision")

    def revision(self, revision: RevisionResult) -> None:
        if self._streams:
            self._module.render_revision(revision, self._out)

    def finish(self, result: RoundtripResult) -> None:
        if self._streams:
            self._module.render_end(result, self._out)
        else:
            self._module.render(result, self._out)


def streaming_renderer(name: str, out: TextIO) -> StreamingRenderer:
    return StreamingRenderer(name, out)


def problem_lines(revision: RevisionResult) -> list[str]:
    """The failing step (with file:line and SQL), the note, and each schema change."""
    lines = []
    if revision.error is not None:
        error = revision.error
        where = f" at line {error.line}" if error.line else ""
        lines.append(f"{error.step} failed{where}: {error.message}")
        if error.sql:
            lines.append(f"SQL: {error.sql}")
    if revision.note:
        lines.append(revision.note)
    lines.extend(str(change) for change in revision.changes)
    return lines


def summary(result: RoundtripResult) -> str:
    """One sentence: how many revisions, how many of each verdict, and drift."""
    counts: dict[str, int] = {}
    for revision in result.revisions:
        counts[str(revision.verdict)] = counts.get(str(revision.verdict), 0) + 1
    noun = "revision" if len(result.revisions) == 1 else "revisions"
    parts = ", ".join(f"{n} {verdict}" for verdict, n in counts.items()) or "nothing run"
    drift = ""
    if result.drift:
        drift = f"; model drift: {len(result.drift)} difference(s)"
    elif result.drift is not None:
        drift = "; no model drift"
    stopped = " (interrupted: the rest was not run)" if result.interrupted else ""
    shard = f" (shard {result.shard})" if result.shard else ""
    return f"Roundtrip of {len(result.revisions)} {noun}{shard}{stopped}: {parts}{drift}."

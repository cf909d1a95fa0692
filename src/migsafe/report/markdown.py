"""A pull-request comment or job summary (``$GITHUB_STEP_SUMMARY``) for check.

The verdict and the counts first; then a section per revision, in history order: its file,
its findings (each rule linked to its page), the strongest lock it takes on each table that
already existed and what that lock blocks, and the safe recipes folded in ``<details>``;
findings in files that are no revision of the history after them; the input errors last.

GitHub refuses a step summary over 1 MiB, so the document stays under ``BUDGET`` bytes: when
it would not, the recipes go first, then the sections that do not fit are cut, and a closing
note says how much was left out (``--format json`` and ``--format sarif`` have everything).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from migsafe.findings import Severity
from migsafe.report import counted, diagnostic_line, display_path, summary, table_cell

if TYPE_CHECKING:
    from migsafe.findings import CheckResult, Finding

BUDGET = 1_000_000  # bytes; GitHub's limit for a step summary is 1 MiB (1_048_576)
_NOTE_ROOM = 1_000  # kept free for the closing note of a cut document

_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTICE: "💬"}
_TABLE = "| | line | rule | what happens |\n|---|---|---|---|\n"
_COMPLETE = "`migsafe check --format json` (or `--format sarif`) has"


def render(result: CheckResult, out: TextIO, budget: int = BUDGET) -> None:
    out.write(document(result, budget))


def document(result: CheckResult, budget: int = BUDGET) -> str:
    """The summary, in at most ``budget`` bytes of UTF-8."""
    head = _head(result)
    sections = _sections(result)
    diagnostics = [f"- {table_cell(diagnostic_line(d))}\n" for d in result.diagnostics]
    tail = ["\n", *diagnostics] if diagnostics else []
    full = head + "".join(s.text(recipes=True) for s in sections) + "".join(tail)
    if _size(full) <= budget:
        return full
    note = (f"\n> The recipes were left out to keep this summary under GitHub's limit; "
            f"{_COMPLETE} them.\n")  # fmt: skip
    lean = head + "".join(s.text(recipes=False) for s in sections) + "".join(tail) + note
    if _size(lean) <= budget:
        return lean
    return _cut(head, sections, diagnostics, budget)


@dataclass
class _Section:
    """One revision's part (or one file's, when no revision of the history is in it)."""

    head: str
    rows: list[str] = field(default_factory=list)  # a table row per finding
    locks: str = ""
    recipes: list[str] = field(default_factory=list)

    def text(self, recipes: bool) -> str:
        table = ("\n" + _TABLE + "".join(self.rows)) if self.rows else ""
        folded = "".join(self.recipes) if recipes else ""
        return self.head + table + self.locks + folded


def _head(result: CheckResult) -> str:

    verdict = "✅ passed" if result.exit_code == 0 else "❌ failed"
    return f"## migsafe check: {verdict}\n\n{summary(result)}\n"


def _sections(result: CheckResult) -> list[_Section]:
    by_path: dict[Path, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_path[finding.path].append(finding)
    sections = []
    for revision in result.revisions:
        findings = by_path.pop(revision.path, [])
        section = _section(revision.revision, revision.path, findings)
        section.locks = _locks(revision.locks)
        sections.append(section)
    for path, findings in by_path.items():  # outside the history (the graph's rules, say)
        revisions = {f.revision for f in findings}
        sections.append(_section(revisions.pop() if len(revisions) == 1 else None, path, findings))
    return sections


def _section(revision: str | None, path: Path, findings: list[Finding]) -> _Section:
    worst = max((f.severity for f in findings), default=None)
    icon = _ICON[worst] if worst is not None else "✅"
    title = f"`{revision}` · `{display_path(path)}`" if revision else f"`{display_path(path)}`"
    head = f"\n### {icon} {title}\n"
    if not findings:
        head += "\nNo findings.\n"
    section = _Section(head)
    for f in findings:
        rule = f"[{f.rule}]({f.url})" if f.url else f.rule
        section.rows.append(
            f"| {_ICON[f.severity]} | {f.line} | {rule} | {table_cell(f.message)} |\n"
        )
        section.recipes.append(
            f"\n<details><summary>line {f.line}, {f.rule}: what to write instead</summary>\n\n"
            f"```python\n{f.hint}\n```\n\n</details>\n"
        )
    return section


def _locks(locks: tuple[tuple[str, str], ...]) -> str:
    """The strongest lock per existing table, and what it keeps waiting."""
    if not locks:
        return "\nNo lock on a table that existed before it.\n"
    lines = [f"- `{table}`: {mode}{_blocks(mode)}\n" for table, mode in locks]
    return "\nLocks on existing tables:\n\n" + "".join(lines)


def _blocks(mode: str) -> str:
    from migsafe.locks import LockMode

    try:
        return f" — blocks {LockMode[mode.replace(' ', '_')].blocks}"
    except KeyError:  # a mode this version does not name
        return ""


def _cut(head: str, sections: list[_Section], diagnostics: list[str], budget: int) -> str:
    """As much as fits in order, without recipes, then a note of what was left out."""
    room = budget - _size(head) - _NOTE_ROOM
    parts = [head]
    shown_findings = shown_revisions = shown_diagnostics = 0
    full = True  # everything so far fitted
    for section in sections:
        text = section.text(recipes=False)
        if _size(text) <= room:
            parts.append(text)
            room -= _size(text)
            shown_revisions += 1
            shown_findings += len(section.rows)
            continue
        full = False
        partial = section.head + "\n" + _TABLE  # as many of its findings as fit
        used, rows = _size(partial), []
        for row in section.rows:
            used += _size(row)
            if used > room:
                break
            rows.append(row)
        if rows:  # the section begun counts as shown; its findings left out are counted
            parts.append(partial + "".join(rows))
            shown_revisions += 1
            shown_findings += len(rows)
        break
    if full and diagnostics:
        parts.append("\n")
        room -= 1
        for line in diagnostics:
            if _size(line) > room:
                break
            parts.append(line)
            room -= _size(line)
            shown_diagnostics += 1
    missing = {
        "revision": len(sections) - shown_revisions,
        "finding": sum(len(s.rows) for s in sections) - shown_findings,
        "input problem": len(diagnostics) - shown_diagnostics,
    }
    counts = [counted(n, noun) for noun, n in missing.items() if n]
    left_out = " and ".join([", ".join(counts[:-1]), counts[-1]] if len(counts) > 1 else counts)
    parts.append(
        f"\n> ✂️ Cut to stay under GitHub's summary limit: {left_out} left out, and every "
        f"recipe; {_COMPLETE} all of them.\n"
    )
    return "".join(parts)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))

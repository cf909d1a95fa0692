"""The runbook for a pull-request comment or job summary: one table row per revision in the
order to run them (the deploy a row of its own), the call-outs a reviewer must see
(maintenance windows, revisions to split, notes), and each revision's commands, checks and
rollback folded in ``<details>``.

Kept short: beyond ``BUDGET`` bytes (GitHub refuses a step summary over 1 MiB) the folded
details are left out, and a closing note points to ``--format text`` or ``json``.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import TextIO

from migsafe.findings import ChangeKind
from migsafe.report import diagnostic_line, display_path, table_cell
from migsafe.report.runbook import (
    INCOMPLETE,
    ROLLBACK_SHORT,
    assumption,
    findings_list,
    headline,
    summary,
)
from migsafe.rollout.plan import Phase, Rollback, Runbook, Step

BUDGET = 1_000_000  # bytes, under GitHub's 1 MiB limit for a step summary

_PHASE = {
    Phase.BEFORE_DEPLOY: "🟢 before deploy",
    Phase.AFTER_DEPLOY: "🟠 after deploy",
    Phase.MAINTENANCE: "🛑 maintenance window",
}
_ROLLBACK_ICON = {
    Rollback.ROUNDTRIPPED: "✅ ",
    Rollback.FAILED_ROUNDTRIP: "❌ ",
    Rollback.ONE_WAY: "⛔ ",
}
_TABLE = "| # | revision | phase | changes | locks on existing tables | rollback |\n"
_RULE = "|---|---|---|---|---|---|\n"
_DEPLOY = "| | | **🚀 deploy the application** | | | |\n"


def render(runbook: Runbook, out: TextIO, budget: int = BUDGET) -> None:
    out.write(document(runbook, budget))


def document(runbook: Runbook, budget: int = BUDGET) -> str:
    head = _head(runbook)
    details = "".join(_details(runbook))
    full = head + details + _diagnostics(runbook)
    if len(full.encode()) <= budget:
        return full
    note = (
        "\n> The commands and checks of each revision were left out to keep this summary "
        "under GitHub's limit; `migsafe runbook --format text` (or `json`) has them.\n"
    )
    return head + _diagnostics(runbook) + note


def _head(runbook: Runbook) -> str:
    parts = [f"## migsafe runbook: {headline(runbook)}\n"]
    if runbook.exit_code:
        parts.append(f"\n> ❌ {INCOMPLETE}.\n")
    if not runbook.steps:
        return "".join(parts)
    parts.append(f"\n{summary(runbook)}; {assumption(runbook)}.\n\n{_TABLE}{_RULE}")
    for index, step in enumerate(runbook.steps):
        if index == runbook.deploy_at:
            parts.append(_DEPLOY)
        parts.append(_row(step))
    if runbook.deploy_at == len(runbook.steps):
        parts.append(_DEPLOY)
    callouts = list(_callouts(runbook))
    if callouts:
        parts.append("\n" + "".join(callouts))
    return "".join(parts)


def _row(step: Step) -> str:
    title = f"`{step.revision}` {table_cell(step.title)}".rstrip()
    phase = _PHASE[step.phase] + (" · ✂️ split" if step.mixed else "")
    kinds = Counter(str(c.kind) for c in step.changes if c.kind is not ChangeKind.NEUTRAL)
    changes = ", ".join(f"{n} {kind}" for kind, n in kinds.items()) or "—"
    locks = ", ".join(f"`{table_cell(lock.table)}` {lock.mode}" for lock in step.locks) or "—"
    rollback = _ROLLBACK_ICON.get(step.rollback, "") + ROLLBACK_SHORT[step.rollback]
    return f"| {step.number} | {title} | {phase} | {changes} | {locks} | {rollback} |\n"


def _callouts(runbook: Runbook):
    for step in runbook.steps:
        for finding in step.blocking:
            yield (f"- 🛑 `{step.revision}` needs a maintenance window: {finding.rule} (line "
                   f"{finding.line}): {table_cell(finding.message)} Or avoid it: "
                   f"{table_cell(finding.help)}\n")  # fmt: skip
        for advice in step.split:
            yield f"- ✂️ `{step.revision}` mixes expand and contract work; split it: {advice}\n"
        for note in step.notes:
            yield f"- ⚠️ `{step.revision}`: {note}\n"
        if step.rollback is Rollback.FAILED_ROUNDTRIP:
            yield f"- ❌ `{step.revision}`: {step.rollback_text}\n"


def _details(runbook: Runbook):
    if runbook.before:
        commands = "\n".join(runbook.before)
        yield (f"\n<details><summary>Before the rollout: the checks</summary>\n\n"
               f"```sh\n{commands}\n```\n\n</details>\n")  # fmt: skip
    for step in runbook.steps:
        yield _step_details(step)


def _step_details(step: Step) -> str:
    summary_line = f"{step.number}. <code>{escape(step.revision)}</code>: {escape(str(step.phase))}"
    lines = [f"\n<details><summary>{summary_line}</summary>\n", f"\n`{display_path(step.path)}`\n"]
    if step.changes:
        lines.append("\nChanges:\n\n")
        lines += [f"- {c.kind}: {c.what} (line {c.line})\n" for c in step.changes]
    others = [f for f in step.findings if f not in step.blocking]
    if others:
        lines.append(f"\nFindings of `migsafe check`: {findings_list(others)}.\n")
    if step.locks:
        lines.append("\nLocks on existing tables:\n\n")
        lines += [f"- `{k.table}`: {k.mode}, blocks {k.blocks}\n" for k in step.locks]
    timeouts = step.timeouts
    lines.append(
        "\nTimeouts to set (in env.py, or first in the revision): "
        f"`lock_timeout = '{timeouts.lock_timeout}'`, "
        f"`statement_timeout = '{timeouts.statement_timeout}'`"
        + ("; lifted (0) for " + "; ".join(timeouts.lifted_for) if timeouts.lifted_for else "")
        + ".\n"
    )
    lines.append("\nRun:\n\n```sh\n" + "\n".join(step.commands) + "\n```\n")
    if step.checks:
        lines.append("\nThen check:\n\n")
        for check in step.checks:
            lines.append(f"- {check.what}:\n\n  ```sql\n  {check.sql}\n  ```\n")
    lines.append(f"\nRollback: {step.rollback_text}.\n")
    if step.rollback_command:
        lines.append(f"\n```sh\n{step.rollback_command}\n```\n")
    lines.append("\n</details>\n")
    return "".join(lines)


def _diagnostics(runbook: Runbook) -> str:
    if not runbook.diagnostics:
        return ""
    return "\n" + "".join(f"- {table_cell(diagnostic_line(d))}\n" for d in runbook.diagnostics)

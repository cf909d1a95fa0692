"""The runbook as text, to follow in a terminal or paste into a deploy ticket: the checks to
run first, then each revision in order, the deploy between those that go before it and those
that wait for it."""

from __future__ import annotations

from typing import TextIO

from migsafe.report import diagnostic_line, display_path
from migsafe.report.runbook import INCOMPLETE, assumption, findings_list, headline, summary
from migsafe.rollout.plan import Phase, Runbook, Step

_DEPLOY = "=== deploy the application (the new code) here ==="


def render(runbook: Runbook, out: TextIO) -> None:
    lines = [f"migsafe runbook: {headline(runbook)}"]
    if runbook.steps:
        lines += [f"  {summary(runbook)}", f"  {assumption(runbook)}"]
    if runbook.exit_code:
        lines.append(f"  {INCOMPLETE}")
    if runbook.before:
        lines += ["", "Before the rollout:", *(f"  {command}" for command in runbook.before)]
    for index, step in enumerate(runbook.steps):
        if index == runbook.deploy_at:
            lines += ["", _DEPLOY]
        lines += ["", *_step(step)]
    if runbook.steps and runbook.deploy_at == len(runbook.steps):
        lines += ["", _DEPLOY]
    if runbook.diagnostics:
        lines += ["", *(diagnostic_line(d) for d in runbook.diagnostics)]
    out.write("\n".join(lines) + "\n")


def _step(step: Step) -> list[str]:
    flags = [str(step.phase), *(["split it"] if step.mixed else [])]
    head = f"{step.number}. {step.revision} · {' · '.join(flags)}"
    lines = [f"{head} · {step.title}" if step.title else head, f"   {display_path(step.path)}"]
    if step.phase is Phase.MAINTENANCE:
        lines.append("   why a window:")
        for finding in step.blocking:
            lines.append(f"     {finding.rule} (line {finding.line}): {finding.message}")
            lines.append(f"       or avoid it: {finding.help}")
    if step.split:
        lines.append("   split it:")
        lines += [f"     {advice}" for advice in step.split]
    lines += [f"   note: {note}" for note in step.notes]
    if step.changes:
        width = max(len(str(c.kind)) for c in step.changes)
        lines.append("   changes:")
        lines += [f"     {c.kind!s:<{width}}  {c.what} (line {c.line})" for c in step.changes]
    else:
        lines.append("   changes: none")
    others = [f for f in step.findings if f not in step.blocking]
    if others:
        lines.append(f"   findings of migsafe check: {findings_list(others)}")
    if step.locks:
        lines.append("   locks:")
        lines += [f"     {lock.table}: {lock.mode}, blocks {lock.blocks}" for lock in step.locks]
    else:
        lines.append("   locks: none on a table that existed before it")
    timeouts = step.timeouts
    lines.append(
        f"   timeouts to set: lock_timeout {timeouts.lock_timeout}, statement_timeout "
        f"{timeouts.statement_timeout}"
    )
    lines += [f"     lifted (0) for {what}" for what in timeouts.lifted_for]
    lines.append("   run:")
    lines += [f"     {command}" for command in step.commands]
    if step.checks:
        lines.append("   then check:")
        for check in step.checks:
            lines += [f"     {check.what}:", f"       {check.sql}"]
    lines.append(f"   rollback: {step.rollback_text}")
    if step.rollback_command:
        lines.append(f"     {step.rollback_command}")
    return lines

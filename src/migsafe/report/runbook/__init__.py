"""Runbook's output formats (registered in ``migsafe.report.FORMATS``) and what they share:
the one-line summary and the short names of rollback paths."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from migsafe.report import counted
from migsafe.rollout.plan import Phase, Rollback, Runbook, in_downgrade

if TYPE_CHECKING:
    from migsafe.findings import Finding

INCOMPLETE = "incomplete: the input errors below leave revisions out of the plan"

ROLLBACK_SHORT = {
    Rollback.ROUNDTRIPPED: "passed roundtrip",
    Rollback.NOT_ROUNDTRIPPED: "not roundtripped yet",
    Rollback.FAILED_ROUNDTRIP: "failed roundtrip",
    Rollback.ONE_WAY: "one-way",
    Rollback.NOTHING_TO_UNDO: "nothing to undo",
}


def summary(runbook: Runbook) -> str:
    """``3 before the deploy, 1 after it, 1 in a maintenance window; 1 to split, 1 one-way``."""
    phases = [
        (runbook.count(Phase.BEFORE_DEPLOY), "before the deploy"),
        (runbook.count(Phase.AFTER_DEPLOY), "after it"),
        (runbook.count(Phase.MAINTENANCE), "in a maintenance window"),
    ]
    text = ", ".join(f"{n} {where}" for n, where in phases if n)
    flags = [
        (sum(s.mixed for s in runbook.steps), "to split"),
        (sum(s.rollback is Rollback.ONE_WAY for s in runbook.steps), "one-way"),
        (sum(s.rollback is Rollback.FAILED_ROUNDTRIP for s in runbook.steps), "failed roundtrip"),
    ]
    extra = ", ".join(f"{n} {what}" for n, what in flags if n)
    return f"{text}; {extra}" if extra else text


def headline(runbook: Runbook) -> str:
    """``5 revisions (every revision)``, or why there are none."""
    if not runbook.steps:
        return f"no revisions to roll out ({runbook.selection})"
    return f"{counted(len(runbook.steps), 'revision')} ({runbook.selection})"


def assumption(runbook: Runbook) -> str:
    """What the plan takes of the tables the revisions work on: a tester got two verdicts on
    one revision, with and without ``--from``, and nothing said why."""
    if runbook.together:
        return (
            "rolled out together: a table an earlier one of them makes has no rows yet when "
            "the later ones run"
        )
    return (
        "each revision as if the ones before it ran long ago (their tables have rows); "
        "--from, --to or --since plan revisions rolled out together"
    )


def findings_list(findings: Iterable[Finding]) -> str:
    """``set-not-null (warning, line 18), ...``: a revision's findings, in one line."""
    return ", ".join(
        f"{f.rule} ({f.severity}, line {f.line}{', in downgrade()' if in_downgrade(f) else ''})"
        for f in findings
    )

"""multiple-heads: two revisions claim to be the latest one."""

from __future__ import annotations

from collections.abc import Iterator

from migsafe.findings import Finding, Severity
from migsafe.project import History, MigrationScript
from migsafe.rule import Category, Rule

RULE = Rule(
    code="MS016",
    name="multiple-heads",
    severity=Severity.ERROR,
    category=Category.HISTORY,
    help="Merge the heads with `alembic merge heads` (and check their operations do not clash).",
    summary="The history has more than one head.",
    why=(
        "Two branches each added a revision on top of the same parent (typically two pull "
        "requests merged one after the other). `alembic upgrade head` then refuses to run "
        '("Multiple head revisions are present"), and the deploy stops. Heads of '
        "independent branches, each with its own `branch_labels`, are deliberate and not "
        "flagged."
    ),
    fix="""\
# merge the heads into one revision (then check that their operations do not conflict):
alembic merge -m "merge heads" {heads}""",
    bad=(),
    good=(),
)


def check_history(history: History) -> Iterator[Finding]:
    known = {script.revision for script in history.scripts}
    if not history.complete or any(
        parent not in known for script in history.scripts for parent in script.down_revisions
    ):
        return  # a broken graph is reported as such: its heads say nothing
    for heads in _heads_by_branch(history).values():
        if len(heads) > 1:
            yield from _findings(heads)


def _heads_by_branch(history: History) -> dict[frozenset[str], list[MigrationScript]]:
    """The heads grouped by the branch labels they carry: Alembic gives a revision's
    ``branch_labels`` to all its descendants, so heads of independent, labelled branches
    (Alembic's "multiple bases") fall in separate groups, and a fork in one branch does not."""
    by_revision = {script.revision: script for script in history.scripts}
    groups: dict[frozenset[str], list[MigrationScript]] = {}
    for head in history.heads:
        labels: set[str] = set()
        seen: set[str] = set()
        waiting = [head.revision]
        while waiting:
            script = by_revision.get(waiting.pop())
            if script is None or script.revision in seen:
                continue
            seen.add(script.revision)
            labels.update(script.branch_labels)
            waiting.extend(script.down_revisions)
        groups.setdefault(frozenset(labels), []).append(head)
    return groups


def _findings(heads: list[MigrationScript]) -> Iterator[Finding]:
    ids = [script.revision for script in heads]
    for script in heads:
        others = ", ".join(i for i in ids if i != script.revision)
        yield RULE.finding(
            script.path,
            script.revision_line,
            script.revision,
            f"Revision {script.revision} is a head, and so is {others}: "
            "`alembic upgrade head` refuses to run.",
            heads=" ".join(ids),
        )

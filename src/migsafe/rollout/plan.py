"""The runbook: the selected revisions in order, each with its phase, the locks it takes,
the timeouts to set, the commands to run, the checks after, and its rollback path.

Built from a check's result (``CheckResult.revisions`` carries what each judged revision's
upgrade changes and locks) and, when given, a roundtrip's verdicts. A revision's phase:

- **maintenance window**: an error of a locking rule in its upgrade (a strong lock held for
  as long as the table is big); the finding's recipe says how to avoid it;
- **after deploy**: a contract or breaking change (the running code must stop using
  something first);
- **before deploy**: the rest (expand, data, neutral).

A revision with both sides (a breaking change, or expand and contract work together) is
called out with how to split it. The deploy goes before the first revision that must wait
for it; a later revision that adds something the new code may need is called out too.
"""

from __future__ import annotations

import enum
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from migsafe.findings import (
    Change,
    ChangeKind,
    CheckResult,
    Diagnostic,
    Finding,
    RevisionLocks,
    Severity,
)
from migsafe.locks import LockMode
from migsafe.rollout.changes import BULK, CONCURRENT_INDEX, NOT_VALID, REWRITE, VALIDATE
from migsafe.rollout.roundtrip_report import STALE

# What `migsafe init` puts in alembic.ini, so that the runbook and env.py agree.
LOCK_TIMEOUT = "5s"
STATEMENT_TIMEOUT = "15min"
_DOWNGRADE_PREFIX = "In downgrade():"  # how a finding of the downgrade starts (revision.py)


class Phase(str, enum.Enum):
    BEFORE_DEPLOY = "before deploy"
    AFTER_DEPLOY = "after deploy"
    MAINTENANCE = "maintenance window"

    def __str__(self) -> str:
        return self.value


class Rollback(str, enum.Enum):
    ROUNDTRIPPED = "roundtripped"  # downgrade exists and passed roundtrip
    NOT_ROUNDTRIPPED = "not-roundtripped"
    FAILED_ROUNDTRIP = "failed-roundtrip"
    ONE_WAY = "one-way"  # downgrade raises or is missing: roll forward
    NOTHING_TO_UNDO = "nothing-to-undo"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Lock:
    table: str  # as SQL
    mode: str  # as PostgreSQL names it
    blocks: str  # what application traffic it keeps waiting, in words


@dataclass(frozen=True)
class Timeouts:
    lock_timeout: str
    statement_timeout: str
    lifted_for: tuple[str, ...] = ()  # the changes statement_timeout is lifted (0) for


@dataclass(frozen=True)
class AfterCheck:
    what: str
    sql: str


@dataclass(frozen=True)
class Step:
    """One revision of the runbook."""

    number: int  # from 1, in the order to run them
    revision: str
    title: str
    path: Path
    phase: Phase
    after_deploy: bool  # its changes need the new code deployed first
    changes: tuple[Change, ...]
    locks: tuple[Lock, ...]
    findings: tuple[Finding, ...]
    blocking: tuple[Finding, ...]  # why it needs a maintenance window
    split: tuple[str, ...]  # how to split it, when it mixes expand and contract work
    timeouts: Timeouts
    commands: tuple[str, ...]
    checks: tuple[AfterCheck, ...]
    rollback: Rollback
    rollback_text: str
    rollback_command: str | None
    notes: tuple[str, ...] = ()

    @property
    def mixed(self) -> bool:
        return bool(self.split)


@dataclass(frozen=True)
class Invocation:
    """How the user named the project, for the commands the runbook writes."""

    project: tuple[str, ...] = ()  # migsafe's PROJECT (and -c) arguments
    alembic: tuple[str, ...] = ()  # alembic's -c arguments
    since: str | None = None  # --since GIT_REF
    start: str | None = None  # --from, as given
    stop: str | None = None  # --to, as given


@dataclass
class Runbook:
    """The plan for shipping the selected revisions without downtime. A plan, not a gate:
    revisions that need a maintenance window still exit 0; only bad input exits 2."""

    steps: list[Step] = field(default_factory=list)
    before: tuple[str, ...] = ()  # the checks to run before the rollout
    selection: str = "every revision"  # which revisions, in words
    roundtrip: Path | None = None  # the roundtrip report the rollback paths come from
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # a selection is rolled out together: a table an earlier one of them makes has no rows
    # yet; every revision is judged as if those before it ran long ago
    together: bool = False

    @property
    def exit_code(self) -> int:
        """2 bad input, else 0."""
        return 2 if any(d.fatal for d in self.diagnostics) else 0

    @property
    def deploy_at(self) -> int:
        """Where the deploy goes: the index of the first step that waits for it (the
        number of steps when none does)."""
        return next((i for i, s in enumerate(self.steps) if s.after_deploy), len(self.steps))

    def count(self, phase: Phase) -> int:
        return sum(step.phase is phase for step in self.steps)


def build(
    result: CheckResult, invocation: Invocation, verdicts: dict[str, str] | None = None,
    roundtrip: Path | None = None, branched: bool | None = None,
) -> Runbook:  # fmt: skip
    """The runbook of the revisions ``result`` judged, in its order; ``branched``: whether
    the whole history branches (None: as the revisions judged show it)."""
    by_path: dict[Path, list[Finding]] = {}
    for finding in result.findings:
        by_path.setdefault(finding.path, []).append(finding)
    branched = _branched(result.revisions) if branched is None else branched
    steps = [
        _step(number, profile, by_path.get(profile.path, []), invocation, verdicts, branched)
        for number, profile in enumerate(result.revisions, start=1)
    ]
    steps = _order_notes(steps)
    together = bool(invocation.since or invocation.start or invocation.stop)
    return Runbook(
        steps, _before(invocation, steps), _selection(invocation), roundtrip,
        list(result.diagnostics), together,
    )  # fmt: skip


def is_blocking(finding: Finding) -> bool:
    """An error of a locking rule in the upgrade: a strong lock held as long as the table
    is big, which only a maintenance window (or the rule's recipe) makes safe. Not one that
    says the statement fails (a NOT NULL column added without a default): no window helps."""
    return not in_downgrade(finding) and _holds_strong_lock(finding) and not _fails(finding)


def _fails(finding: Finding) -> bool:
    from migsafe.rules import find_rule

    rule = find_rule(finding.rule)
    return rule is not None and rule.fails


def in_downgrade(finding: Finding) -> bool:
    return finding.message.startswith(_DOWNGRADE_PREFIX)


def _holds_strong_lock(finding: Finding) -> bool:
    from migsafe.rule import Category
    from migsafe.rules import find_rule

    if finding.severity < Severity.ERROR:
        return False
    rule = find_rule(finding.rule)
    return rule is not None and rule.category is Category.LOCKING


def _step(
    number: int, profile: RevisionLocks, findings: list[Finding], invocation: Invocation,
    verdicts: dict[str, str] | None, branched: bool,
) -> Step:  # fmt: skip
    changes = profile.changes
    blocking = tuple(f for f in findings if is_blocking(f))
    after_deploy = any(c.kind in (ChangeKind.CONTRACT, ChangeKind.BREAKING) for c in changes)
    if blocking:
        phase = Phase.MAINTENANCE
    else:
        phase = Phase.AFTER_DEPLOY if after_deploy else Phase.BEFORE_DEPLOY
    verdict = verdicts.get(profile.revision) if verdicts is not None else None
    rollback, text = _rollback(profile.downgrade, verdict)
    undo = None
    if rollback not in (Rollback.ONE_WAY, Rollback.NOTHING_TO_UNDO):
        undo = _downgrade_command(profile, invocation, branched)
        locking = [f for f in findings if in_downgrade(f) and _holds_strong_lock(f)]
        if locking:
            first = locking[0]
            text += (f"; the downgrade itself holds a strong lock ({first.rule}, line "
                     f"{first.line}): it needs a window too")  # fmt: skip
    notes: tuple[str, ...] = ()
    failing = [f for f in findings if not in_downgrade(f) and _fails(f)]
    if failing:
        first = failing[0]
        notes += (
            f"its upgrade fails as written ({first.rule}, line {first.line}): rewrite it "
            "before the rollout, no window makes it run",
        )
    if verdict in ("upgrade-failed", "skipped"):
        notes += (f"the roundtrip did not upgrade it ({verdict}): fix that before the rollout",)
    return Step(
        number, profile.revision, profile.title, profile.path, phase, after_deploy, changes,
        tuple(_locks(profile.locks)), tuple(findings), blocking, tuple(_split(changes)),
        _timeouts(changes),
        (_command("alembic", *invocation.alembic, "upgrade", profile.revision),),
        tuple(_checks(changes)), rollback, text, undo, notes,
    )  # fmt: skip


def _locks(locks: Iterable[tuple[str, str]]) -> Iterable[Lock]:
    for table, mode in locks:
        try:
            blocks = LockMode[mode.replace(" ", "_")].blocks
        except KeyError:  # a mode this version does not name
            blocks = "?"
        yield Lock(table, mode, blocks)


def _split(changes: Sequence[Change]) -> Iterable[str]:
    """How to split a revision that mixes expand and contract work."""
    for change in changes:
        if change.kind is ChangeKind.BREAKING:
            yield f"{change.what}: {change.split}"
    expand = [c.what for c in changes if c.kind is ChangeKind.EXPAND]
    contract = [c.what for c in changes if c.kind is ChangeKind.CONTRACT]
    if expand and contract:
        yield (
            f"keep {_listed(expand)} in this revision, before the deploy; move "
            f"{_listed(contract)} to a later revision, run after the deploy"
        )


def _listed(items: Sequence[str], most: int = 3) -> str:
    shown = ", ".join(items[:most])
    return f"{shown} and {len(items) - most} more" if len(items) > most else shown


def _timeouts(changes: Sequence[Change]) -> Timeouts:
    long = {CONCURRENT_INDEX, VALIDATE, REWRITE}
    lifted = tuple(c.what for c in changes if long & set(c.tags))
    return Timeouts(LOCK_TIMEOUT, STATEMENT_TIMEOUT, lifted)


def _checks(changes: Sequence[Change]) -> Iterable[AfterCheck]:
    """What to look at once the revision is applied."""
    indexed = _tables(changes, CONCURRENT_INDEX)
    if indexed is not None:
        yield AfterCheck(
            "no INVALID index left by a failed concurrent build (expect no rows; else drop it "
            "with DROP INDEX CONCURRENTLY and upgrade again)",
            "SELECT indexrelid::regclass AS invalid_index, indrelid::regclass AS table_name "
            f"FROM pg_index WHERE NOT indisvalid{_among('indrelid', indexed)};",
        )
    not_valid = _tables(changes, NOT_VALID)
    if not_valid is not None:
        yield AfterCheck(
            "the constraints it leaves NOT VALID (validate them in a later revision: VALIDATE "
            "CONSTRAINT lets reads and writes go on)",
            "SELECT conrelid::regclass AS table_name, conname AS constraint_name "
            f"FROM pg_constraint WHERE NOT convalidated{_among('conrelid', not_valid)};",
        )
    analyze = _tables(changes, REWRITE, BULK)
    if analyze:
        yield AfterCheck(
            "fresh statistics for the tables it rewrote or bulk-changed",
            f"ANALYZE {', '.join(analyze)};",
        )


def _tables(changes: Sequence[Change], *tags: str) -> list[str] | None:
    """The tables of the changes tagged so, in order; None when no change is."""
    tagged = [c for c in changes if set(tags) & set(c.tags)]
    if not tagged:
        return None
    return list(dict.fromkeys(c.table for c in tagged if c.table is not None))


def _among(column: str, tables: list[str]) -> str:
    if not tables:
        return ""
    names = ", ".join(f"{_literal(table)}::regclass" for table in tables)
    return f" AND {column} IN ({names})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rollback(downgrade: str, verdict: str | None) -> tuple[Rollback, str]:
    if verdict == STALE and downgrade not in ("nothing", "raises", "missing"):
        return (
            Rollback.NOT_ROUNDTRIPPED,
            "downgrade exists; the roundtrip report is of another version of this file: "
            "roundtrip it again",
        )
    if downgrade == "nothing":
        return Rollback.NOTHING_TO_UNDO, "nothing to undo"
    if downgrade == "raises" or verdict == "one-way":
        return Rollback.ONE_WAY, "one-way (downgrade raises): roll forward instead"
    if downgrade == "missing":
        return Rollback.ONE_WAY, "one-way (downgrade is missing): roll forward instead"
    if verdict == "ok":
        return Rollback.ROUNDTRIPPED, "downgrade exists and passed roundtrip"
    if verdict is None or verdict in ("upgrade-failed", "skipped"):
        return Rollback.NOT_ROUNDTRIPPED, "downgrade exists, not roundtripped yet"
    return (
        Rollback.FAILED_ROUNDTRIP,
        f"downgrade exists but failed roundtrip ({verdict}): fix it, or roll forward instead",
    )


def _downgrade_command(
    profile: RevisionLocks, invocation: Invocation, branched: bool
) -> str | None:
    """What undoes this revision right after it ran: down to its parent. In a history that
    branches, ``downgrade <parent>`` would also take back a sibling branch applied since, so
    it is one step down on its own branch, ``<revision>@-1``, which Alembic counts from
    that branch's current head: it undoes this revision while it is the last one applied
    there (a tester's ``a003@-1`` at head a004 undid a004)."""
    if len(profile.parents) > 1:
        return None  # a merge: which branch to go back to is the user's choice
    if not profile.parents:
        target = "base"
    elif branched:
        target = f"{profile.revision}@-1"
    else:
        target = profile.parents[0]
    return _command("alembic", *invocation.alembic, "downgrade", target)


def _branched(profiles: Sequence[RevisionLocks]) -> bool:
    """The revisions planned branch or merge: two share a parent, or one has several."""
    parents = [parent for profile in profiles for parent in profile.parents]
    return len(parents) != len(set(parents)) or any(len(p.parents) > 1 for p in profiles)


def _order_notes(steps: list[Step]) -> list[Step]:
    """A revision that adds what the new code may need, after one that waits for the
    deploy, cannot run before the deploy: say so."""
    first = next((s for s in steps if s.after_deploy), None)
    if first is None:
        return steps
    noted = []
    for step in steps:
        adds = any(c.kind is ChangeKind.EXPAND for c in step.changes)
        if step.number > first.number and not step.after_deploy and adds:
            note = (
                f"it builds on {first.revision}, which waits for the deploy: if the new code "
                f"needs what it adds, move it before {first.revision} or ship it in an "
                "earlier release"
            )
            step = _with_note(step, note)
        noted.append(step)
    return noted


def _with_note(step: Step, note: str) -> Step:
    return replace(step, notes=(*step.notes, note))


def _before(invocation: Invocation, steps: Sequence[Step]) -> tuple[str, ...]:
    """The checks to run before the rollout, selecting what the runbook selected."""
    if not steps:
        return ()
    since = ("--since", invocation.since) if invocation.since else ()
    check = _command("migsafe", "check", *invocation.project, *since)
    if invocation.since:
        selection: tuple[str, ...] = since
    else:
        selection = ("--from", steps[0].revision, "--to", steps[-1].revision)
    return (check, _command("migsafe", "roundtrip", *invocation.project, *selection))


def _selection(invocation: Invocation) -> str:
    if invocation.since:
        return f"the revisions changed since {invocation.since}"
    if invocation.start and invocation.stop:
        return f"the revisions from {invocation.start} to {invocation.stop}"
    if invocation.start:
        return f"the revisions from {invocation.start} on"
    if invocation.stop:
        return f"the revisions up to {invocation.stop}"
    return "every revision"


def _command(*words: str) -> str:
    return " ".join(shlex.quote(word) for word in words)

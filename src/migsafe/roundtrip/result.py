"""What a roundtrip found: one verdict per revision, with the failing step or the diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from migsafe.findings import Diagnostic, Finding
from migsafe.runner.migrator import StepError
from migsafe.schema.diff import Change


class Verdict(str, Enum):
    """How one revision's upgrade → downgrade → upgrade went, best first."""

    OK = "ok"
    ONE_WAY = "one-way"
    UPGRADE_FAILED = "upgrade-failed"
    DOWNGRADE_FAILED = "downgrade-failed"
    DOWNGRADE_LEAVES_TRACE = "downgrade-leaves-trace"
    REUPGRADE_FAILED = "reupgrade-failed"
    REUPGRADE_DIFFERS = "reupgrade-differs"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Verdict.OK: "upgrade, downgrade and upgrade again all match",
    Verdict.ONE_WAY: "downgrade raises on purpose: a one-way revision",
    Verdict.UPGRADE_FAILED: "upgrade failed",
    Verdict.DOWNGRADE_FAILED: "downgrade failed",
    Verdict.DOWNGRADE_LEAVES_TRACE: "downgrade does not restore the schema it started from",
    Verdict.REUPGRADE_FAILED: "upgrade failed when run again after the downgrade",
    Verdict.REUPGRADE_DIFFERS: "upgrade run again gives a different schema",
    Verdict.SKIPPED: "not run: a revision it builds on did not upgrade",
}


@dataclass
class RevisionResult:
    revision: str
    path: Path
    message: str  # the revision's docstring title
    verdict: Verdict = Verdict.OK
    error: StepError | None = None
    changes: list[Change] = field(default_factory=list)
    note: str = ""
    seconds: float = 0.0

    def failed(self, one_way_fails: bool) -> bool:
        """A skipped revision is not a failure of its own: the one it waited for is."""
        if self.verdict is Verdict.ONE_WAY:
            return one_way_fails
        return self.verdict not in (Verdict.OK, Verdict.SKIPPED)


@dataclass
class RoundtripResult:
    revisions: list[RevisionResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # about the graph (multiple heads)
    interrupted: bool = False  # Ctrl-C: the revisions are those done by then
    drift: list[str] | None = None  # None: no target metadata known, or not run to head
    drift_note: str = ""
    provider: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    one_way_fails: bool = False
    rebuilds: int = 0  # databases rebuilt after a step left them in an unexpected state
    seconds: float = 0.0
    shard: str | None = None  # "2/4" for --shard 2/4: the revisions are that slice's

    @property
    def has_fatal(self) -> bool:
        return any(d.fatal for d in self.diagnostics)

    @property
    def failures(self) -> list[RevisionResult]:
        return [r for r in self.revisions if r.failed(self.one_way_fails)]

    @property
    def passed(self) -> bool:
        return not (self.failures or self.drift or self.findings or self.has_fatal)

    @property
    def exit_code(self) -> int:
        """130 interrupted, 2 bad input, 1 a revision failed, drift or several heads, else 0."""
        if self.interrupted:
            return 130
        if self.has_fatal:
            return 2
        return 0 if self.passed else 1

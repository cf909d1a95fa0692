"""What a check produces: findings about migrations, diagnostics about unreadable input, and
the result that holds them and knows its verdict."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migsafe.footprint import Footprint


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that ``--fail-on`` can compare levels."""

    NOTICE = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, name: str) -> Severity:
        try:
            return cls[name.upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {name!r} (choose from {choices})") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One unsafe thing in one migration, with the recipe that avoids it."""

    code: str
    rule: str
    severity: Severity
    path: Path
    line: int
    revision: str | None
    message: str
    hint: str  # the safe recipe, as Alembic code (several lines)
    help: str = ""  # the recipe in one line, for annotations and SARIF
    url: str = ""  # the rule's page
    end_line: int | None = None  # the issuing call's extent in the file, where known
    column: int | None = None  # 1-based
    # issued in a helper of the file: the line that called the helper, which a
    # ``# migsafe: ignore`` may name too
    called_at: int | None = None


@dataclass(frozen=True)
class Diagnostic:
    """A problem with the input itself rather than with what a migration does.

    ``fatal`` diagnostics (a syntax error, a broken revision graph) make the run exit 2;
    the others are notices, e.g. a script that could not run offline and was read
    from its source instead.
    """

    path: Path | None
    message: str
    fatal: bool
    line: int | None = None


class ChangeKind(str, enum.Enum):
    """What one upgrade statement means for the code running beside it during a rollout."""

    EXPAND = "expand"  # additive: the running code is unaffected, the new code may need it
    CONTRACT = "contract"  # the running code must stop using (or violating) something first
    BREAKING = "breaking"  # both at once (a rename): no moment suits both versions of the code
    DATA = "data"  # rows written (a backfill)
    NEUTRAL = "neutral"  # nothing the application sees (a relaxation, a validation, ...)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Change:
    """One thing a revision's upgrade does, as the runbook plans it (``migsafe.rollout``)."""

    kind: ChangeKind
    what: str  # 'add column "users"."email"'
    line: int
    table: str | None = None  # the table it names, as SQL
    # "concurrent-index", "validate", "not-valid", "rewrite", "bulk": what to time and check
    tags: tuple[str, ...] = ()
    split: str = ""  # for a breaking change: how to do it in steps


@dataclass(frozen=True)
class RevisionLocks:
    """What a rollout has to plan around in one judged revision: the strongest lock its
    upgrade takes on each table that existed before it (tables it creates have no traffic
    yet), what the upgrade changes, and whether a downgrade can undo it."""

    path: Path
    revision: str
    locks: tuple[tuple[str, str], ...] = ()  # (table as SQL, lock mode as PostgreSQL names it)
    changes: tuple[Change, ...] = ()  # in the upgrade's order
    title: str = ""  # the first line of its docstring (Alembic's -m message)
    parents: tuple[str, ...] = ()  # its down_revision(s)
    # "exists", "raises", "missing" (absent or empty), "nothing" (nothing to undo); "": unknown
    downgrade: str = ""


@dataclass
class CheckResult:
    """What ``migsafe check`` found in a project, and the verdict it gives."""

    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    checked: int = 0
    fail_on: Severity = Severity.WARNING
    paths: list[Path] = field(default_factory=list)  # the scripts checked
    revisions: list[RevisionLocks] = field(default_factory=list)  # in history order
    footprint: Footprint | None = None  # what it read; None: a re-run may differ (a timeout)

    @property
    def has_fatal(self) -> bool:
        return any(d.fatal for d in self.diagnostics)

    @property
    def exit_code(self) -> int:
        """2 bad input, 1 a finding at or above ``fail_on``, else 0: the verdict the CLI,
        the GitHub Action and a pytest plugin all give."""
        if self.has_fatal:
            return 2
        return int(any(f.severity >= self.fail_on for f in self.findings))

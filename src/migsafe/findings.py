"""What a check produces: findings about migrations, and diagnostics about unreadable input."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


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

"""Which revisions a roundtrip walks: ``--from``, ``--to``, ``--since GIT_REF`` and
``--shard K/N``.

Revisions outside the selection that the selected ones build on are still upgraded (once,
without the stairway), so each selected revision starts from the schema it would meet in
production. ``--shard K/N`` cuts the selected revisions into N contiguous, nearly equal
slices in history order, so that N CI jobs cover the history in parallel: shard K upgrades
once to the start of its slice (as ``--from`` does), then walks the stairway over its slice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from migsafe.errors import MigsafeError
from migsafe.project import History, MigrationScript
from migsafe.roundtrip.stairway import PlannedRevision


class SelectionError(MigsafeError):
    """A --from/--to/--since value that names nothing; the message says what exists."""


def plan_revisions(
    history: History,
    start: str | None = None,
    stop: str | None = None,
    changed: set[Path] | None = None,
) -> list[PlannedRevision]:
    """Parents before children; ``selected`` marks the revisions that get the stairway."""
    scripts = history.scripts
    if stop is not None:
        last = resolve(history, stop, "--to")
        keep = _ancestors(history, last) | {last}
        scripts = [s for s in scripts if s.revision in keep]
    selected = {s.revision for s in scripts}
    if start is not None:
        first = resolve(history, start, "--from")
        if first not in selected:
            raise SelectionError(f"--from {start} comes after --to {stop}")
        selected = {first} | _descendants(history, first)
    if changed is not None:
        selected = {s.revision for s in scripts if s.revision in selected and s.path in changed}
    return [PlannedRevision(s, s.revision in selected) for s in scripts]


@dataclass(frozen=True)
class Shard:
    """``--shard K/N``: the K-th (from 1) of N slices of the selected revisions."""

    index: int  # K
    count: int  # N

    def __post_init__(self) -> None:
        if self.count < 1:
            raise SelectionError(f"--shard {self}: the number of shards N must be at least 1")
        if not 1 <= self.index <= self.count:
            raise SelectionError(
                f"--shard {self}: the shard number K must be from 1 to {self.count}"
            )

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` → ``Shard(2, 4)``; anything else is a one-line ``SelectionError``."""
        match = re.fullmatch(r"([0-9]+)/([0-9]+)", text.strip())
        if match is None:
            raise SelectionError(f"--shard {text}: expected K/N, shard K of N (e.g. 2/4)")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def bounds(self, total: int) -> tuple[int, int]:
        """The slice ``[start, end)`` of ``total`` items that is this shard's. Slices differ
        in size by at most one, and the last one is empty only when ``total`` is 0."""
        return (self.index - 1) * total // self.count, self.index * total // self.count


@dataclass(frozen=True)
class ShardPlan:
    """What one shard runs, and which revisions' verdicts are its own to report."""

    plan: list[PlannedRevision]  # the whole plan up to the end of the slice, the slice selected
    reported: frozenset[str]  # each planned revision is reported by exactly one shard
    reaches_head: bool  # the last shard: it runs to the end of the plan (and checks drift)


def shard_plan(plan: list[PlannedRevision], shard: Shard) -> ShardPlan:
    """Shard K's part of ``plan``: its slice of the selected revisions, stairwayed, after
    the revisions before it, upgraded once.

    The revisions that are not selected (before ``--from``, or unchanged since ``--since``)
    belong to the shard whose slice comes next after them (those after the last slice to
    the last shard): only that shard reports one that fails to upgrade, so that the shards'
    reports together hold each revision once, as the unsharded run's does.
    """
    positions = [i for i, planned in enumerate(plan) if planned.selected]
    start, end = shard.bounds(len(positions))

    def cut(rank: int) -> int:  # where the shards before selected revision ``rank`` end
        return positions[rank - 1] + 1 if rank else 0

    last = shard.index == shard.count
    begin, stop = cut(start), len(plan) if last else cut(end)
    mine = set(positions[start:end])
    walked = [replace(p, selected=i in mine) for i, p in enumerate(plan[:stop])]
    reported = frozenset(p.revision for p in plan[begin:stop])
    return ShardPlan(walked if reported else [], reported, last)


def resolve(history: History, identifier: str, option: str) -> str:
    """A full revision id from an id or a unique prefix of one, as Alembic accepts."""
    revisions = [s.revision for s in history.scripts]
    if identifier in revisions:
        return identifier
    matches = [r for r in revisions if r.startswith(identifier)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise SelectionError(f"{option} {identifier} is ambiguous: {', '.join(matches[:5])}")
    raise SelectionError(f"{option} {identifier}: no such revision in this history")


def _ancestors(history: History, revision: str) -> set[str]:
    by_id = {s.revision: s for s in history.scripts}
    found: set[str] = set()
    stack = list(_parents(by_id[revision]))
    while stack:
        parent = stack.pop()
        if parent in by_id and parent not in found:
            found.add(parent)
            stack.extend(_parents(by_id[parent]))
    return found


def _descendants(history: History, revision: str) -> set[str]:
    found: set[str] = set()
    for script in history.scripts:  # parents come first, so one pass suffices
        if any(p == revision or p in found for p in _parents(script)):
            found.add(script.revision)
    return found


def _parents(script: MigrationScript) -> tuple[str, ...]:
    return (*script.down_revisions, *script.depends_on)

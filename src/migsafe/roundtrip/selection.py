"""Which revisions a roundtrip walks: ``--from``, ``--to`` and ``--since GIT_REF``.

Revisions outside the selection that the selected ones build on are still upgraded (once,
without the stairway), so each selected revision starts from the schema it would meet in
production.
"""

from __future__ import annotations

import subprocess
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


def changed_since(ref: str, directory: Path) -> set[Path]:
    """Files added or changed since git ``ref`` (committed or not), plus untracked files."""
    top = _git(directory, "rev-parse", "--show-toplevel").strip()
    root = Path(top)
    changed = _git(directory, "diff", "--name-only", "--diff-filter=AMR", ref, "--", ".")
    untracked = _git(directory, "ls-files", "--others", "--exclude-standard", "--full-name", ".")
    return {(root / line).resolve() for line in (changed + untracked).splitlines() if line}


def _git(directory: Path, *args: str) -> str:
    try:
        completed = subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise SelectionError("--since needs git, and git is not installed") from None
    if completed.returncode != 0:
        reason = " ".join(completed.stderr.split()) or f"git {args[0]} failed"
        raise SelectionError(f"--since: {reason}")
    return completed.stdout

"""The revision graph: scripts in order, parents first, and what is wrong with the graph."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from migsafe.findings import Diagnostic
from migsafe.project.scripts import MigrationScript, read_script
from migsafe.project.sources import Sources, as_shown


@dataclass
class History:
    """The scripts of one check, parents before children."""

    scripts: list[MigrationScript]
    heads: list[MigrationScript]
    complete: bool


def load_history(sources: Sources) -> tuple[History, list[Diagnostic]]:
    """Read every script and order them; graph problems become fatal diagnostics."""
    diagnostics = list(sources.diagnostics)
    scripts: list[MigrationScript] = []
    for path in sources.files:
        script = read_script(path)
        if isinstance(script, Diagnostic):
            diagnostics.append(script)
        else:
            scripts.append(script)
    for old_copy in _old_copies(sources, scripts):
        message = (
            f"left out: its revisions repeat ids of {old_copy.parent.name}/ itself (an old "
            "copy of the history?); Alembic reads a versions directory's subdirectories only "
            "with recursive_version_locations"
        )
        diagnostics.append(Diagnostic(old_copy, message, fatal=False))
        scripts = [s for s in scripts if old_copy not in s.path.parents]
    by_revision: dict[str, MigrationScript] = {}
    for script in scripts:
        first = by_revision.get(script.revision)
        if first is not None:
            apart = (
                "; two histories of their own? check each of their directories alone"
                if first.path.parent != script.path.parent
                else ""
            )
            also = _shown_beside(first.path, script.path)
            message = f"duplicate revision id {script.revision!r} (also in {also}){apart}"
            diagnostics.append(Diagnostic(script.path, message, fatal=True))
            continue
        by_revision[script.revision] = script
        for name, line in script.computed:
            message = (
                f"`{name}` is computed when the script is imported: the revisions it "
                "depends on are not known, so only down_revision orders this one"
            )
            diagnostics.append(Diagnostic(script.path, message, fatal=False, line=line))

    labels = {label for s in by_revision.values() for label in s.branch_labels}
    for revision, script in by_revision.items():
        outside = _outside_dependencies(script, by_revision, labels)
        if outside:
            by_revision[revision] = replace(script, outside=outside)
            if sources.complete:
                diagnostics.append(Diagnostic(script.path, _outside_message(outside), False))
    if sources.complete:
        diagnostics.extend(_missing_parents(by_revision))
    ordered, cyclic = _topological_order(by_revision)
    if cyclic:
        names = ", ".join(str(s.path.name) for s in cyclic)
        diagnostics.append(
            Diagnostic(cyclic[0].path, f"revision cycle through {names}", fatal=True)
        )
    children = {parent for s in by_revision.values() for parent in s.down_revisions}
    heads = [s for s in ordered if s.revision not in children]
    return History(ordered, heads, sources.complete), diagnostics


def _old_copies(sources: Sources, scripts: list[MigrationScript]) -> list[Path]:
    """The subdirectories of a versions directory read with its subdirectories although no
    alembic.ini asked for it (named on the command line: OpenStack keeps
    ``versions/<release>/expand/``) that repeat revision ids of the directory's own files:
    zou keeps its history before a squash in ``versions/legacy/``, which Alembic never
    reads."""
    copies: set[Path] = set()
    for directory, recursive in sources.listed:
        if not recursive or sources.config is not None:
            continue
        own = {s.revision for s in scripts if s.path.parent == directory}
        for script in scripts:
            if directory in script.path.parents and script.revision in own:
                below = script.path.relative_to(directory).parts
                if len(below) > 1:
                    copies.add(directory / below[0])
    return sorted(copies)


def _outside_dependencies(
    script: MigrationScript, by_revision: dict[str, MigrationScript], labels: set[str]
) -> tuple[str, ...]:
    """The ``depends_on`` entries naming nothing of this history: no revision id (nor the
    start of exactly one, as Alembic accepts), no branch label (``labels``)."""
    return tuple(
        name for name in script.depends_on
        if name not in by_revision and name not in labels
        and sum(1 for revision in by_revision if revision.startswith(name)) != 1
    )  # fmt: skip


def _outside_message(outside: tuple[str, ...]) -> str:
    names = ", ".join(repr(name) for name in outside)
    return (
        f"depends_on {names} names no revision of this history (another package's "
        "branch?): what it does before this revision is not known, so from here on nothing "
        "is said to exist or not; check the histories together to know it"
    )


def _missing_parents(by_revision: dict[str, MigrationScript]) -> Iterable[Diagnostic]:
    for script in by_revision.values():
        for parent in script.down_revisions:
            if parent not in by_revision:
                yield Diagnostic(
                    script.path,
                    f"down_revision {parent!r} names no revision in this history",
                    fatal=True,
                )


def _topological_order(
    by_revision: dict[str, MigrationScript],
) -> tuple[list[MigrationScript], list[MigrationScript]]:
    """Kahn's algorithm; ties go by file name so the order is stable.

    Returns the ordered scripts and, separately, those caught in a cycle.
    """
    known = set(by_revision)
    parents = {
        rev: {p for p in (*s.down_revisions, *s.depends_on) if p in known and p != rev}
        for rev, s in by_revision.items()
    }
    self_loops = [s for rev, s in by_revision.items() if rev in s.down_revisions]
    children: dict[str, list[str]] = {rev: [] for rev in by_revision}
    for rev, ps in parents.items():
        for p in ps:
            children[p].append(rev)
    waiting = {rev: len(ps) for rev, ps in parents.items()}
    ready = [(by_revision[r].path.name, r) for r, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    ordered: list[MigrationScript] = []
    while ready:
        _, rev = heapq.heappop(ready)
        ordered.append(by_revision[rev])
        for child in children[rev]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (by_revision[child].path.name, child))
    placed = {s.revision for s in ordered}
    cyclic = [s for r, s in by_revision.items() if r not in placed] or self_loops
    return ordered, cyclic


def _shown_beside(path: Path, other: Path) -> str:
    """``path`` as a message about ``other`` names it: its name when they share a directory,
    else as every path is shown (from the working directory when below it: relative to the
    other's directory, a tester read ``../../../p_async/...`` as a path from where they
    stood)."""
    return path.name if path.parent == other.parent else as_shown(path)

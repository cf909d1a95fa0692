"""What a change touched: the files added or modified since a git ref (``--since``).

Compared with where the branch left the ref (``git merge-base``), so a pull request's base
moving on, or being merged in, does not count as the pull request's own change; uncommitted
and untracked files count, so a revision written a minute ago is checked before its commit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from migsafe.errors import MigsafeError


class ChangesError(MigsafeError):
    """``--since`` cannot be answered (no git, not a repository, an unknown ref)."""


def changed_since(ref: str, directory: Path) -> set[Path]:
    """Files under ``directory`` added, modified or renamed since ``ref``, plus untracked
    ones, as resolved paths."""
    root = Path(_git(directory, "rev-parse", "--show-toplevel").strip())
    base = _git(directory, "merge-base", ref, "HEAD").strip()
    changed = _git(directory, "diff", "--name-only", "--diff-filter=AMR", base, "--", ".")
    untracked = _git(directory, "ls-files", "--others", "--exclude-standard", "--full-name", ".")
    return {(root / line).resolve() for line in (changed + untracked).splitlines() if line}


def _git(directory: Path, *args: str) -> str:
    try:
        completed = subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ChangesError("--since needs git, and git is not installed") from None
    if completed.returncode != 0:
        reason = " ".join(completed.stderr.split()) or f"git {args[0]} failed"
        raise ChangesError(f"--since: {reason}")
    return completed.stdout

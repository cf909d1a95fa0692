"""Fidelity: on released histories whose application is not installed, how many scripts does
`migsafe check` judge from a complete capture, without any notice?

For each history in ``tests.realdata.FIDELITY`` the release is read from its pinned wheel,
`migsafe check --format json` runs on its migrations as its own process, and a script counts
as clean when no diagnostic names it. Target (issue 9): at least 95% clean across these
histories.

Two settings, neither with the application or its dependencies installed:
- ``source`` (default): the whole release unpacked and on the import path, as in a CI job
  that checks out the application's repository and installs only migsafe;
- ``migrations``: only the versions directory (plus what the history declares it needs).

``--histories unseen`` measures the histories first tried after the capture was built
(``tests.realdata.UNSEEN``), apart from the issue's set.

Usage: python bench/fidelity.py [--setting source|migrations] [--histories issue|unseen]
                                [--show N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from migsafe.project.sources import scripts_in  # noqa: E402
from tests.realdata import FIDELITY, UNSEEN, extract, extracted_root, source_tree  # noqa: E402


def measure(history, setting: str, show: int) -> tuple[int, int]:
    if setting == "source":
        root = source_tree(history)
        versions = root / history.versions_dir
    else:
        versions = extract(history)
        root = extracted_root(history) if history.extra else None
    command = [sys.executable, "-m", "migsafe", "check", "--format", "json", str(versions)]
    env = {**os.environ, "PYTHONPATH": str(root)} if root else None
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode not in (0, 1, 2):
        sys.exit(f"{history.package}: migsafe check crashed:\n{completed.stderr[-2000:]}")
    document = json.loads(completed.stdout)
    scripts = {str(p.resolve()) for p in scripts_in(versions, recursive=True)}  # as check does
    named = {str(Path(d["path"]).resolve()) for d in document["diagnostics"] if d["path"]}
    clean = len(scripts - named)
    share = 100.0 * clean / len(scripts)
    print(f"{history.package} {history.version}: {clean}/{len(scripts)} scripts without a notice "
          f"({share:.1f}%), {len(document['findings'])} findings")  # fmt: skip
    kinds = Counter(_kind(d["message"]) for d in document["diagnostics"])
    for kind, count in kinds.most_common():
        print(f"    {count:4d}  {kind}")
    for diagnostic in document["diagnostics"][:show]:
        print(
            f"      {Path(diagnostic['path']).name}:{diagnostic['line']}: {diagnostic['message']}"
        )
    return clean, len(scripts)


def _kind(message: str) -> str:
    """A diagnostic's message without the parts that name one script (for the tally)."""
    head = message.split(":")[0]
    return " ".join(word for word in head.split() if not any(ch.isdigit() for ch in word))[:90]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=("source", "migrations"), default="source")
    parser.add_argument("--histories", choices=("issue", "unseen"), default="issue")
    parser.add_argument("--show", type=int, default=0, metavar="N")
    args = parser.parse_args()
    clean = total = 0
    for history in FIDELITY if args.histories == "issue" else UNSEEN:
        c, t = measure(history, args.setting, args.show)
        clean, total = clean + c, total + t
    print(f"all: {clean}/{total} scripts without a notice ({100.0 * clean / total:.1f}%)")


if __name__ == "__main__":
    main()

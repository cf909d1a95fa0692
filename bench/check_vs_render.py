"""Benchmark: whole-process `migsafe check` against the bare Alembic offline render.

Both run on the same real history (mlflow-skinny's migrations, read from its pinned wheel),
as separate processes, several times each; the figures are medians.
Target (issue 2): migsafe check at most 1.5x the bare render.

Usage: python bench/check_vs_render.py [--runs N]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import precompile, timed  # noqa: E402
from tests.realdata import MLFLOW, extract  # noqa: E402

FINDINGS_OK = (0, 1)  # migsafe check exits 1 because the history has findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    versions = extract(MLFLOW)
    precompile(REPO / "src" / "migsafe", versions)
    scripts = len([p for p in versions.glob("*.py") if p.name != "__init__.py"])
    commands = {
        "bare render": [sys.executable, str(REPO / "bench" / "bare_render.py"), str(versions)],
        "migsafe check": [sys.executable, "-m", "migsafe", "check", "--format", "json",
                          str(versions)],
        "python startup": [sys.executable, "-c", "pass"],
    }  # fmt: skip
    for command in commands.values():  # warm the file cache and .pyc files
        timed(command, accepted=FINDINGS_OK)
    samples = {name: [] for name in commands}
    for _ in range(args.runs):  # interleaved, so drift hits all commands alike
        for name, command in commands.items():
            samples[name].append(timed(command, accepted=FINDINGS_OK))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"{MLFLOW.package} {MLFLOW.version}: {scripts} migration scripts, {args.runs} runs")
    print(f"python {platform.python_version()}, {platform.machine()}, {platform.system()}")
    for name, value in medians.items():
        spread = f"{min(samples[name]):.3f}-{max(samples[name]):.3f}"
        print(f"  {name:<15} median {value:.3f} s  (range {spread} s)")
    ratio = medians["migsafe check"] / medians["bare render"]
    print(f"  ratio migsafe check / bare render: {ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()

"""Benchmark: whole-process `migsafe check`, cold and on an unchanged tree, against the bare
Alembic offline render of the same released histories.

Each command runs as its own process, interleaved with the others, several times; the
figures are medians. Cold is `--no-cache` (everything imported and every script run);
unchanged is a re-run answered by the cache (primed once before timing).
Targets (issue 10): cold at most 1.1x the bare render; unchanged at most 0.3 s.

Usage: python bench/check_speed.py [--runs N] [--history NAME ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import precompile, timed  # noqa: E402
from tests.realdata import AIRFLOW, CONDA_STORE, MLFLOW, PREFECT, extract  # noqa: E402

HISTORIES = {h.package: h for h in (MLFLOW, CONDA_STORE, AIRFLOW, PREFECT)}
FINDINGS_OK = (0, 1)  # migsafe check exits 1 because the histories have findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--history", action="append", choices=sorted(HISTORIES))
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="migsafe-bench-cache-") as cache:
        os.chmod(cache, 0o755)
        environment = {**os.environ, "MIGSAFE_CACHE_DIR": cache}
        for name in args.history or [MLFLOW.package, CONDA_STORE.package]:
            measure(HISTORIES[name], args.runs, environment)


def measure(history, runs: int, environment: dict[str, str]) -> None:
    versions = extract(history)
    precompile(REPO / "src" / "migsafe", versions)
    check = [sys.executable, "-m", "migsafe", "check", "--format", "json", str(versions)]
    commands = {
        "bare render": [sys.executable, str(REPO / "bench" / "bare_render.py"), str(versions)],
        "check, cold": [*check, "--no-cache"],
        "check, unchanged": check,
        "python startup": [sys.executable, "-c", "pass"],
    }
    for command in commands.values():  # warm the file cache and .pyc files; prime the cache
        timed(command, env=environment, accepted=FINDINGS_OK)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so drift hits all commands alike
        for name, command in commands.items():
            samples[name].append(timed(command, env=environment, accepted=FINDINGS_OK))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    scripts = len([p for p in versions.glob("*.py") if p.name != "__init__.py"])
    print(f"{history.package} {history.version}: {scripts} scripts, {runs} runs")
    for name, value in medians.items():
        spread = f"{min(samples[name]):.3f}-{max(samples[name]):.3f}"
        print(f"  {name:<17} median {value:.3f} s  (range {spread} s)")
    ratio = medians["check, cold"] / medians["bare render"]
    print(f"  cold / bare render: {ratio:.2f}x (target <= 1.1x)")
    print(f"  unchanged: {medians['check, unchanged']:.3f} s (target <= 0.3 s)")


if __name__ == "__main__":
    main()

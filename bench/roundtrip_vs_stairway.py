"""Benchmark: whole-process `migsafe roundtrip` against the bare stairway and pytest-alembic.

History: CKAN 2.12.0's PostgreSQL migrations (from its pinned wheel), cut at revision 073 so
that every step of the range 044-073 succeeds: the bare stairway stops at its first error and
pytest-alembic's downgrade walk stops at the first failing downgrade.

- bare stairway: bench/bare_stairway.py: upgrade to 043, then for each of 044-073 upgrade,
  downgrade to the parent, upgrade again, through env.py with one loaded ScriptDirectory.
  No snapshots. "bare, command API" is the same with alembic.command, which reloads the
  script directory for every command, as a hand-written loop would.
- migsafe roundtrip: the same steps, a full catalog snapshot after each and diffs.
- pytest-alembic: test_up_down_consistency (upgrade base to 073 one by one, then downgrade to 043).

All three use one embedded server started here, each in a scratch database of its own; the
last line adds `migsafe roundtrip --postgres embedded`, which starts and removes its own
server. Medians of several interleaved runs. Target (issue 4): at most 1.5x the bare stairway.

pytest-alembic (pinned) is installed into a directory of its own in the test cache and put
on PYTHONPATH for its command only: its pytest plugin would break the project's own test
collection if it lived in the environment.

Usage: python bench/roundtrip_vs_stairway.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import precompile, timed  # noqa: E402
from migsafe.postgres import disposable_postgres  # noqa: E402
from tests.realdata import CACHE, CKAN, extract, extracted_root, installed  # noqa: E402

FIRST, BEFORE_FIRST, LAST = "4190eeeb8d73", "bd38cd6502b2", "073"  # 044, 043, 073
PYTEST_ALEMBIC = "0.13.1"


def script_dir() -> Path:
    """CKAN's revisions up to 073 beside a minimal env.py (in the cache: third-party code)."""
    target = CACHE / "bench" / f"ckan-{CKAN.version}-to-{LAST}"
    if not (target / "versions").is_dir():
        (target / "versions").mkdir(parents=True)
        shutil.copy(REPO / "bench" / "stairway_env" / "env.py", target / "env.py")
        for path in sorted(extract(CKAN).glob("[0-9][0-9][0-9]_*.py")):
            if path.name[:3] <= LAST:
                shutil.copy(path, target / "versions" / path.name)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    scripts = script_dir()
    precompile(REPO / "src" / "migsafe", scripts, extracted_root(CKAN))
    env = dict(os.environ, PYTHONPATH=str(extracted_root(CKAN)))
    plugin = installed("pytest-alembic", PYTEST_ALEMBIC)
    with disposable_postgres("embedded") as server:
        env.update(BENCH_SERVER_URL=server.url, BENCH_SCRIPT_DIR=str(scripts),
                   BENCH_MINIMUM_DOWNGRADE=BEFORE_FIRST)  # fmt: skip
        with_plugin = dict(env, PYTHONPATH=os.pathsep.join([env["PYTHONPATH"], str(plugin)]))
        python = sys.executable
        suite = REPO / "bench" / "pytest_alembic_suite"
        commands = {
            "bare stairway": ([python, str(REPO / "bench" / "bare_stairway.py"), server.url,
                               str(scripts), FIRST, "reuse"], env),
            "bare, command API": ([python, str(REPO / "bench" / "bare_stairway.py"), server.url,
                                   str(scripts), FIRST, "command"], env),
            "migsafe roundtrip": ([python, "-m", "migsafe", "roundtrip", str(scripts),
                                   "--postgres", server.url, "--from", FIRST, "--format", "json"],
                                  env),
            "pytest-alembic": ([python, "-m", "pytest", "-q", "-c", str(suite / "pytest.ini"),
                                str(suite)], with_plugin),
            "migsafe, own server": ([python, "-m", "migsafe", "roundtrip", str(scripts),
                                     "--postgres", "embedded", "--from", FIRST,
                                     "--format", "json"], env),
        }  # fmt: skip
        for command, command_env in commands.values():  # warm caches; fail early if one can't run
            timed(command, command_env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (command, command_env) in commands.items():
                samples[name].append(timed(command, command_env))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"{CKAN.package} {CKAN.version}: revisions 001-{LAST}, stairway over 044-{LAST} "
          f"(30 revisions), {args.runs} runs")  # fmt: skip
    print(f"python {platform.python_version()}, {platform.machine()}, {platform.system()}")
    for name, value in medians.items():
        spread = f"{min(samples[name]):.2f}-{max(samples[name]):.2f}"
        print(f"  {name:<20} median {value:.2f} s  (range {spread} s)")
    bare = medians["bare stairway"]
    print(f"  ratio migsafe roundtrip / bare stairway: {medians['migsafe roundtrip'] / bare:.2f}x"
          " (target <= 1.5x)")  # fmt: skip
    for name in ("bare, command API", "pytest-alembic"):
        print(f"  ratio {name} / bare stairway: {medians[name] / bare:.2f}x")


if __name__ == "__main__":
    main()

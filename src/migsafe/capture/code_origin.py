"""Whose code is running: the user's project, or the environment migsafe runs in?

Stand-ins are handed out only to the project's own code (migrations and the modules beside
them): a library's ``try: import optional_dependency`` must keep failing as it expects, or the
library would think the dependency is there. The same test tells a stand-in used by a
migration from one merely inspected by SQLAlchemy.
"""

from __future__ import annotations

import sys
import sysconfig
import types
from functools import cache
from pathlib import Path


@cache
def _environment_prefixes() -> tuple[str, ...]:
    """The directories of the standard library, installed packages and migsafe itself."""
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    roots.add(str(Path(__file__).resolve().parents[1]))  # migsafe, also when installed editable
    return tuple(sorted(str(Path(root).resolve()) + "/" for root in roots))


def is_project_file(filename: str) -> bool:
    """True for a real file that is not part of the environment (so: the user's code)."""
    if filename.startswith("<"):  # frozen importlib, exec'd strings
        return False
    return not filename.startswith(_environment_prefixes())


def first_project_frame(frame: types.FrameType | None) -> types.FrameType | None:
    """The innermost frame, from ``frame`` outwards, that runs the project's code; ``None``
    when library or import machinery code comes first."""
    while frame is not None:
        if not frame.f_globals.get("__name__", "").startswith(_TRANSPARENT):
            return frame if is_project_file(frame.f_code.co_filename) else None
        frame = frame.f_back
    return None


# the import machinery, finders that only pass an import on (migsafe.import_hooks), and
# what imports a submodule on the project's behalf (stand-ins; env_imports: the modules
# env.py imports, when a migration asks their package for one)
_TRANSPARENT = (
    "importlib", "_frozen_importlib", "migsafe.import_hooks", "migsafe.capture.stand_ins",
    "migsafe.capture.env_imports",
)  # fmt: skip


def in_guarded_try(frame: types.FrameType | None, filename: str, lines: frozenset[int]) -> bool:
    """A frame on the stack from ``frame`` outward stands in a ``try`` whose handler takes
    the error: one of the migration's (``filename``: at one of ``lines``), or one of another
    module of the project the migration calls (skypilot's helper adds a column in one that
    takes ProgrammingError, and skips the index when it exists)."""
    while frame is not None:
        code = frame.f_code.co_filename
        if code == filename:
            if frame.f_lineno in lines:
                return True
        elif is_project_file(code) and frame.f_lineno in _guarded_lines_of(code):
            return True
        frame = frame.f_back
    return False


@cache
def _guarded_lines_of(filename: str) -> frozenset[int]:
    from migsafe.project.scripts import guarded_lines_in

    try:
        source = Path(filename).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    return guarded_lines_in(source)

"""A script's code object: from Python's own bytecode cache when it holds this very source.

Compiling every script is a tenth of a check on a long history. Alembic and Python leave
``__pycache__/*.pyc`` beside scripts they ran; such a file is used only when its header
(PEP 552: the source's mtime and size, or its hash) matches the file, the file still holds
exactly the source migsafe read, and its code names the script's path (tracebacks and line
attribution depend on it). Anything else compiles, so what runs is always what was read.
"""

from __future__ import annotations

import importlib.util
import marshal
from pathlib import Path
from types import CodeType

from migsafe.project import MigrationScript

_HEADER = 16  # magic, flags, then mtime and size or the source hash (PEP 552)


def script_code(script: MigrationScript) -> CodeType:
    cached = _cached(script)
    return (
        cached
        if cached is not None
        else compile(script.tree, str(script.path), "exec", dont_inherit=True)
    )


def _cached(script: MigrationScript) -> CodeType | None:
    try:
        cache_path = Path(importlib.util.cache_from_source(str(script.path)))
        data = cache_path.read_bytes()
        source = script.source.encode()
        if len(data) < _HEADER or data[:4] != importlib.util.MAGIC_NUMBER:
            return None
        if not _matches(data, script.path, cache_path, source):
            return None
        code = marshal.loads(data[_HEADER:])
    except (OSError, ValueError, EOFError, TypeError, NotImplementedError):
        return None
    return code if isinstance(code, CodeType) and code.co_filename == str(script.path) else None


def _matches(data: bytes, path: Path, cache_path: Path, source: bytes) -> bool:
    """The cached code was compiled from ``source``, which the file still holds."""
    flags = int.from_bytes(data[4:8], "little")
    if flags & 0b1:  # hash-based: the hash of the source it was compiled from
        return data[8:16] == importlib.util.source_hash(source)
    stat, cached = path.stat(), cache_path.stat()
    return (
        int.from_bytes(data[8:12], "little") == int(stat.st_mtime) & 0xFFFFFFFF
        and int.from_bytes(data[12:16], "little") == stat.st_size & 0xFFFFFFFF
        and cached.st_mtime_ns > stat.st_mtime_ns  # not the same second as an edit after it
        and path.read_bytes() == source
    )

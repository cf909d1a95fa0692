"""A script runs from Python's bytecode cache only when that cache holds its very source."""

from __future__ import annotations

import importlib.util
import marshal
import os
import py_compile
from pathlib import Path

from migsafe.capture.bytecode import script_code
from migsafe.project import read_script

SOURCE = "revision = 'a1'\ndown_revision = None\nVALUE = {value}\n"


def run(path: Path) -> object:
    namespace: dict[str, object] = {}
    exec(script_code(read_script(path)), namespace)
    return namespace["VALUE"]


def cache_of(path: Path) -> Path:
    cache = Path(importlib.util.cache_from_source(str(path)))
    cache.parent.mkdir(exist_ok=True)
    return cache


def test_a_cache_whose_header_matches_the_source_is_what_runs(tmp_path: Path) -> None:
    path = tmp_path / "a1.py"
    path.write_text(SOURCE.format(value=1), encoding="utf-8")
    header = importlib.util.MAGIC_NUMBER + (0b11).to_bytes(4, "little")  # checked hash
    header += importlib.util.source_hash(path.read_bytes())
    other = compile(SOURCE.format(value=2), str(path), "exec")
    cache_of(path).write_bytes(header + marshal.dumps(other))
    assert run(path) == 2  # proof that the cache was read: it holds other code


def test_a_cache_of_other_source_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "a1.py"
    path.write_text(SOURCE.format(value=2), encoding="utf-8")
    py_compile.compile(str(path), invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    path.write_text(SOURCE.format(value=1), encoding="utf-8")
    assert run(path) == 1


def test_a_timestamp_cache_older_than_an_edit_in_the_same_second_is_not_used(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a1.py"
    path.write_text(SOURCE.format(value=3), encoding="utf-8")
    py_compile.compile(str(path), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    written = path.stat().st_mtime_ns
    path.write_text(SOURCE.format(value=1), encoding="utf-8")  # same size
    os.utime(path, ns=(written + 1000, written + 1000))  # and, to the second, the same time
    cache = cache_of(path)
    os.utime(cache, ns=(written + 500, written + 500))
    assert run(path) == 1


def test_an_unchanged_timestamp_cache_is_used(tmp_path: Path) -> None:
    path = tmp_path / "a1.py"
    path.write_text(SOURCE.format(value=1), encoding="utf-8")
    os.utime(path, ns=(10**18, 10**18))
    py_compile.compile(str(path), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    header = cache_of(path).read_bytes()[:16]
    other = compile(SOURCE.format(value=2), str(path), "exec")
    cache_of(path).write_bytes(header + marshal.dumps(other))
    assert run(path) == 2


def test_a_cache_compiled_for_another_path_is_not_used(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a1.py").write_text(SOURCE.format(value=1), encoding="utf-8")
    py_compile.compile(str(elsewhere / "a1.py"), doraise=True)
    path = tmp_path / "a1.py"
    path.write_text(SOURCE.format(value=1), encoding="utf-8")
    cache_of(path).write_bytes(cache_of(elsewhere / "a1.py").read_bytes())
    assert script_code(read_script(path)).co_filename == str(path)

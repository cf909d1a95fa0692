"""The connection guard patches a database driver whenever it is imported, and only then."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migsafe.connection_guard import connections_checked


def test_a_driver_imported_meanwhile_is_checked_then_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration that imports its driver itself (psycopg2, here a module of our own by
    that name) connects through the checked ``connect``; afterwards the driver is as it was."""
    (tmp_path / "psycopg2").mkdir()
    (tmp_path / "psycopg2" / "__init__.py").write_text(
        "def connect(dsn):\n    return {'dsn': dsn}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "psycopg2", raising=False)
    checked: list[dict] = []
    with connections_checked(checked.append):
        import psycopg2
        from psycopg2 import connect

        psycopg2.connect("dbname=one")
        connect("dbname=two")
    assert checked == [{"dsn": "dbname=one"}, {"dsn": "dbname=two"}]
    psycopg2.connect("dbname=three")
    assert len(checked) == 2
    assert psycopg2.connect.__qualname__ == "connect"


def test_a_driver_already_imported_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "psycopg2").mkdir()
    (tmp_path / "psycopg2" / "__init__.py").write_text("def connect(dsn):\n    return dsn\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "psycopg2", raising=False)
    import psycopg2

    checked: list[str] = []
    with connections_checked(checked.append):
        psycopg2.connect("dbname=one")
    assert checked == ["dbname=one"]


def test_checking_connections_does_not_import_a_driver() -> None:
    """check never connects: importing psycopg just to patch it cost every run 40 ms."""
    program = (
        "import sys\n"
        "from migsafe.connection_guard import connections_checked\n"
        "with connections_checked(print):\n"
        "    pass\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
        "assert not any(type(f).__name__ == '_PatchOnImport' for f in sys.meta_path)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr

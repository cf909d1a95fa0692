"""Roundtrip with migrations that misbehave: each fails its own revision, never the run, and a
migration that exits can never make the roundtrip pass."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from migsafe.cli import cli
from migsafe.roundtrip.result import Verdict
from tests.conftest import migration_source, roundtrip

PERCENT_SQL = "DO $$ BEGIN EXECUTE format('CREATE TABLE %I (id int)', 'made_by_format'); END $$"

HOSTILE_HISTORY = {
    "r1": """
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer))

def downgrade():
    op.drop_table("t")
""",
    "r2": """
import sys

def upgrade():
    op.add_column("t", sa.Column("b", sa.Integer))

def downgrade():
    sys.exit(0)
""",
    "r3": """
import os

def upgrade():
    op.add_column("t", sa.Column("c", sa.Integer))

def downgrade():
    os._exit(3)
""",
    "r4": f"""
def upgrade():
    op.get_bind().exec_driver_sql(\"\"\"{PERCENT_SQL}\"\"\")

def downgrade():
    op.drop_table("made_by_format")
""",
    "r5": """
def upgrade():
    op.add_column("t", sa.Column("d", sa.Integer))

def downgrade():
    while True:
        pass
""",
    "r6": """
def upgrade():
    op.execute("SELECT pg_sleep(60)")

def downgrade():
    pass
""",
}


def write_history(directory: Path, history: dict[str, str]) -> Path:
    versions = directory / "versions"
    versions.mkdir(exist_ok=True)
    parent = None
    for number, (revision, body) in enumerate(history.items(), start=1):
        source = migration_source(body, revision, parent)
        (versions / f"{number:02d}_{revision}.py").write_text(source)
        parent = revision
    return versions


def test_each_hostile_step_fails_its_revision_and_the_run_goes_on(
    tmp_path: Path, server_url: str
) -> None:
    versions = write_history(tmp_path, HOSTILE_HISTORY)
    started = time.monotonic()
    result = roundtrip(versions, server_url, timeout=2)
    by_revision = {r.revision: r for r in result.revisions}
    assert {r: v.verdict for r, v in by_revision.items()} == {
        "r1": Verdict.OK,
        "r2": Verdict.DOWNGRADE_FAILED,
        "r3": Verdict.DOWNGRADE_FAILED,
        "r4": Verdict.OK,  # the % of format('%I', ...) reached PostgreSQL as it was written
        "r5": Verdict.DOWNGRADE_FAILED,
        "r6": Verdict.UPGRADE_FAILED,
    }
    assert by_revision["r2"].error.message == "the migration called sys.exit(0)"
    assert by_revision["r3"].error.message == "the migration ended the process (exit code 3)"
    assert "did not finish within 2 s" in by_revision["r5"].error.message
    assert "did not finish within 2 s" in by_revision["r6"].error.message
    assert by_revision["r6"].seconds >= 2  # the time it took, not 0.00 s
    assert not result.passed and not result.diagnostics
    assert time.monotonic() - started < 60
    assert multiprocessing.active_children() == []


def test_a_migration_that_exits_zero_fails_the_cli_run(tmp_path: Path, server_url: str) -> None:
    versions = write_history(tmp_path, {"r1": "import sys\n\ndef upgrade():\n    sys.exit(0)\n"})
    result = CliRunner().invoke(
        cli, ["roundtrip", str(versions), "--postgres", server_url, "--format", "json"]
    )
    assert result.exit_code == 1
    (revision,) = json.loads(result.stdout)["revisions"]
    assert revision["verdict"] == "upgrade-failed"
    assert revision["error"]["message"] == "the migration called sys.exit(0)"


def test_an_import_error_is_the_failure_of_the_revision_that_imports(
    tmp_path: Path, server_url: str
) -> None:
    versions = write_history(
        tmp_path,
        {
            "r1": 'def upgrade():\n    op.create_table("t", sa.Column("id", sa.Integer))\n\n'
            'def downgrade():\n    op.drop_table("t")\n',
            "r2": "import app_that_is_not_installed  # here\n\ndef upgrade():\n    pass\n",
        },
    )
    result = roundtrip(versions, server_url)
    first, second = result.revisions
    assert first.verdict is Verdict.OK
    assert second.verdict is Verdict.UPGRADE_FAILED
    assert "app_that_is_not_installed" in second.error.message
    source = (versions / "02_r2.py").read_text().splitlines()
    assert "# here" in source[second.error.line - 1]


def test_several_heads_fail_the_roundtrip_as_they_fail_check(
    tmp_path: Path, server_url: str
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    body = 'def upgrade():\n    op.execute("SELECT 1")\n\ndef downgrade():\n    pass\n'
    for revision in ("a", "b"):
        (versions / f"{revision}.py").write_text(migration_source(body, revision, None))
    result = roundtrip(versions, server_url)
    assert {f.rule for f in result.findings} == {"multiple-heads"}
    assert all(r.verdict is Verdict.OK for r in result.revisions) and not result.passed
    code = CliRunner().invoke(cli, ["roundtrip", str(versions), "--postgres", server_url])
    assert code.exit_code == 1 and "multiple-heads" in code.output


def test_ctrl_c_reports_what_is_done_and_leaves_nothing_running(tmp_path: Path) -> None:
    versions = write_history(
        tmp_path,
        {
            "r1": 'def upgrade():\n    op.execute("SELECT 1")\n\ndef downgrade():\n    pass\n',
            "r2": "import time\n\ndef upgrade():\n    time.sleep(120)\n",
        },
    )
    command = [sys.executable, "-m", "migsafe", "roundtrip", str(versions), "--timeout", "600"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()  # the first verdict streams as soon as it is known
    assert first.startswith("ok r1"), first
    time.sleep(1)  # r2 is sleeping in its worker now
    os.killpg(process.pid, signal.SIGINT)
    rest, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted" in rest and "1 ok" in rest
    leftover = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True)
    assert leftover.stdout == b""

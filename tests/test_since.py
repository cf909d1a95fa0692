"""check --since GIT_REF, on a real temporary git repository: only what the change touched is
judged, and a table an earlier revision of the change creates has no traffic yet."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from migsafe import command
from migsafe.cli import cli
from tests.conftest import migration_source


def git(repository: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(repository), *args], capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A repository whose main branch has two revisions; HEAD is a branch off it."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "dev")
    write(tmp_path, "r1", None, "op.create_table('accounts', sa.Column('id', sa.Integer()))")
    write(tmp_path, "r2", "r1", "op.add_column('accounts', sa.Column('name', sa.Text()))")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    return tmp_path


def write(repository: Path, revision: str, parent: str | None, upgrade: str) -> Path:
    versions = repository / "versions"
    versions.mkdir(exist_ok=True)
    path = versions / f"{revision}.py"
    body = f"def upgrade():\n    {upgrade}\n\ndef downgrade():\n    op.execute('SELECT 1')\n"
    path.write_text(migration_source(body, revision, parent), encoding="utf-8")
    return path


def test_only_the_changed_revisions_are_judged(repository: Path) -> None:
    write(repository, "r3", "r2", "op.create_table('events', sa.Column('id', sa.Integer()))")
    git(repository, "add", ".")
    git(repository, "commit", "-q", "-m", "events")
    indexes = (
        "op.create_index('ix_events_id', 'events', ['id'])\n"
        "    op.create_index('ix_accounts_id', 'accounts', ['id'])"
    )
    write(repository, "r4", "r3", indexes)
    result = command.check([repository / "versions"], since="main")
    assert result.checked == 2  # r3 committed on the branch, r4 not committed at all
    assert [p.name for p in result.paths] == ["r3.py", "r4.py"]
    assert {(f.path.name, f.rule) for f in result.findings} == {
        ("r4.py", "create-index-not-concurrently")
    }
    (finding,) = result.findings
    assert "ix_accounts_id" in finding.message  # events is new in this change: no traffic yet
    everything = command.check([repository / "versions"])  # events deployed before r4 then
    assert everything.checked == 4
    assert any("ix_events_id" in f.message for f in everything.findings)


def test_a_change_to_an_old_revision_is_judged(repository: Path) -> None:
    write(repository, "r2", "r1", "op.alter_column('accounts', 'name', new_column_name='n')")
    result = command.check([repository / "versions"], since="main")
    assert result.checked == 1 and result.findings[0].rule == "rename-column"


def test_since_the_branch_left_not_since_where_main_is_now(repository: Path) -> None:
    write(repository, "r3", "r2", "op.execute('SELECT 1')")
    git(repository, "add", ".")
    git(repository, "commit", "-q", "-m", "mine")
    git(repository, "checkout", "-q", "main")
    (repository / "README").write_text("main moved on\n")
    git(repository, "add", ".")
    git(repository, "commit", "-q", "-m", "other work")
    git(repository, "checkout", "-q", "feature")
    assert [p.name for p in command.check([repository / "versions"], since="main").paths] == [
        "r3.py"
    ]


def test_the_cache_sees_what_since_selects(repository: Path) -> None:
    from migsafe.cache import ResultCache

    cache = ResultCache(repository / ".cache")
    assert command.check([repository / "versions"], since="main", cache=cache).checked == 0
    write(repository, "r3", "r2", "op.execute('SELECT 1')")
    assert command.check([repository / "versions"], since="main", cache=cache).checked == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "no-such-ref"], "--since: "),
    ],
)
def test_a_bad_ref_is_one_line(repository: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["check", str(repository / "versions"), *args])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"migsafe: {message}")


def test_outside_a_repository_is_one_line(tmp_path: Path) -> None:
    write(tmp_path, "r1", None, "op.execute('SELECT 1')")
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "versions"), "--since", "main"])
    assert result.exit_code == 2
    assert "not a git repository" in result.stderr.lower()

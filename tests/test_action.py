"""The GitHub Action, run here: its steps' scripts with a simulated GitHub environment
(GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_BASE_REF) on a temporary git repository whose
pull request adds a revision. The `uses:` steps (setup-python, the SARIF upload) and the
install step are GitHub's and pip's; this environment already has migsafe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from migsafe.cli import cli

REPO = Path(__file__).resolve().parents[1]
ACTION = REPO / ".github" / "actions" / "migsafe"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def git(repository: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repository), *args], check=True, capture_output=True)


def revision(
    repository: Path, name: str, parent: str | None, upgrade: str, downgrade: str = "pass"
) -> None:
    path = repository / "migrations" / "versions" / f"{name}.py"
    path.write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {name!r}\ndown_revision = {parent!r}\n\n\n"
        f"def upgrade() -> None:\n    {upgrade}\n\n\n"
        f"def downgrade() -> None:\n    {downgrade}\n",
        encoding="utf-8",
    )


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A project made by migsafe init, its main branch with one revision, and a branch."""
    repository = tmp_path / "repo"
    assert CliRunner().invoke(cli, ["init", str(repository)]).exit_code == 0
    git(repository, "init", "-q", "-b", "main")
    git(repository, "config", "user.email", "dev@example.com")
    git(repository, "config", "user.name", "dev")
    users = "op.create_table('users', sa.Column('id', sa.Integer(), primary_key=True))"
    revision(repository, "r1", None, users, "op.drop_table('users')")
    git(repository, "add", ".")
    git(repository, "commit", "-q", "-m", "base")
    git(repository, "checkout", "-q", "-b", "feature")
    return repository


def steps() -> dict[str, dict]:
    action = yaml.safe_load((ACTION / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return {step.get("id", step.get("uses", "")): step for step in action["runs"]["steps"]}


def run_step(step: dict, inputs: dict[str, str], outputs: dict[str, str], cwd: Path,
             github: dict[str, str]) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """One `run:` step as the runner runs it: its env with the expressions evaluated."""

    def evaluate(text: str) -> str:
        def value(match: re.Match[str]) -> str:
            kind, _, name = match.group(1).partition(".")
            if kind == "inputs":
                return inputs[name]
            if kind == "steps":  # steps.<id>.outputs.<name>
                return outputs.get(name.split(".")[-1], "")
            raise AssertionError(f"unexpected expression {match.group(0)}")

        return EXPRESSION.sub(value, text)

    environment = {**os.environ, **github}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    environment.update({key: evaluate(str(v)) for key, v in step.get("env", {}).items()})
    workdir = cwd / evaluate(step.get("working-directory", "."))
    return subprocess.run(["bash", "-c", evaluate(step["run"])], cwd=workdir, env=environment,
                          capture_output=True, text=True, check=False)  # fmt: skip


def run_action(repository: Path, tmp_path: Path, **given: str):
    """The gate and verdict steps, with the action's defaults for inputs not ``given``."""
    action = yaml.safe_load((ACTION / "action.yml").read_text())
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update(given)
    output_file, summary = tmp_path / "github_output", tmp_path / "step_summary"
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(repository),
        "GITHUB_BASE_REF": "main",
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTION_PATH": str(ACTION),
        "RUNNER_TEMP": str(tmp_path / "runner"),
    }
    every = steps()
    gate = run_step(every["gate"], inputs, {}, repository, github)
    outputs = dict(
        line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line
    )
    verdict = run_step(every["verdict"], inputs, outputs, repository, github)
    return gate, outputs, summary.read_text() if summary.exists() else "", verdict.returncode


def test_the_action_declares_what_it_promises() -> None:
    action = yaml.safe_load((ACTION / "action.yml").read_text())
    assert set(action["inputs"]) >= {
        "working-directory", "config", "since", "postgres-version", "roundtrip", "shard",
        "fail-on", "sarif", "version",
    }  # fmt: skip
    assert set(action["outputs"]) == {"findings", "verdict", "sarif"}
    every = steps()
    assert "codeql-action/upload-sarif" in " ".join(every)  # SARIF goes to code scanning
    assert "gate.sh" in every["gate"]["run"]


def test_an_unsafe_revision_annotates_summarizes_and_fails(
    pull_request: Path, tmp_path: Path
) -> None:
    revision(pull_request, "r2", "r1", "op.create_index('ix_users_id', 'users', ['id'])")
    git(pull_request, "add", ".")
    git(pull_request, "commit", "-q", "-m", "index")
    gate, outputs, summary, status = run_action(pull_request, tmp_path, roundtrip="false")
    assert status == 1, gate.stderr
    assert outputs["verdict"] == "failed" and int(outputs["findings"]) >= 1
    assert Path(outputs["sarif"]).is_file()
    annotations = [line for line in gate.stdout.splitlines() if line.startswith("::error ")]
    assert any("file=migrations/versions/r2.py" in line for line in annotations), gate.stdout
    assert not any("r1.py" in line for line in gate.stdout.splitlines())  # only the change
    assert summary.startswith("## migsafe check") and "create-index-not-concurrently" in summary


def test_a_safe_revision_passes_check_and_roundtrip(pull_request: Path, tmp_path: Path) -> None:
    nickname = "op.add_column('users', sa.Column('nickname', sa.Text()))"
    revision(pull_request, "r2", "r1", nickname, "op.drop_column('users', 'nickname')")
    gate, outputs, summary, status = run_action(pull_request, tmp_path)  # not committed yet
    assert status == 0, gate.stdout + gate.stderr
    assert outputs["verdict"] == "passed" and outputs["findings"] == "0"
    assert "## migsafe check" in summary and "## migsafe roundtrip" in summary
    assert (tmp_path / "runner" / "migsafe-reports" / "roundtrip.xml").is_file()


def test_bad_input_is_an_error_verdict(pull_request: Path, tmp_path: Path) -> None:
    gate, outputs, _, status = run_action(
        pull_request, tmp_path, config="missing.ini", roundtrip="false"
    )
    assert status == 2 and outputs["verdict"] == "error"
    assert any(line.startswith("::error file=missing.ini") for line in gate.stdout.splitlines()), (
        gate.stdout
    )


def test_the_pre_commit_hook_checks_the_project() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "migsafe check" and hook["language"] == "python"
    assert hook["pass_filenames"] is False  # the project, so revisions are judged in context
    assert re.search(hook["files"], "migrations/versions/2026-11-22_add_users_ab12.py")
    assert not re.search(hook["files"], "app/models.py")

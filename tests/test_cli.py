"""The command line: exit codes, one-line errors that name the file, output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from migsafe.cli import cli

REPO = Path(__file__).resolve().parents[1]
UNSAFE = "def upgrade():\n    op.create_index('ix_t_a', 't', ['a'])\n"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


BAD_INPUTS = {
    "syntax error": (b"revision = 'x'\ndef upgrade(:\n", "Python syntax error"),
    "no revision": (b"def upgrade():\n    pass\n", "no `revision` variable"),
    "non-utf8": (b"revision = '\xff\xfe'\n", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_file_exits_2_names_it_and_still_checks_the_others(
    case: str, tmp_path: Path, write_migration
) -> None:
    content, expected = BAD_INPUTS[case]
    write_migration(UNSAFE, revision="good")
    broken = tmp_path / "versions" / "broken.py"
    broken.write_bytes(content)
    code, output = run("check", str(tmp_path / "versions"))
    assert code == 2
    (error_line,) = [line for line in output.splitlines() if "broken.py" in line]
    assert expected in error_line
    assert "create-index-not-concurrently" in output  # the good file was still checked


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a": "b", "b": "a"}, "cycle"),
        ({"a": None, "b": "missing"}, "names no revision"),
        ({"a": None, "a2": None}, "multiple-heads"),
    ],
)
def test_graph_problems(files: dict, expected: str, tmp_path: Path, write_migration) -> None:
    for revision, parent in files.items():
        write_migration("def upgrade():\n    pass\n", revision=revision, down_revision=parent)
    code, output = run("check", str(tmp_path / "versions"))
    assert expected in output
    assert code == (1 if expected == "multiple-heads" else 2)


def test_duplicate_revision_exits_2(tmp_path: Path, write_migration) -> None:
    write_migration(UNSAFE, revision="a", name="x.py")
    write_migration(UNSAFE, revision="a", name="y.py")
    code, output = run("check", str(tmp_path / "versions"))
    assert code == 2 and "duplicate revision id 'a'" in output


def test_missing_path_exits_2(tmp_path: Path) -> None:
    code, output = run("check", str(tmp_path / "nowhere"))
    assert code == 2 and "nowhere: error: path does not exist" in output


def test_empty_directory_says_so_and_exits_0(tmp_path: Path) -> None:
    code, output = run("check", str(tmp_path))
    assert code == 0 and "no migrations found" in output


def test_findings_exit_1_and_fail_on_raises_the_bar(tmp_path: Path, write_migration) -> None:
    write_migration("def upgrade():\n    op.drop_index('ix_t_a', table_name='t')\n")
    versions = str(tmp_path / "versions")
    assert run("check", versions)[0] == 1  # warning >= default fail-on (warning)
    assert run("check", "--fail-on", "error", versions)[0] == 0
    assert run("check", "--ignore", "drop-index-not-concurrently", versions)[0] == 1
    assert run("check", "--ignore", "MS006", "--ignore", "MS007", versions)[0] == 0


def test_inline_suppression(tmp_path: Path, write_migration) -> None:
    write_migration(
        "def upgrade():\n"
        "    # migsafe: ignore[create-index-not-concurrently] small lookup table\n"
        "    op.create_index('ix_t_a', 't', ['a'])\n"
        "    op.create_index('ix_t_b', 't', ['b'])\n"
        "\n\ndef downgrade():\n    op.drop_table('t')\n"
    )
    code, output = run("check", "--format", "json", str(tmp_path / "versions"))
    assert code == 1
    findings = json.loads(output)["findings"]
    assert [f["rule"] for f in findings] == ["create-index-not-concurrently"]
    assert findings[0]["message"].startswith('CREATE INDEX "ix_t_b"')


def test_only_comments_suppress_and_a_multi_line_statement_s_last_line_counts(
    tmp_path: Path, write_migration
) -> None:
    """``s = "# migsafe: ignore-file"`` is a string, no directive (it hid every finding);
    the comment closing a multi-line op.execute() covers the statement."""
    write_migration(
        'NOTE = "# migsafe: ignore-file"\n'
        "def upgrade():\n"
        '    op.execute("""\n'
        "        CREATE INDEX ix_t_a ON t (a)\n"
        '    """)  # migsafe: ignore[create-index-not-concurrently]\n'
        "    op.create_index('ix_t_b', 't', ['b'])\n"
        "\n\ndef downgrade():\n    op.drop_table('t')\n"
    )
    code, output = run("check", "--format", "json", str(tmp_path / "versions"))
    findings = json.loads(output)["findings"]
    assert code == 1 and [f["rule"] for f in findings] == ["create-index-not-concurrently"]
    assert findings[0]["message"].startswith('CREATE INDEX "ix_t_b"')


def test_json_output_schema(tmp_path: Path, write_migration) -> None:
    path = write_migration(UNSAFE)
    code, output = run("check", "--format", "json", str(path))
    document = json.loads(output)
    assert code == 1
    assert document["schema_version"] == 1 and document["checked"] == 1
    finding = next(f for f in document["findings"] if f["code"] == "MS004")
    assert finding == {
        "code": "MS004",
        "rule": "create-index-not-concurrently",
        "severity": "error",
        "path": str(path),
        "line": 10,
        "end_line": 10,
        "column": 5,
        "revision": "a1",
        "message": finding["message"],
        "help": "Create the index with postgresql_concurrently=True inside an autocommit_block().",
        "hint": finding["hint"],
        "url": "https://github.com/migsafe/migsafe/blob/main/docs/rules/create-index-not-concurrently.md",
    }
    assert 'SHARE lock on "t"' in finding["message"]


def test_pyproject_settings_are_read(tmp_path: Path, write_migration, monkeypatch) -> None:
    write_migration("def upgrade():\n    op.drop_index('ix_t_a', table_name='t')\n")
    (tmp_path / "pyproject.toml").write_text('[tool.migsafe]\nfail-on = "error"\n')
    monkeypatch.chdir(tmp_path)
    assert run("check", "versions")[0] == 0
    (tmp_path / "pyproject.toml").write_text("[tool.migsafe]\nfail_on = 1\n")
    code, output = run("check", "versions")
    assert code == 2 and "pyproject.toml: unknown key" in output


def test_rules_and_explain() -> None:
    code, output = run("rules")
    assert code == 0 and "MS004  create-index-not-concurrently" in output
    code, output = run("explain", "MS004")
    assert code == 0 and "Why is this bad?" in output and "Use instead:" in output
    code, output = run("explain", "no-such-rule")
    assert code == 2 and "unknown rule" in output


def test_python_dash_m_and_plain_output_when_piped() -> None:
    example = REPO / "examples" / "shop"
    completed = subprocess.run(
        [sys.executable, "-m", "migsafe", "check", str(example)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "\x1b[" not in completed.stdout  # no colour codes when not a terminal
    assert "rename-column" in completed.stdout
    assert "Checked 5 migrations: 4 errors, 5 warnings." in completed.stdout


def test_roundtrip_of_the_example_exits_1_and_names_the_trace(server_url: str) -> None:
    code, output = run("roundtrip", str(REPO / "examples" / "shop"), "--postgres", server_url)
    assert code == 1
    assert "downgrade-leaves-trace 1a2b3c4d5e04" in output
    assert "column public.orders.tenant_id: extra (integer)" in output
    assert "Roundtrip of 5 revisions: 4 ok, 1 downgrade-leaves-trace." in output


def test_roundtrip_passes_when_the_range_avoids_the_broken_revision(server_url: str) -> None:
    result = CliRunner().invoke(cli, ["roundtrip", str(REPO / "examples" / "shop"),
                                      "--postgres", server_url, "--to", "1a2b3c4d5e03",
                                      "--format", "json"])  # fmt: skip
    document = json.loads(result.stdout)
    assert result.exit_code == 0 and document["passed"]
    assert [r["revision"] for r in document["revisions"]] == [
        "1a2b3c4d5e01", "1a2b3c4d5e02", "1a2b3c4d5e03"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no/such/dir"], "no/such/dir: error: path does not exist"),
        (["examples/shop", "--from", "zzz"], "--from zzz: no such revision in this history"),
        (["examples/shop", "--postgres", "nonsense"], "unknown --postgres 'nonsense'"),
        (["examples/shop", "--since", "no-such-ref"], "--since: "),
    ],
)
def test_roundtrip_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["roundtrip", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_roundtrip_of_an_empty_directory_says_so(tmp_path: Path) -> None:
    code, output = run("roundtrip", str(tmp_path))
    assert code == 0 and "no migrations found" in output


def test_one_run_writes_every_report_asked_for(tmp_path: Path, write_migration) -> None:
    path = write_migration(UNSAFE)
    outputs = {name: tmp_path / f"report.{name}" for name in ("json", "junit", "markdown")}
    code, output = run(
        "check", str(path), "--format", "text",
        *(f"--output={name}={file}" for name, file in outputs.items()),
    )  # fmt: skip
    assert code == 1 and "create-index-not-concurrently" in output
    assert json.loads(outputs["json"].read_text())["findings"][0]["rule"] == (
        "create-index-not-concurrently"
    )
    assert outputs["junit"].read_text().startswith("<?xml")
    assert outputs["markdown"].read_text().startswith("## migsafe check")


def test_a_report_that_cannot_be_written_is_one_line(tmp_path: Path, write_migration) -> None:
    path = write_migration(UNSAFE)
    code, output = run("check", str(path), "--output", f"json={tmp_path / 'no' / 'x.json'}")
    # said before the run (a tester's roundtrip said so only after all its revisions)
    assert code == 2 and f"no directory {str(tmp_path / 'no')!r}" in output
    assert "create-index-not-concurrently" not in output
    (tmp_path / "x.json").mkdir()  # a directory: said before the run too
    code, output = run("check", str(path), "--output", f"json={tmp_path / 'x.json'}")
    assert code == 2 and "is a directory, not a file" in output
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "x.json").mkdir()
    (tmp_path / "ro" / "x.json" / "inside").write_text("")
    code, output = run(
        "check", str(path), "--output", f"json={tmp_path / 'ro' / 'x.json' / 'inside' / 'y'}"
    )
    assert code == 2 and "no directory" in output
    code, output = run("check", str(path), "--output", "yaml=x.yaml")
    assert code == 2 and "expected FORMAT=PATH" in output


def test_check_with_nothing_named_and_no_project_here_is_an_error(
    tmp_path: Path, monkeypatch
) -> None:
    """A pre-commit hook or a CI step run from a repository whose project is in backend/
    passed, checking nothing; a directory named that holds no migration still passes."""
    monkeypatch.chdir(tmp_path)
    code, output = run("check")
    assert code == 2 and "no Alembic project in" in output
    code, output = run("check", str(tmp_path))
    assert code == 0 and "no migrations found" in output

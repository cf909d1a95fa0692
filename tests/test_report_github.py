"""GitHub Actions annotations: escaped as the Actions toolkit escapes them, located relative to
the workspace, and printed by the text output too when running in a GitHub Actions job."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from migsafe.cli import cli
from migsafe.findings import CheckResult, Diagnostic, Finding, Severity
from migsafe.report import renderer
from migsafe.report.github import escape_data, escape_property, finding_annotation
from migsafe.roundtrip.result import RevisionResult, RoundtripResult, Verdict
from migsafe.runner.migrator import StepError

UNSAFE = "def upgrade():\n    op.create_index('ix_t_a', 't', ['a'])\n"


@pytest.fixture(autouse=True)
def _outside_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test says which of GitHub's variables it sets (the suite may run in a job)."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", "--no-cache", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def finding(**changes: object) -> Finding:
    values: dict = {
        "code": "MS004", "rule": "create-index-not-concurrently", "severity": Severity.ERROR,
        "path": Path("versions/a1.py"), "line": 7, "revision": "a1", "message": "bad",
        "hint": "recipe\nover lines", "help": "do this", "end_line": 9, "column": 5,
    }  # fmt: skip
    values.update(changes)
    return Finding(**values)


def test_escaping_matches_the_actions_toolkit() -> None:
    text = "100% done\r\nnext: a, b"
    assert escape_data(text) == "100%25 done%0D%0Anext: a, b"
    assert escape_property(text) == "100%25 done%0D%0Anext%3A a%2C b"
    assert escape_data("%0A") == "%250A"  # the percent sign first: no double decoding


def test_message_title_and_path_are_escaped(tmp_path: Path) -> None:
    line = finding_annotation(
        finding(
            path=tmp_path / "odd, name: 100%.py", rule="a,b:c",
            message='50% of "t", then:\r\nmore', help="use x, y: z",
        ),
        tmp_path,
    )  # fmt: skip
    assert line == (
        "::error file=odd%2C name%3A 100%25.py,line=7,endLine=9,col=5,"
        "title=MS004 a%2Cb%3Ac::50%25 of \"t\", then:%0D%0Amore%0Ause x, y: z"
    )  # fmt: skip


def test_severities_and_unknown_positions(tmp_path: Path) -> None:
    warning = finding_annotation(finding(severity=Severity.WARNING, end_line=None), tmp_path)
    notice = finding_annotation(finding(severity=Severity.NOTICE, column=None, help=""), tmp_path)
    assert warning.startswith("::warning file=")
    assert ",line=7,col=5,title=" in warning  # no endLine when it is not known
    assert notice.startswith("::notice file=") and ",line=7,endLine=9,title=" in notice
    assert notice.endswith("::bad")  # no help: no second line


def test_check_github_format_relative_to_the_workspace(
    tmp_path: Path, write_migration, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_migration(UNSAFE, name="with, comma: and colon.py")
    (tmp_path / "versions" / "broken.py").write_text("revision = 'x'\ndef upgrade(:\n")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    monkeypatch.chdir(tmp_path / "versions")  # the working directory does not matter
    code, output = run("--format", "github", ".")
    assert code == 2
    lines = output.splitlines()
    assert lines[0] == (
        "::error file=versions/with%2C comma%3A and colon.py,line=10,endLine=10,col=5,"
        "title=MS004 create-index-not-concurrently::"
        'CREATE INDEX "ix_t_a" takes a SHARE lock on "t": all writes (INSERT, UPDATE, DELETE) '
        "to it wait until the index is built.%0ACreate the index with "
        "postgresql_concurrently=True inside an autocommit_block()."
    )
    assert lines[1].startswith("::warning file=versions/with%2C comma%3A and colon.py,line=")
    assert lines[2].startswith(
        "::error file=versions/broken.py,line=2,title=migsafe%3A input error::"
    )
    assert "syntax error" in lines[2]
    assert lines[3].startswith("Checked 1 migration: 1 error, 1 warning; 1 input error")
    assert len(lines) == 4


def test_a_file_outside_the_workspace_keeps_its_absolute_path(
    tmp_path: Path, write_migration, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_migration(UNSAFE)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "elsewhere"))
    _, output = run("--format", "github", str(path))
    assert output.startswith(f"::error file={escape_property(str(path.resolve()))},line=10,")


def test_text_output_annotates_in_github_actions(
    tmp_path: Path, write_migration, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_migration(UNSAFE)
    monkeypatch.chdir(tmp_path)
    _, plain = run("versions")
    assert "::" not in plain
    monkeypatch.setenv("GITHUB_ACTIONS", "false")
    assert run("versions")[1] == plain

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, output = run("versions")
    assert code == 1
    annotations, _, rest = output.partition("versions/a1.py:10 error MS004")
    assert annotations.splitlines()[0].startswith(
        "::error file=versions/a1.py,line=10,endLine=10,col=5,title=MS004 "
    )
    assert annotations.splitlines()[1].startswith("::warning file=versions/a1.py,")
    assert "versions/a1.py:10 error MS004" + rest == plain  # then the usual output


def test_roundtrip_annotations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    result = RoundtripResult(
        revisions=[
            RevisionResult("r1", tmp_path / "v" / "r1.py", "First."),
            RevisionResult(
                "r2", tmp_path / "v" / "r2.py", "Second, then: more.", Verdict.UPGRADE_FAILED,
                error=StepError("upgrade", "boom", 12, "ALTER TABLE t"),
            ),
        ],
        drift=["column t.y: only in the model"],
    )  # fmt: skip
    out = io.StringIO()
    renderer("roundtrip", "github")(result, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "::error file=v/r2.py,line=12,title=roundtrip%3A upgrade-failed::r2 (Second, then: "
        "more.): upgrade failed.%0Aupgrade failed at line 12: boom%0ASQL: ALTER TABLE t"
    )
    assert lines[1] == (
        "::error title=model drift::the models and the migrated database differ:"
        "%0Acolumn t.y: only in the model"
    )
    assert lines[2].startswith("Roundtrip of 2 revisions: 1 ok, 1 upgrade-failed")

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    out = io.StringIO()
    renderer("roundtrip", "text")(result, out)
    assert "::" not in out.getvalue()  # a report file: no annotations
    monkeypatch.setattr("sys.stdout", out)
    renderer("roundtrip", "text")(result, out)
    assert lines[0] in out.getvalue().splitlines()  # the job's log: annotated


def test_diagnostic_without_a_path(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    result = CheckResult(diagnostics=[Diagnostic(None, "bad, really: bad", fatal=True)])
    renderer("check", "github")(result, out)
    first = out.getvalue().splitlines()[0]
    assert first == "::error title=migsafe%3A input error::bad, really: bad"

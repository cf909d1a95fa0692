"""SARIF output: valid against the official 2.1.0 schema, locations relative to the repository
root as GitHub code scanning expects, rule metadata for the rules that appear."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest
from click.testing import CliRunner

from migsafe.cli import cli
from migsafe.findings import Diagnostic
from migsafe.report import renderer
from migsafe.report.sarif import physical_location
from migsafe.roundtrip.result import RevisionResult, RoundtripResult, Verdict
from migsafe.runner.migrator import StepError
from migsafe.schema.diff import Change

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
UNSAFE = "def upgrade():\n    op.create_index('ix_t_a', 't', ['a'])\n"


def validate(document: dict) -> None:
    validator = jsonschema.Draft4Validator(
        SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def sarif(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--format", "sarif", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    document = json.loads(result.stdout)
    validate(document)
    return result.exit_code, document


def git_init(directory: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(directory)], check=True)


def test_shop_is_valid_sarif_with_rules_and_relative_locations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO / "examples")  # the repository root is git's, not the directory
    code, document = sarif("shop")
    assert code == 1
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "migsafe" and driver["version"]
    assert driver["informationUri"].startswith("https://")
    assert run["invocations"] == [{"executionSuccessful": True}]

    results = run["results"]
    assert len(results) == 9
    assert {r["level"] for r in results} == {"error", "warning"}
    rules = driver["rules"]
    assert len({r["id"] for r in rules}) == len(rules) == 8  # each rule once
    for result in results:
        rule = rules[result["ruleIndex"]]
        assert result["ruleId"] == rule["id"]
        assert re.fullmatch(r"MS\d{3}", rule["id"])  # the code; the name is the rule's name
        assert rule["helpUri"].endswith(f"/docs/rules/{rule['name']}.md")
        assert rule["defaultConfiguration"]["level"] == result["level"]
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] in rule["help"]["markdown"]
        assert rule["properties"]["category"] in rule["properties"]["tags"]
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert artifact["uri"].startswith("examples/shop/migrations/versions/2026-11-")
    index = next(r for r in rules if r["name"] == "create-index-not-concurrently")
    assert "postgresql_concurrently=True" in index["help"]["markdown"]  # its good example
    first = next(r for r in results if r["ruleId"] == "MS001")
    assert first["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 17, "endLine": 17, "startColumn": 5,
    }  # fmt: skip
    assert first["properties"]["revision"] == "1a2b3c4d5e03"
    missing = next(r for r in results if r["ruleId"] == "MS007")
    assert missing["locations"][0]["physicalLocation"]["region"] == {"startLine": 23}


def test_input_errors_are_notifications_and_fail_the_execution(
    tmp_path: Path, write_migration, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_migration(UNSAFE, revision="good")
    (tmp_path / "versions" / "broken.py").write_text("revision = 'x'\ndef upgrade(:\n")
    monkeypatch.chdir(tmp_path)  # no repository: relative to the working directory
    code, document = sarif("versions")
    assert code == 2
    (run,) = document["runs"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert "syntax error" in notification["message"]["text"]
    location = notification["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "versions/broken.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == 2
    assert "MS004" in [r["ruleId"] for r in run["results"]]  # the good file still checked


def test_uris_are_relative_to_the_git_top_level_and_percent_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import migration_source

    repository = tmp_path / "my repo"
    versions = repository / "db" / "mes migrations"
    versions.mkdir(parents=True)
    name = "2026 añadir índice #1.py"
    (versions / name).write_text(migration_source(UNSAFE), encoding="utf-8")
    git_init(repository)
    monkeypatch.chdir(versions)  # anywhere below the top-level
    code, document = sarif(".")
    assert code == 1
    (result,) = [r for r in document["runs"][0]["results"] if r["ruleId"] == "MS004"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact["uri"] == "db/mes%20migrations/2026%20a%C3%B1adir%20%C3%ADndice%20%231.py"
    assert unquote(artifact["uri"]) == f"db/mes migrations/{name}"


def test_a_file_outside_the_root_is_an_absolute_file_uri(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "else where" / "x.py"
    location = physical_location(outside, root, 3, None, None)["physicalLocation"]
    assert location["artifactLocation"] == {"uri": outside.resolve().as_uri()}
    assert "%20" in location["artifactLocation"]["uri"]
    assert location["region"] == {"startLine": 3}
    # a leading name with a colon must not read as a URI scheme
    uri = physical_location(root / "c:d.py", root)["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "c%3Ad.py"


def test_roundtrip_sarif_has_failed_revisions_and_drift(tmp_path: Path) -> None:
    path = tmp_path / "versions" / "r2.py"
    result = RoundtripResult(
        revisions=[
            RevisionResult("r1", tmp_path / "versions" / "r1.py", "First."),
            RevisionResult(
                "r2", path, "Second.", Verdict.DOWNGRADE_LEAVES_TRACE,
                error=StepError("re-upgrade", "DuplicateColumn: x", 12, "ALTER TABLE t ..."),
                changes=[Change("column", "public.t.x", "extra", ("integer",))],
            ),
            RevisionResult("r3", tmp_path / "versions" / "r3.py", "", Verdict.SKIPPED),
        ],
        drift=["column t.y: only in the model"],
        diagnostics=[Diagnostic(None, "env.py could not be read", fatal=False)],
    )  # fmt: skip
    out = io.StringIO()
    renderer("roundtrip", "sarif")(result, out)
    document = json.loads(out.getvalue())
    validate(document)
    (run,) = document["runs"]
    (failure,) = run["results"]
    assert failure["ruleId"] == "downgrade-leaves-trace" and failure["level"] == "error"
    assert "column public.t.x: extra (integer)" in failure["message"]["text"]
    assert failure["locations"][0]["physicalLocation"]["region"] == {"startLine": 12}
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["id"] == "downgrade-leaves-trace" and rule["helpUri"].endswith("#verdicts")
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["note", "error"]
    assert notes[1]["message"]["text"] == "model drift: column t.y: only in the model"
    assert run["invocations"][0]["executionSuccessful"] is True

"""Golden outputs: every format of ``check`` and ``roundtrip`` on examples/shop, compared
with a committed file in tests/golden/.

Other tests assert fragments; these pin the whole output, so that any change to a reporter
(wording, order, escaping, a field added or lost) shows up as a diff that someone reviews
and commits. Only stdout (the report) is pinned, and only what legitimately varies between
machines and runs is normalized (see ``NORMALIZE``): the golden files are text for diffing,
so the raw json and junit are parsed before that. A format added to ``FORMATS`` fails until
its file exists. After an intended change, regenerate and review the diff:

    MIGSAFE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_golden.py
"""

from __future__ import annotations

import difflib
import io
import json
import os
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from migsafe import command
from migsafe.cli import cli
from migsafe.report import format_names, renderer

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MIGSAFE_UPDATE_GOLDEN") == "1"
HOW = "MIGSAFE_UPDATE_GOLDEN=1 pytest tests/test_golden.py, then review `git diff tests/golden`"

NORMALIZE = [
    # a guard: paths are shown relative to the working directory (the repository), so an
    # absolute one would be a change worth seeing, but never this machine's path in a file
    (re.compile(re.escape(str(REPO))), "<repo>"),
    # the embedded server's URL (socket directory, port) in the roundtrip provider
    (re.compile(r"postgresql(\+\w+)?://[^\s\",]+"), "<server-url>"),
    # durations: json "seconds", junit time="...", text "(path, 0.03 s)"
    (re.compile(r'"seconds": [0-9.]+'), '"seconds": <seconds>'),
    (re.compile(r'\btime="[0-9.]+"'), 'time="<seconds>"'),
    (re.compile(r", [0-9.]+ s\)"), ", <seconds> s)"),
    # migsafe's own version in SARIF's tool.driver: a release is no change of the format
    (re.compile(r'("name": "migsafe",\s+"version": )"[^"]+"'), r'\1"<version>"'),
]

# The raw output must be a well-formed document before it is normalized.
PARSE = {"json": json.loads, "junit": ElementTree.fromstring, "sarif": json.loads}

# Variables that make rich write colour codes even into a pipe, and GitHub's, which add
# annotations to the text output and change what annotation paths are relative to.
NO_FORCED_COLOUR = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None,
                    "GITHUB_ACTIONS": None, "GITHUB_WORKSPACE": None}  # fmt: skip


def normalize(output: str) -> str:
    for pattern, replacement in NORMALIZE:
        output = pattern.sub(replacement, output)
    return output


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    """The CLI as a user runs it from the repository root: exit code and stdout."""
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, list(args), env=NO_FORCED_COLOUR)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def assert_golden(name: str, output: str, output_format: str) -> None:
    if output_format in PARSE:
        PARSE[output_format](output)
    actual = normalize(output)
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file tests/golden/{name}; create it with {HOW}", pytrace=False)
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            f"tests/golden/{name}", "actual output",
        )  # fmt: skip
        pytest.fail(f"output differs from tests/golden/{name}:\n{''.join(diff)}\nif the "
                    f"change is intended, update with {HOW}", pytrace=False)  # fmt: skip


@pytest.mark.parametrize("output_format", format_names("check"))
def test_check_output(output_format: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run(
        monkeypatch, "check", "examples/shop", "--no-cache", "--format", output_format
    )
    assert code == 1  # the shop has errors and warnings
    assert_golden(f"check.{output_format}", output, output_format)


@pytest.mark.parametrize("output_format", format_names("roundtrip"))
def test_roundtrip_output(
    output_format: str, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = run(
        monkeypatch, "roundtrip", "examples/shop", "--postgres", server_url,
        "--format", output_format,
    )  # fmt: skip
    assert code == 1  # 1a2b3c4d5e04's empty downgrade leaves a trace
    assert_golden(f"roundtrip.{output_format}", output, output_format)


class _CountedWrites(io.StringIO):
    """A pipe that counts the writes it is given."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.mark.parametrize("output_format", format_names("check"))
def test_check_report_is_one_write(output_format: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unbuffered standard output (``PYTHONUNBUFFERED=1``, set by many CI images) makes
    each write a system call: ``json.dump`` wrote mlflow's report in 9,000 of them."""
    for name in NO_FORCED_COLOUR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO)
    result = command.check(REPO / "examples" / "shop")
    assert result.findings  # something to write
    out = _CountedWrites()
    renderer("check", output_format)(result, out)
    assert out.writes == 1
    assert_golden(f"check.{output_format}", normalize(out.getvalue()), output_format)

"""The Markdown summary: the verdict first, a section per revision with its findings and locks,
and never over GitHub's 1 MiB step-summary limit however much there is to say."""

from __future__ import annotations

import io
import re
from pathlib import Path

from migsafe.findings import CheckResult, Diagnostic, Finding, RevisionLocks, Severity
from migsafe.report import renderer
from migsafe.report.markdown import BUDGET, document

GITHUB_LIMIT = 1024 * 1024


def finding(index: int, path: Path, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(
        code="MS004", rule="create-index-not-concurrently", severity=severity, path=path,
        line=10 + index, revision=path.stem,
        message=f'CREATE INDEX "ix_{index}" takes a SHARE lock on "t{index}": ' + "w" * 200,
        hint=f'with op.get_context().autocommit_block():\n    op.create_index("ix_{index}")\n'
        + "# more\n" * 20,
        help="Create the index with postgresql_concurrently=True.",
        url="https://example.org/rules/create-index-not-concurrently.md",
    )  # fmt: skip


def synthetic(revisions: int, per_revision: int) -> CheckResult:
    result = CheckResult(checked=revisions)
    for r in range(revisions):
        path = Path(f"versions/rev{r:05}.py")
        result.revisions.append(RevisionLocks(path, f"rev{r:05}", (('"t"', "SHARE"),)))
        result.paths.append(path)
        result.findings.extend(finding(i, path) for i in range(per_revision))
    return result


def render(result: CheckResult) -> str:
    out = io.StringIO()
    renderer("check", "markdown")(result, out)
    return out.getvalue()


def test_a_small_result_is_complete_and_starts_with_the_verdict() -> None:
    result = synthetic(3, 2)
    result.revisions[1] = RevisionLocks(Path("versions/rev00001.py"), "rev00001", ())
    result.findings.append(finding(9, Path("versions/outside.py"), Severity.NOTICE))
    result.diagnostics.append(Diagnostic(Path("versions/x.py"), "could not run | offline", False))
    text = render(result)
    lines = text.splitlines()
    assert lines[0] == "## migsafe check: ❌ failed"
    assert lines[2] == (
        "Checked 3 migrations: 6 errors, 1 notice; 1 note on what could not be checked."
    )
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == [
        "### ❌ `rev00000` · `versions/rev00000.py`",
        "### ❌ `rev00001` · `versions/rev00001.py`",
        "### ❌ `rev00002` · `versions/rev00002.py`",
        "### 💬 `outside` · `versions/outside.py`",
    ]  # in history order, then the findings in no revision of it
    assert text.count("](https://example.org/rules/create-index-not-concurrently.md) |") == 7
    assert "| ❌ | 10 | [create-index-not-concurrently](" in text
    assert text.count("<details>") == 7 and text.count("</details>") == 7
    assert '- `"t"`: SHARE — blocks all writes (INSERT, UPDATE, DELETE)' in text
    assert "No lock on a table that existed before it." in text  # rev00001
    assert lines[-1] == "- versions/x.py: notice: could not run \\| offline"  # diagnostics last
    assert "✂️" not in text and "left out" not in text


def test_a_clean_result_passes() -> None:
    result = CheckResult(checked=1, revisions=[RevisionLocks(Path("a.py"), "a")])
    text = render(result)
    assert text.startswith("## migsafe check: ✅ passed\n\nChecked 1 migration: no problems.\n")
    assert "### ✅ `a` · `a.py`\n\nNo findings.\n" in text


def test_thousands_of_findings_stay_under_the_step_summary_limit() -> None:
    result = synthetic(2_000, 3)  # several MB in full
    text = render(result)
    size = len(text.encode("utf-8"))
    assert size <= BUDGET < GITHUB_LIMIT
    assert size > BUDGET * 0.9  # cut near the budget, not far below
    assert text.startswith("## migsafe check: ❌ failed\n\nChecked 2000 migrations: 6000 errors.")
    assert "<details>" not in text  # the recipes went first
    note = text.splitlines()[-1]
    match = re.search(r"(\d+) revisions and (\d+) findings left out, and every recipe", note)
    assert match is not None, note
    shown = text.count("| ❌ |")
    assert int(match[2]) == 6_000 - shown
    assert int(match[1]) == 2_000 - text.count("### ")  # not begun; cut short: its findings
    assert "--format json" in note and "--format sarif" in note


def test_recipes_are_dropped_before_any_section() -> None:
    result = synthetic(20, 2)
    full = document(result, budget=10**9)
    lean_budget = len(full.encode()) - 1  # the recipes alone make it too long
    text = document(result, budget=lean_budget)
    assert "<details>" not in text and text.count("### ") == 20 and text.count("| ❌ |") == 40
    assert "recipes were left out" in text.splitlines()[-1]


def test_one_huge_revision_is_cut_between_its_findings() -> None:
    result = synthetic(1, 5_000)
    result.diagnostics.append(Diagnostic(Path("broken.py"), "syntax error", True))
    text = document(result, budget=100_000)
    assert len(text.encode()) <= 100_000
    assert text.count("### ") == 1 and 0 < text.count("| ❌ |") < 5_000
    note = text.splitlines()[-1]
    assert re.search(r": \d+ findings and 1 input problem left out", note), note

"""The generated rule reference must match the rules, and the README's commands must exist."""

from __future__ import annotations

from pathlib import Path

from migsafe.explain import rule_docs

REPO = Path(__file__).resolve().parents[1]


def test_rules_reference_is_current() -> None:
    generated = rule_docs()
    for relative, text in generated.items():
        path = REPO / "docs" / relative
        assert path.is_file() and path.read_text(encoding="utf-8") == text, (
            f"docs/{relative} is stale: regenerate with `migsafe rules --docs docs`"
        )
    pages = {f"rules/{p.name}" for p in (REPO / "docs" / "rules").glob("*.md")}
    assert pages == {r for r in generated if r.startswith("rules/")}, "a page of no rule"


def test_readme_names_the_test_command_that_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    command = ".venv/bin/pip install -q -e '.[dev]' && .venv/bin/python -m pytest"
    assert f"python3 -m venv .venv && {command}" in readme  # works on Debian's system Python
    assert "python3 -m venv .venv" in ci
    assert "pip install --quiet -e '.[dev]'" in ci
    assert "\n.venv/bin/python -m pytest\n" in ci

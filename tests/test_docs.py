"""The generated rule reference must match the rules, and the README's commands must exist."""

from __future__ import annotations

from pathlib import Path

from migsafe.explain import rules_markdown

REPO = Path(__file__).resolve().parents[1]


def test_rules_reference_is_current() -> None:
    current = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == rules_markdown(), "regenerate: migsafe rules --markdown > docs/rules.md"


def test_readme_names_the_test_command_that_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    command = ".venv/bin/pip install -q -e '.[dev]' && .venv/bin/python -m pytest"
    assert f"python3 -m venv .venv && {command}" in readme  # works on Debian's system Python
    assert "python3 -m venv .venv" in ci
    assert "pip install --quiet -e '.[dev]'" in ci
    assert "\n.venv/bin/python -m pytest\n" in ci

"""Which rules run and how severe they are: select / extend-select / ignore (names, codes,
code prefixes, ALL), per-rule severity, exclude globs, unused ignores; the command line over
[tool.migsafe]."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from migsafe import command
from migsafe.cli import cli
from migsafe.config import Overrides
from migsafe.rules import all_rules, enabled_rules

TWO_PROBLEMS = (
    "def upgrade():\n"
    "    op.create_index('ix_t_a', 't', ['a'])\n"
    "    op.alter_column('t', 'a', new_column_name='b')\n\n"
    "def downgrade():\n"
    "    op.execute('SELECT 1')\n"
)


def rules_found(path: Path, **overrides: object) -> list[str]:
    result = command.check([path], overrides=Overrides(**overrides))  # type: ignore[arg-type]
    return sorted(f.rule for f in result.findings)


def test_by_default_every_rule_but_the_opt_in_ones_runs() -> None:
    defaults = enabled_rules(None, (), ())
    assert defaults == {r.name for r in all_rules() if not r.opt_in}
    assert enabled_rules(None, ["ALL"], ()) == {r.name for r in all_rules()}


def test_select_names_codes_and_prefixes(write_migration) -> None:
    path = write_migration(TWO_PROBLEMS)
    assert rules_found(path) == ["create-index-not-concurrently", "rename-column"]
    assert rules_found(path, select=("MS004",)) == ["create-index-not-concurrently"]
    assert rules_found(path, select=("rename-column",)) == ["rename-column"]
    assert rules_found(path, select=("MS00",)) == ["create-index-not-concurrently", "rename-column"]
    assert rules_found(path, ignore=("MS00",)) == []
    assert rules_found(path, select=("ALL",), ignore=("ms001",)) == [
        "create-index-not-concurrently"
    ]


def test_the_command_line_selects_over_the_project(tmp_path: Path, write_migration) -> None:
    path = write_migration(TWO_PROBLEMS)
    (tmp_path / "pyproject.toml").write_text('[tool.migsafe]\nselect = ["MS001"]\n')
    assert rules_found(path) == ["rename-column"]
    assert rules_found(path, select=("MS004",)) == ["create-index-not-concurrently"]
    assert rules_found(path, extend_select=("MS004",)) == [
        "create-index-not-concurrently", "rename-column",
    ]  # fmt: skip


def test_a_rule_can_be_made_less_severe(tmp_path: Path, write_migration) -> None:
    path = write_migration(TWO_PROBLEMS)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.migsafe]\nfail-on = "error"\n\n[tool.migsafe.severity]\n'
        'create-index-not-concurrently = "warning"\nMS001 = "notice"\n'
    )
    result = command.check([path])
    assert {f.rule: str(f.severity) for f in result.findings} == {
        "create-index-not-concurrently": "warning", "rename-column": "notice",
    }  # fmt: skip
    assert result.exit_code == 0  # nothing left at error


def test_excluded_scripts_run_but_are_not_judged(tmp_path: Path, write_migration) -> None:
    write_migration(
        "def upgrade():\n    op.create_table('t', sa.Column('a', sa.Integer()))\n"
        "    op.create_index('ix_t_a', 't', ['a'])\n",
        revision="a1", name="0001_legacy.py",
    )  # fmt: skip
    write_migration(
        "def upgrade():\n    op.create_index('ix_t_b', 't', ['a'])\n",
        revision="b2", down_revision="a1", name="0002_new.py",
    )  # fmt: skip
    (tmp_path / "pyproject.toml").write_text('[tool.migsafe]\nexclude = ["versions/0001_*.py"]\n')
    result = command.check([tmp_path / "versions"])
    assert result.checked == 1
    assert {(f.path.name, f.rule) for f in result.findings} == {
        ("0002_new.py", "create-index-not-concurrently"),
        ("0002_new.py", "missing-downgrade"),
    }  # the table the excluded script made is an existing table for the next one


def test_an_ignore_that_hides_nothing_can_be_reported(write_migration) -> None:
    path = write_migration(
        "def upgrade():\n"
        "    # migsafe: ignore[rename-column]\n"
        "    op.create_index('ix_t_a', 't', ['a'])  # migsafe: ignore[MS004]\n\n"
        "def downgrade():\n    op.execute('SELECT 1')\n"
    )
    quiet = command.check([path])
    assert quiet.findings == [] and quiet.diagnostics == []
    loud = command.check([path], overrides=Overrides(report_unused_ignores=True))
    assert [(d.line, d.message) for d in loud.diagnostics] == [
        (10, "# migsafe: ignore hides no finding here: remove it")
    ]


@pytest.mark.parametrize(
    ("args", "pyproject", "message"),
    [
        (["--select", "MS9"], "", "--select: no rule named 'MS9'"),
        (["--extend-select", "prefer-everything"], "", "--extend-select: no rule named"),
        ([], '[tool.migsafe]\nselect = ["nope"]\n', "[tool.migsafe] select: no rule named 'nope'"),
        ([], '[tool.migsafe.severity]\nMS004 = "fatal"\n', "severity] MS004: unknown severity"),
        ([], '[tool.migsafe]\nexclude = "versions"\n', "exclude must be a list of path globs"),
        ([], '[tool.migsafe.severity]\nMS404 = "notice"\n', "severity: no rule named 'MS404'"),
    ],
)
def test_bad_selection_is_one_line(
    tmp_path: Path, write_migration, args: list[str], pyproject: str, message: str
) -> None:
    path = write_migration(TWO_PROBLEMS)
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    result = CliRunner().invoke(cli, ["check", "--no-cache", str(path), *args])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert message in line, line


def test_the_command_line_options_reach_the_check(write_migration) -> None:
    path = write_migration(TWO_PROBLEMS)
    result = CliRunner().invoke(
        cli, ["check", "--no-cache", str(path), "--select", "MS004", "--format", "json"]
    )
    assert result.exit_code == 1 and '"rule": "rename-column"' not in result.stdout

"""Every rule on its own examples: the bad ones are flagged, the good ones are not."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from migsafe.check import check_trusted_file
from migsafe.config import Settings
from migsafe.explain import run_example
from migsafe.rule import py_literal
from migsafe.rules import all_rules, rule_modules
from tests.conftest import migration_source

EXAMPLES = [
    pytest.param(rule, kind, index, source, id=f"{rule.name}-{kind}{index}")
    for rule in all_rules()
    for kind, sources in (("bad", rule.bad), ("good", rule.good))
    for index, source in enumerate(sources)
]


def check_source(tmp_path: Path, source: str, pg_version: int = 15):
    path = tmp_path / "example.py"
    path.write_text(migration_source(source), encoding="utf-8")
    report = check_trusted_file(path, Settings(pg_version=pg_version))
    return report.findings, report.diagnostics


@pytest.mark.parametrize(("rule", "kind", "index", "source"), EXAMPLES)
def test_rule_examples(rule, kind: str, index: int, source: str) -> None:
    findings, notes = run_example(rule, source, pg_version=15)
    codes = [f.code for f in findings]
    assert notes == [], "examples must run offline and parse"
    if kind == "bad":
        assert rule.code in codes
        finding = next(f for f in findings if f.code == rule.code)
        assert finding.line > 0 and finding.hint and finding.message
        ast.parse(finding.hint)  # a recipe the user can paste
    else:
        assert rule.code not in codes


# a revision rule whose verdict depends on what env.py configures: no script alone shows it
NEED_ENV_PY = {
    "autocommit-without-transaction-per-migration",
    "lock-timeout-missing",
    "statement-timeout-missing",
}


def test_every_revision_rule_has_examples() -> None:
    for module in rule_modules():
        if hasattr(module, "check") and module.RULE.name not in NEED_ENV_PY:
            assert module.RULE.bad and module.RULE.good, module.RULE.name


def test_codes_and_names_are_unique() -> None:
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)


def finding_codes(tmp_path: Path, source: str, pg_version: int = 15) -> list[str]:
    return [f.code for f in check_source(tmp_path, source, pg_version)[0]]


def test_alembic_rename_without_column_keyword_is_caught(tmp_path: Path) -> None:
    # Alembic renders `ALTER TABLE users RENAME email TO mail` (no COLUMN keyword).
    source = "def upgrade():\n    op.execute('ALTER TABLE users RENAME email TO mail')\n"
    assert "MS001" in finding_codes(tmp_path, source)


def test_binary_coercible_type_changes_are_not_flagged(tmp_path: Path) -> None:
    safe = [
        ("sa.String(20)", "sa.String(40)"),
        ("sa.String(20)", "sa.Text()"),
        ("sa.String(20)", "sa.String()"),
        ("sa.Text()", "sa.String()"),
        ("sa.Numeric(10, 2)", "sa.Numeric(12, 2)"),
    ]
    for old, new in safe:
        source = (
            f"def upgrade():\n    op.alter_column('t', 'c', existing_type={old}, type_={new})\n"
        )
        assert "MS012" not in finding_codes(tmp_path, source), (old, new)


def test_type_change_with_unknown_old_type_is_flagged(tmp_path: Path) -> None:
    source = "def upgrade():\n    op.alter_column('t', 'c', type_=sa.Text())\n"
    findings, _ = check_source(tmp_path, source)
    (finding,) = [f for f in findings if f.code == "MS012"]
    assert "existing_type" in finding.message


def test_constant_default_rewrites_only_before_pg11(tmp_path: Path) -> None:
    source = (
        "def upgrade():\n    op.add_column('t', sa.Column('c', sa.Integer(), server_default='0'))\n"
    )
    assert "MS013" not in finding_codes(tmp_path, source, pg_version=15)
    assert "MS013" in finding_codes(tmp_path, source, pg_version=10)


def test_now_default_is_stable_but_clock_timestamp_is_volatile(tmp_path: Path) -> None:
    template = (
        "def upgrade():\n"
        "    op.add_column('t', sa.Column('c', sa.DateTime(), server_default=sa.text('{f}')))\n"
    )
    assert "MS013" not in finding_codes(tmp_path, template.format(f="now()"))
    assert "MS013" in finding_codes(tmp_path, template.format(f="clock_timestamp()"))


def test_set_not_null_after_validated_check_is_fine_on_pg12(tmp_path: Path) -> None:
    good = next(r for r in all_rules() if r.name == "set-not-null").good[1]
    assert "MS011" not in finding_codes(tmp_path, good, pg_version=12)
    assert "MS011" in finding_codes(tmp_path, good, pg_version=11)


def test_unique_hint_never_suggests_not_valid(tmp_path: Path) -> None:
    source = "def upgrade():\n    op.create_primary_key('pk_t', 't', ['id'])\n"
    findings, _ = check_source(tmp_path, source)
    (finding,) = [f for f in findings if f.code == "MS014"]
    assert "PRIMARY KEY USING INDEX" in finding.hint
    assert "NOT VALID" not in finding.hint.replace("NOT VALID does not", "")


def test_hint_reuses_the_users_own_arguments(tmp_path: Path) -> None:
    source = (
        "def upgrade():\n"
        "    op.create_index('ix_orders_ref', 'orders', ['ref', 'tenant'], unique=True)\n"
    )
    findings, _ = check_source(tmp_path, source)
    (finding,) = [f for f in findings if f.code == "MS004"]
    assert (
        'op.create_index("ix_orders_ref", "orders", ["ref", "tenant"], unique=True, '
        "postgresql_concurrently=True)" in finding.hint
    )
    assert "autocommit_block" in finding.hint


def test_index_on_table_created_in_same_revision_is_exempt(tmp_path: Path) -> None:
    source = (
        "def upgrade():\n"
        "    op.create_table('t', sa.Column('id', sa.Integer(), primary_key=True))\n"
        "    op.create_index('ix_t', 't', ['id'])\n"
        "    op.create_index('ix_u', 'u', ['id'])\n"
    )
    findings, _ = check_source(tmp_path, source)
    assert [f.line for f in findings if f.code == "MS004"] == [12]


def test_a_value_in_a_recipe_is_a_python_literal_of_itself() -> None:
    """monasca's ``server_default='\\0' * 20`` put NUL bytes and line breaks into a recipe
    inside a plain double-quoted string: not Python."""
    for value in ("plain", 'a "name"', "back\\slash", "two\nlines", "nul\x00s", "it's", "é"):
        code = py_literal(value)
        assert code.startswith('"') and ast.literal_eval(code) == value, code

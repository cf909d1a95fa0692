"""irreversible-downgrade (MS008): a downgrade() that raises, on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.lint import assert_renders, lines_flagged, lint, lint_with_notices

RULE = "irreversible-downgrade"


def test_renders_a_notice_that_rollback_needs_a_restore(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_column("users", "legacy_flags")

def downgrade():
    raise NotImplementedError("legacy_flags data is gone")
"""
    assert_renders(
        tmp_path,
        body,
        """\
        4: Revision a1 cannot be downgraded (downgrade() raises): rolling back past it needs a restore.
        # Nothing to change if one-way is intended; make sure the rollout plan covers it.
        # If it can be undone after all, write the reverse operations in downgrade().
        """,  # noqa: E501
        rule=RULE,
    )


@pytest.mark.parametrize(
    "raise_",
    [
        "raise NotImplementedError",
        "raise NotImplementedError()",
        'raise Exception("irreversible")',
        'raise RuntimeError("cannot restore deleted rows") from None',
    ],
)
def test_any_exception_raised_first_is_one_way(tmp_path: Path, raise_: str) -> None:
    body = f"""\
def upgrade():
    op.drop_table("audit_log")

def downgrade():
    {raise_}
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_docstring_comments_or_pass_before_the_raise_still_make_it_one_way(
    tmp_path: Path,
) -> None:
    body = """\
def upgrade():
    op.drop_table("audit_log")

def downgrade():
    \"\"\"Irreversible: the audit rows are gone.\"\"\"
    # see the ticket
    pass
    raise NotImplementedError()
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [4]


def test_a_raise_on_another_dialect_only_is_not_one_way(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.add_column("users", sa.Column("tags", sa.ARRAY(sa.Text())))

def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        raise NotImplementedError("PostgreSQL only")
    op.drop_column("users", "tags")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_raise_online_only_is_not_one_way_offline(tmp_path: Path) -> None:
    body = """\
from alembic import context

def upgrade():
    op.add_column("users", sa.Column("tags", sa.Text()))

def downgrade():
    if not context.is_offline_mode():
        raise NotImplementedError("run the SQL script instead")
"""
    findings, (notice,) = lint_with_notices(tmp_path, body, rule=RULE)
    assert findings == []
    assert notice.message == (
        "downgrade() asks whether it runs offline (online it raised NotImplementedError: run "
        "the SQL script instead), so it is checked as under alembic upgrade --sql; what it "
        "does online is not"
    )


def test_a_downgrade_that_does_nothing_is_missing_not_irreversible(tmp_path: Path) -> None:
    body = """\
def upgrade():
    op.drop_table("audit_log")

def downgrade():
    pass
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_raise_in_upgrade_is_not_a_one_way_downgrade(tmp_path: Path) -> None:
    body = """\
def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        raise NotImplementedError("PostgreSQL only")
    op.add_column("users", sa.Column("tags", sa.Text()))

def downgrade():
    op.drop_column("users", "tags")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []


def test_a_raise_after_a_log_line_is_still_one_way(tmp_path: Path) -> None:
    body = """\
import logging

def upgrade():
    op.drop_table("audit_log")

def downgrade():
    logging.getLogger(__name__).warning("audit_log cannot be restored")
    raise NotImplementedError("audit_log is gone")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == [6]


def test_a_downgrade_that_returns_before_its_raise_here_is_not_one_way(tmp_path: Path) -> None:
    """letta's SQLite baseline: ``if settings.letta_pg_uri_no_default: return`` before
    ``raise NotImplementedError``; where the guard returns, the downgrade does nothing."""
    body = """\
GUARD = True

def upgrade():
    pass

def downgrade():
    if GUARD:
        return
    raise NotImplementedError("SQLite downgrade is not supported")
"""
    assert lines_flagged(tmp_path, body, rule=RULE) == []
    assert len(lint(tmp_path, body.replace("GUARD = True", "GUARD = False"), rule=RULE)) == 1

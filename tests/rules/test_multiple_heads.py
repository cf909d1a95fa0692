"""multiple-heads (MS016): the revision history has more than one head."""

from __future__ import annotations

from pathlib import Path

from migsafe import command
from tests.conftest import migration_source

RULE = "multiple-heads"
UPGRADE = "def upgrade():\n    pass\n"


def write(
    versions: Path, revision: str, down_revision: object = None, branch_labels: object = None
) -> Path:
    """One revision file in ``versions``, with an empty upgrade()."""
    source = migration_source(UPGRADE, revision, down_revision).replace(
        "branch_labels = None", f"branch_labels = {branch_labels!r}"
    )
    path = versions / f"{revision}.py"
    path.write_text(source, encoding="utf-8")
    return path


def heads_flagged(versions: Path) -> list[str]:
    return [f.revision for f in command.check(versions).findings if f.rule == RULE]


def test_two_heads_are_each_flagged_with_the_merge_command(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", "a")
    write(tmp_path, "c", "a")
    result = command.check(tmp_path)
    first, second = (f for f in result.findings if f.rule == RULE)
    assert (first.path.name, first.line) == ("b.py", 4)
    assert first.message == (
        "Revision b is a head, and so is c: `alembic upgrade head` refuses to run."
    )
    assert first.hint == (
        "# merge the heads into one revision (then check that their operations do not "
        'conflict):\nalembic merge -m "merge heads" b c'
    )
    assert second.message.startswith("Revision c is a head, and so is b:")
    assert result.exit_code == 1


def test_a_merge_revision_leaves_one_head(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", "a")
    write(tmp_path, "c", "a")
    write(tmp_path, "m", ("b", "c"))
    assert heads_flagged(tmp_path) == []


def test_three_heads_each_name_the_other_two(tmp_path: Path) -> None:
    write(tmp_path, "a")
    for head in ("b", "c", "d"):
        write(tmp_path, head, "a")
    findings = [f for f in command.check(tmp_path).findings if f.rule == RULE]
    assert [f.message.split(":")[0] for f in findings] == [
        "Revision b is a head, and so is c, d",
        "Revision c is a head, and so is b, d",
        "Revision d is a head, and so is b, c",
    ]
    assert {f.hint.splitlines()[-1] for f in findings} == {'alembic merge -m "merge heads" b c d'}


def test_a_depends_on_does_not_merge_two_heads(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", "a")
    (tmp_path / "c.py").write_text(
        migration_source(UPGRADE, "c", "a").replace("depends_on = None", "depends_on = 'b'")
    )
    assert heads_flagged(tmp_path) == ["b", "c"]


def test_independent_branches_with_their_own_labels_are_deliberate(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", "a")
    write(tmp_path, "n1", None, ("networking",))
    write(tmp_path, "n2", "n1")
    assert heads_flagged(tmp_path) == []


def test_a_labelled_branch_taken_off_the_main_line_is_deliberate(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", "a")
    write(tmp_path, "f", "a", ("feature",))
    assert heads_flagged(tmp_path) == []


def test_a_fork_inside_a_labelled_branch_is_flagged(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "n1", None, ("networking",))
    write(tmp_path, "n2", "n1")
    write(tmp_path, "n3", "n1")
    assert heads_flagged(tmp_path) == ["n2", "n3"]


def test_a_fork_beside_a_labelled_branch_names_only_its_own_heads(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", "a")
    write(tmp_path, "c", "a")
    write(tmp_path, "n1", None, ("networking",))
    findings = [f for f in command.check(tmp_path).findings if f.rule == RULE]
    assert [f.revision for f in findings] == ["b", "c"]
    assert findings[0].hint.endswith('alembic merge -m "merge heads" b c')


def test_a_suppression_by_code_on_the_revision_line_hides_that_head(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", "a")
    c = write(tmp_path, "c", "a")
    suppressed = "revision = 'c'  # migsafe: ignore[ms016]"
    c.write_text(c.read_text().replace("revision = 'c'", suppressed))
    assert heads_flagged(tmp_path) == ["b"]


def test_a_missing_down_revision_is_reported_once_not_as_heads(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", "a")
    write(tmp_path, "c", "b_typo")
    result = command.check(tmp_path)
    assert [d.message for d in result.diagnostics] == [
        "down_revision 'b_typo' names no revision in this history"
    ]
    assert [f for f in result.findings if f.rule == RULE] == []


def test_one_file_checked_alone_is_not_a_history(tmp_path: Path) -> None:
    write(tmp_path, "a")
    write(tmp_path, "b", "a")
    c = write(tmp_path, "c", "a")
    assert heads_flagged(c) == []

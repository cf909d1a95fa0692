"""duplicate-slug (MS057): two revision files whose names carry the same slug."""

from __future__ import annotations

from pathlib import Path

from migsafe.findings import Severity
from migsafe.project import load_project
from migsafe.rules import history_findings
from tests.rules._f_project import INI, findings, project, revision

RULE = "duplicate-slug"
VERSIONS = "migrations/versions"
DATED = INI + "file_template = %%(year)d-%%(month).2d-%%(day).2d_%%(slug)s\n"


def flagged(root: Path, target: Path | None = None) -> list[str]:
    return [f.path.name for f in findings(target or root, RULE)]


def test_renders_both_revisions_and_the_two_ways_out(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/2026-11-02_add_users_table.py": revision("a1"),
            f"{VERSIONS}/2026-11-09_index_orders.py": revision("b2", "a1"),
            f"{VERSIONS}/2026-11-22_add_users_table.py": revision("c3", "b2"),
        },
        ini=DATED,
    )
    (finding,) = findings(root, RULE)
    assert (finding.path.name, finding.line, finding.revision) == (
        "2026-11-22_add_users_table.py", 4, "c3",
    )  # fmt: skip
    assert finding.message == (
        "Revision c3 (2026-11-22_add_users_table.py) has the slug 'add_users_table' of "
        "revision a1 (2026-11-02_add_users_table.py): the same change twice, or two revisions "
        "nobody can tell apart by name."
    )
    assert finding.hint == (
        "# two different changes: say what this one does in its file name (and docstring)\n"
        "git mv migrations/versions/2026-11-22_add_users_table.py "
        "migrations/versions/2026-11-22_add_users_table_WHAT_DIFFERS.py\n"
        "# the same change twice, and no database has run it yet (not released): delete the "
        "later\n# file, and set the down_revision of the revisions that follow it to its own\n"
        "# down_revision (b2); once released, a database stamped with it cannot lose it"
    )
    assert finding.url.endswith("/duplicate-slug.md") and finding.help


def test_the_default_template_puts_the_revision_id_first(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/a1_add_users.py": revision("a1"),
            f"{VERSIONS}/b2_add_users.py": revision("b2", "a1"),
            f"{VERSIONS}/c3_add_users_email.py": revision("c3", "b2"),
        },
    )
    assert flagged(root) == ["b2_add_users.py"]


def test_a_third_one_names_the_first(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {f"{VERSIONS}/{rev}_add_users.py": revision(rev, down) for rev, down in
         (("a1", None), ("b2", "a1"), ("c3", "b2"))},
    )  # fmt: skip
    messages = [f.message.split(":")[0] for f in findings(root, RULE)]
    assert messages == [
        "Revision b2 (b2_add_users.py) has the slug 'add_users' of revision a1 (a1_add_users.py)",
        "Revision c3 (c3_add_users.py) has the slug 'add_users' of revision a1 (a1_add_users.py)",
    ]


def test_the_halves_of_one_change_in_two_directories_are_not_judged(tmp_path: Path) -> None:
    """neutron-vpnaas's ``mitaka/expand/28ee739a7e4b_multiple_local_subnets.py`` and
    ``mitaka/contract/2cb4ee992b41_multiple_local_subnets.py``: the expand and contract
    halves of one change; their paths tell them apart and cannot clash."""
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/expand/a1_multiple_local_subnets.py": revision("a1"),
            f"{VERSIONS}/contract/b2_multiple_local_subnets.py": revision("b2", "a1"),
            f"{VERSIONS}/contract/c3_multiple_local_subnets.py": revision("c3", "b2"),
        },
        ini=INI + "recursive_version_locations = true\n",
    )
    assert flagged(root) == ["c3_multiple_local_subnets.py"]  # the same directory still is


def test_the_later_revision_in_the_graph_is_flagged_not_the_later_name(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/zz_add_users.py": revision("zz"),
            f"{VERSIONS}/aa_add_users.py": revision("aa", "zz"),
        },
    )
    assert flagged(root) == ["aa_add_users.py"]


def test_merge_revisions_and_generic_slugs_are_not_judged(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/a1_init.py": revision("a1"),
            f"{VERSIONS}/b2_auto.py": revision("b2", "a1"),
            f"{VERSIONS}/c3_auto.py": revision("c3", "a1"),
            f"{VERSIONS}/d4_merge_heads.py": revision("d4", ("b2", "c3")),
            f"{VERSIONS}/e5_empty_message.py": revision("e5", "d4"),
            f"{VERSIONS}/f6_empty_message.py": revision("f6", "e5"),
            f"{VERSIONS}/g7_merge_heads.py": revision("g7", ("f6", "a1")),
        },
    )
    assert flagged(root) == []


def test_without_alembic_ini_the_revision_id_and_a_leading_date_are_left_out(
    tmp_path: Path,
) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/20261102_1200_add_users_table_a1.py": revision("a1"),
            f"{VERSIONS}/20261122_0900_add_users_table_b2.py": revision("b2", "a1"),
            f"{VERSIONS}/20261123_0900_add_users_table_2_c3.py": revision("c3", "b2"),
        },
        ini=None,
    )
    assert flagged(root, root / VERSIONS) == ["20261122_0900_add_users_table_b2.py"]


def test_slugs_differ_by_case_only_are_the_same(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/a1_add_users.py": revision("a1"),
            f"{VERSIONS}/b2_Add_Users.py": revision("b2", "a1"),
        },
        ini=None,
    )
    assert flagged(root, root / VERSIONS) == ["b2_Add_Users.py"]


def test_an_inline_suppression_in_the_later_file_hides_it(tmp_path: Path) -> None:
    later = revision("b2", "a1").replace(
        "revision = 'b2'", "revision = 'b2'  # migsafe: ignore[ms057]"
    )
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/a1_add_users.py": revision("a1"),
            f"{VERSIONS}/b2_add_users.py": later,
            f"{VERSIONS}/c3_add_users.py": revision("c3", "b2"),
        },
    )
    assert flagged(root) == ["c3_add_users.py"]


def test_the_example_project_has_no_duplicates() -> None:
    shop = Path(__file__).parents[2] / "examples" / "shop"
    assert flagged(shop) == []


def test_a_severity_the_project_sets_is_the_one_roundtrip_judges_by(tmp_path: Path) -> None:
    """Roundtrip keeps the graph's errors only: a project that makes this rule an error
    sees it there too."""
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/2026-11-02_add_users_table.py": revision("a1"),
            f"{VERSIONS}/2026-11-22_add_users_table.py": revision("c3", "a1"),
        },
        ini=DATED,
    )
    history = load_project([root]).history
    (default,) = [f for f in history_findings(history) if f.rule == RULE]
    (raised,) = [
        f for f in history_findings(history, severity=((RULE, Severity.ERROR),)) if f.rule == RULE
    ]
    assert (default.severity, raised.severity) == (Severity.WARNING, Severity.ERROR)


def test_the_git_mv_works_from_where_migsafe_ran(tmp_path: Path, monkeypatch) -> None:
    """zuul's alembic.ini lives in zuul/driver/sql/: the recipe's paths are the ones the
    finding prints, from the working directory, not from the alembic.ini's."""
    (tmp_path / "zuul" / "sql").mkdir(parents=True)
    root = project(
        tmp_path / "zuul" / "sql",
        {
            f"{VERSIONS}/a1_add_users.py": revision("a1"),
            f"{VERSIONS}/b2_add_users.py": revision("b2", "a1"),
        },
    )
    monkeypatch.chdir(tmp_path)
    (finding,) = findings(root, RULE)
    assert finding.hint.splitlines()[1] == (
        "git mv zuul/sql/migrations/versions/b2_add_users.py "
        "zuul/sql/migrations/versions/b2_add_users_WHAT_DIFFERS.py"
    )


def test_slugs_alembic_cut_short_from_different_messages_are_not_judged(tmp_path: Path) -> None:
    """nonebot-plugin-tetris-stats: Alembic cuts a slug at 40 characters, so two messages
    that differ after them make one slug; ``alembic history`` shows the messages apart.
    The same message twice (a migration generated again) is still judged."""
    cut = "migrate_nonebot_plugin_tetris_stats_"
    historical = "migrate nonebot_plugin_tetris_stats_tetrioleaguehistorical"
    stats = "migrate nonebot_plugin_tetris_stats_tetrioleaguestats"
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/a1_{cut}.py": revision("a1", message=historical),
            f"{VERSIONS}/b2_{cut}.py": revision("b2", "a1", message=stats),
            f"{VERSIONS}/c3_{cut}.py": revision("c3", "b2", message=stats),
        },
    )
    assert flagged(root) == [f"c3_{cut}.py"]


def test_a_slug_shorter_than_alembic_cuts_was_not_cut(tmp_path: Path) -> None:
    """pypn-ref-geo names three files ``add_missing_size_hierachy``, for messages that go on
    (``... (GRID 20)``): a 25-character slug is no 40-character cut, so all but the first
    are the same name twice."""
    slug = "add_missing_size_hierachy"
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/a1_{slug}.py": revision("a1", message=f"{slug} (GRID 1)"),
            f"{VERSIONS}/b2_{slug}.py": revision("b2", "a1", message=f"{slug} (GRID 20)"),
            f"{VERSIONS}/c3_{slug}.py": revision("c3", "b2", message=slug),
        },
    )
    assert flagged(root) == [f"b2_{slug}.py", f"c3_{slug}.py"]


def test_slugs_written_alike_by_hand_are_judged_whatever_the_messages(tmp_path: Path) -> None:
    """prefect named two revisions migrate_artifact_data by hand: their files cannot be
    told apart, though their messages can."""
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/a1_migrate_artifact_data.py": revision(
                "a1", message="Migrates state data to the artifact table"
            ),
            f"{VERSIONS}/b2_migrate_artifact_data.py": revision(
                "b2", "a1", message="Migrate artifact data to artifact_collection table"
            ),
        },
    )
    assert flagged(root) == ["b2_migrate_artifact_data.py"]

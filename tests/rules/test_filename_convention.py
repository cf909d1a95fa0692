"""filename-convention (MS056, opt-in): a revision file not named by the project's
file_template (alembic.ini, or [tool.alembic] in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from tests.rules._f_project import INI, findings, project, revision

RULE = "filename-convention"
DATED = INI + "file_template = %%(year)d-%%(month).2d-%%(day).2d_%%(slug)s_%%(rev)s\n"
VERSIONS = "migrations/versions"


def flagged(root: Path, target: Path | None = None) -> list[str]:
    return [f.path.name for f in findings(target or root, RULE)]


def test_renders_the_name_alembic_would_have_given(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/2026-11-20_add_users_a1.py": revision("a1", message="Add users"),
            f"{VERSIONS}/users_email.py": revision(
                "b2", "a1", "Index users by email", "2026-11-22 14:30:12.345678"
            ),
        },
        ini=DATED,
    )
    (finding,) = findings(root, RULE)
    assert (finding.path.name, finding.line, finding.revision) == ("users_email.py", 9, "b2")
    assert finding.message == (
        "The file name 'users_email.py' does not follow the file_template "
        "'%(year)d-%(month).2d-%(day).2d_%(slug)s_%(rev)s' of alembic.ini: `alembic revision` "
        "would have named it '2026-11-22_index_users_by_email_b2.py'."
    )
    assert finding.hint == (
        "# Alembic finds a revision by the `revision` inside the file: renaming it is safe\n"
        "git mv migrations/versions/users_email.py "
        "migrations/versions/2026-11-22_index_users_by_email_b2.py"
    )
    assert finding.url.endswith("/filename-convention.md") and finding.help


def test_alembics_default_template_applies_when_none_is_set(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/a1_add_users.py": revision("a1"),
            f"{VERSIONS}/0002_add_orders.py": revision("b2", "a1"),
            f"{VERSIONS}/c3_.py": revision("c3", "b2"),  # no message: an empty slug
        },
    )
    assert flagged(root) == ["0002_add_orders.py"]


def test_the_revision_id_in_the_name_must_be_the_files_own(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/a1_add_users.py": revision("a1"),
            f"{VERSIONS}/a1_add_users_copy.py": revision("b2", "a1"),
        },
    )
    assert flagged(root) == ["a1_add_users_copy.py"]


def test_zero_padded_numbers_need_their_digits(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/2026-11-02_add_users_a1.py": revision("a1"),
            f"{VERSIONS}/2026-11-2_add_orders_b2.py": revision("b2", "a1"),
            f"{VERSIONS}/26-11-02_add_items_c3.py": revision("c3", "b2"),
        },
        ini=DATED,
    )
    assert flagged(root) == ["2026-11-2_add_orders_b2.py"]  # %(year)d is any number


def test_a_template_with_a_directory_matches_the_path(tmp_path: Path) -> None:
    ini = INI + "file_template = %%(year)d/%%(rev)s_%%(slug)s\nrecursive_version_locations = true\n"
    root = project(
        tmp_path,
        {
            f"{VERSIONS}/2026/a1_add_users.py": revision("a1"),
            f"{VERSIONS}/b2_add_orders.py": revision("b2", "a1", "Add orders", "2026-01-05 10:00"),
        },
        ini=ini,
    )
    (finding,) = findings(root, RULE)
    assert finding.path.name == "b2_add_orders.py"
    assert finding.hint.endswith("migrations/versions/2026/b2_add_orders.py")


def test_the_template_in_pyproject_toml_counts(tmp_path: Path) -> None:
    pyproject = """\
        [tool.alembic]
        script_location = "%(here)s/migrations"
        file_template = "%%(slug)s_%%(rev)s"
    """
    root = project(
        tmp_path,
        {
            "pyproject.toml": pyproject,
            f"{VERSIONS}/add_users_a1.py": revision("a1"),
            f"{VERSIONS}/a1b_add_orders.py": revision("a1b", "a1"),
        },
        ini=None,
    )
    (finding,) = findings(root / VERSIONS, RULE)
    assert finding.path.name == "a1b_add_orders.py"
    assert "of pyproject.toml" in finding.message


def test_without_alembic_ini_nothing_is_judged(tmp_path: Path) -> None:
    root = project(tmp_path, {f"{VERSIONS}/handwritten.py": revision("a1")}, ini=None)
    assert flagged(root, root / VERSIONS) == []


def test_an_alembic_ini_of_another_script_location_is_not_this_projects(tmp_path: Path) -> None:
    ini = INI.replace("%(here)s/migrations", "%(here)s/elsewhere")
    root = project(tmp_path, {f"{VERSIONS}/handwritten.py": revision("a1")}, ini=ini)
    assert flagged(root, root / VERSIONS) == []


def test_a_versions_directory_checked_alone_finds_its_alembic_ini(tmp_path: Path) -> None:
    root = project(tmp_path, {f"{VERSIONS}/handwritten.py": revision("a1")})
    assert flagged(root, root / VERSIONS) == ["handwritten.py"]
    assert flagged(root, root / VERSIONS / "handwritten.py") == ["handwritten.py"]


def test_a_template_migsafe_cannot_read_is_not_judged(tmp_path: Path) -> None:
    ini = INI + "file_template = %%(rev)s_%%(slug)s_%%(author)s\n"
    root = project(tmp_path, {f"{VERSIONS}/handwritten.py": revision("a1")}, ini=ini)
    assert flagged(root) == []


def test_an_inline_suppression_in_the_file_hides_it(tmp_path: Path) -> None:
    source = revision("a1").replace("revision = 'a1'", "revision = 'a1'  # migsafe: ignore[ms056]")
    root = project(tmp_path, {f"{VERSIONS}/a1_add_users.py": revision("a1", None)})
    (root / VERSIONS / "old_name.py").write_text(source.replace("'a1'", "'b2'", 1))
    assert flagged(root) == []


def test_the_example_project_follows_its_template() -> None:
    shop = Path(__file__).parents[2] / "examples" / "shop"
    assert flagged(shop) == []

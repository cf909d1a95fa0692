"""migsafe init: a new project from the templates, never over a file; init --existing: the
same safeguards proposed to a project that has Alembic, as a patch."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from migsafe.cli import cli
from migsafe.config import load_settings
from migsafe.scaffold.templates import TEMPLATES, project_files

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("template", TEMPLATES)
def test_init_writes_a_working_project(tmp_path: Path, template: str) -> None:
    code, out, _ = run("init", str(tmp_path), "--template", template)
    assert code == 0, out
    for name in ("alembic.ini", "migrations/env.py", "migrations/script.py.mako", "models.py",
                 "database.py", "migrations/versions/.gitkeep"):  # fmt: skip
        assert (tmp_path / name).is_file(), name
    assert "Next:" in out and "migsafe revision" in out
    config = Config(str(tmp_path / "alembic.ini"))
    scripts = ScriptDirectory.from_config(config)
    assert Path(scripts.dir) == tmp_path / "migrations"
    assert config.get_section_option("post_write_hooks", "hooks") == "migsafe"
    for name in ("migrations/env.py", "models.py", "database.py"):
        compile((tmp_path / name).read_text(), name, "exec")
    env = (tmp_path / "migrations/env.py").read_text()
    assert ("asyncio.run" in env) == (template == "async")
    assert "{{" not in env


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_rendered_templates_are_ruff_clean(tmp_path: Path, template: str) -> None:
    for relative, content in project_files(template, None).items():
        if relative.suffix == ".py":
            (tmp_path / relative.name).write_text(content)
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    checked = subprocess.run([ruff, "check", "--isolated", "--select", "E,F,W,I,B,UP",
                              "--line-length", "100", "."],
                             cwd=tmp_path, capture_output=True, text=True, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stdout


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "env.py").write_text("# mine\n")
    code, _, err = run("init", str(tmp_path))
    assert code == 2
    assert f"{tmp_path / 'migrations' / 'env.py'} already exists" in err
    assert "--existing" in err
    assert not (tmp_path / "alembic.ini").exists()  # nothing written
    assert (tmp_path / "migrations" / "env.py").read_text() == "# mine\n"


def test_init_adds_its_settings_to_pyproject_and_leaves_the_rest(tmp_path: Path) -> None:
    original = '[project]\nname = "app"   # spacing kept\ndependencies=["x"]\n'
    (tmp_path / "pyproject.toml").write_text(original)
    code, out, _ = run("init", str(tmp_path))
    assert code == 0 and "added [tool.migsafe]" in out
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original)
    assert load_settings(tmp_path).metadata == "models:Base.metadata"
    code, out, _ = run("init", str(tmp_path / "again"))
    assert "already has [tool.migsafe]" in out


def test_init_with_the_users_metadata_writes_no_starter(tmp_path: Path) -> None:
    code, _, _ = run("init", str(tmp_path), "--metadata", "app.db.models:Model.metadata")
    assert code == 0
    assert not (tmp_path / "models.py").exists() and not (tmp_path / "database.py").exists()
    env = (tmp_path / "migrations" / "env.py").read_text()
    assert "from app.db.models import Model\n" in env
    assert "target_metadata = Model.metadata\n" in env


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metadata", "app.models"], "--metadata 'app.models': expected package.module:attr"),
        (["--template", "trio"], "Invalid value for '--template'"),
        (["--apply"], "--apply and -c go with --existing"),
    ],
)
def test_bad_init_options_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = run("init", str(tmp_path), *args)
    assert code == 2 and message in err
    assert not (tmp_path / "alembic.ini").exists()


def test_the_file_template_cannot_collide() -> None:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(project_files("sync", None)[Path("alembic.ini")])
    template = ini["alembic"]["file_template"]
    assert "%%(rev)s" in template  # unique per revision, whatever the day and message
    assert template.startswith("%%(year)d-%%(month).2d-%%(day).2d_")  # sorts by date
    assert ini["alembic"]["timezone"] == "UTC"  # the same order on every developer's machine


def copy_shop(tmp_path: Path) -> Path:
    """The example project as one that never heard of timeouts: its env.py sets none."""
    project = tmp_path / "shop"
    shutil.copytree(REPO / "examples" / "shop", project)
    env = project / "migrations" / "env.py"
    text = env.read_text()
    start = text.index("    # a migration waits at most 5 s")
    end = text.index("    context.configure(", start)
    env.write_text(text[:start] + text[end:])
    assert "lock_timeout" not in env.read_text()
    return project


def test_existing_prints_a_patch_and_changes_nothing(tmp_path: Path) -> None:
    project = copy_shop(tmp_path)
    before = {p: p.read_text() for p in project.rglob("*") if p.is_file()}
    code, patch, err = run("init", "--existing", str(project))
    assert code == 0
    assert "+[post_write_hooks]" in patch and "+hooks = migsafe" in patch
    assert "+lock_timeout = 5s" in patch and "_set_lock_timeout" in patch
    assert "--- a/alembic.ini" in patch and "--- a/migrations/env.py" in patch
    assert "naming convention" in err  # no metadata known: said, not guessed
    assert {p: p.read_text() for p in project.rglob("*") if p.is_file()} == before
    applied = subprocess.run(["git", "apply", "--check", "-"], input=patch, text=True,
                             cwd=project, capture_output=True, check=False)  # fmt: skip
    assert applied.returncode == 0, applied.stderr


def test_existing_apply_keeps_the_project_working(tmp_path: Path, server_url: str) -> None:
    project = copy_shop(tmp_path)
    code, _, err = run("init", "--existing", "--apply", str(project))
    assert code == 0 and "changed" in err
    code, _, _ = run("init", "--existing", str(project))
    assert code == 0  # a second run finds nothing more to add to alembic.ini or env.py
    config = Config(str(project / "alembic.ini"))
    assert "migsafe" in config.get_section_option("post_write_hooks", "hooks")
    code, out, _ = run("roundtrip", str(project), "--use-env", "--postgres", server_url)
    assert "1a2b3c4d5e01" in out and "ok" in out


def test_existing_on_alembic_s_own_init_keeps_alembic_ini_readable(tmp_path: Path) -> None:
    """``alembic init`` writes a [post_write_hooks] section of commented examples: the hook
    goes into it (a second section made the file unreadable), before the comment that
    introduces the next section."""
    from alembic import command

    project = tmp_path / "app"
    project.mkdir()
    ini = project / "alembic.ini"
    command.init(Config(str(ini)), str(project / "migrations"))
    code, _, err = run("init", "--existing", "--apply", str(project))
    assert code == 0 and "changed" in err
    text = ini.read_text()
    assert text.count("[post_write_hooks]") == 1
    config = Config(str(ini))
    assert config.get_section_option("post_write_hooks", "hooks") == "migsafe"
    assert config.get_section_option("post_write_hooks", "migsafe.entrypoint") == "migsafe"
    assert text.index("hooks = migsafe") < text.index("# Logging configuration")
    code, _, _ = run("check", str(project))
    assert code == 0


def test_existing_names_constraints_in_the_users_models(tmp_path: Path) -> None:
    project = copy_shop(tmp_path)
    (project / "models.py").write_text(
        "import sqlalchemy as sa\n\nmetadata = sa.MetaData(\n    schema=None,\n)\n"
    )
    code, patch, _ = run("init", "--existing", str(project), "--metadata", "models:metadata")
    assert code == 0
    assert "+    naming_convention=NAMING_CONVENTION," in patch
    assert '+    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",' in patch
    run("init", "--existing", "--apply", str(project), "--metadata", "models:metadata")
    namespace: dict[str, object] = {}
    exec((project / "models.py").read_text(), namespace)
    convention = namespace["metadata"].naming_convention  # type: ignore[attr-defined]
    assert convention["pk"] == "%(table_name)s_pkey"


def test_existing_without_alembic_ini_is_one_line(tmp_path: Path) -> None:
    code, _, err = run("init", "--existing", str(tmp_path))
    assert code == 2
    assert "alembic.ini: no such file; `migsafe init` starts a new project" in err


def test_the_env_says_when_no_database_is_configured(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    completed = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"],
                               cwd=tmp_path, env=environment, capture_output=True, text=True,
                               check=False)  # fmt: skip
    assert completed.returncode != 0
    assert "FAILED: no database: set DATABASE_URL, or sqlalchemy.url in alembic.ini" in (
        completed.stdout
    )


def test_the_starter_models_example_works_once_uncommented(tmp_path: Path) -> None:
    """A tester uncommented the ``User`` example as it stood: NameError, ``String`` was
    imported nowhere. Uncommented, the starter makes the table with every constraint named."""
    source = project_files("sync", None)[Path("models.py")]
    head, example = source.split("# An example; delete it or make it yours:\n")
    uncommented = head + "\n".join(line[2:] for line in example.splitlines())
    path = tmp_path / "starter_models_uncommented.py"
    path.write_text(uncommented)
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # the ORM resolves the annotations in the module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[path.stem]
    table = module.Base.metadata.tables["users"]
    assert {c.name for c in table.columns} == {"id", "email", "name", "created_at", "updated_at"}

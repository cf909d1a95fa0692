"""migsafe's commands as plain functions, as ``alembic.command`` has Alembic's.

Each takes the project (a loaded ``Project``, an ``alembic.config.Config``, or paths) and,
optionally, settings that replace the ones found next to the project and overrides said over
them, and returns a result that knows its verdict (``exit_code``). The command line, a pytest
plugin and the GitHub Action all call these, so they reach the same verdict::

    from alembic.config import Config
    from migsafe import command

    result = command.check(Config("alembic.ini"))
    assert result.exit_code == 0, result.findings

Bad input that stops a command (unusable settings, an unknown rule, no PostgreSQL to be had)
raises ``migsafe.errors.MigsafeError``; a bad script is a diagnostic of the result.

Importing this module is cheap: Alembic, the rules and the runner are imported when a
command needs them, so that ``check`` can answer from its cache without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from migsafe import own_process
from migsafe.config import Overrides, Settings
from migsafe.errors import MigsafeError
from migsafe.findings import CheckResult
from migsafe.project import (
    History,
    Project,
    load_project,
    project_directory,
    project_settings,
)

if TYPE_CHECKING:
    from alembic.config import Config

    from migsafe.cache import ResultCache
    from migsafe.rollout.plan import Runbook
    from migsafe.roundtrip import ProgressCallbacks, RoundtripOptions
    from migsafe.roundtrip.result import RoundtripResult
    from migsafe.scaffold.existing import Adoption
    from migsafe.scaffold.init import InitResult
    from migsafe.scaffold.revision import RevisionOptions, RevisionResult


def check(
    target: Project | Config | Path | str | Sequence[Path | str],
    settings: Settings | None = None,
    overrides: Overrides | None = None,
    *,
    config_file: Path | None = None,
    x_arguments: Sequence[str] = (),
    since: str | None = None,
    cache: ResultCache | None = None,
) -> CheckResult:
    """Flag unsafe operations in the project's migration scripts.

    With ``since`` (a git ref), only the revisions whose files changed since then are
    judged. With ``cache``, a target given as paths (and ``config_file``) answers from the
    last check of the same, unchanged, project.
    """
    changed = _changed(target, _paths(target), config_file, since)
    return _check(target, settings, overrides, config_file, x_arguments, changed, cache)


def runbook(
    target: Project | Config | Path | str | Sequence[Path | str],
    settings: Settings | None = None,
    overrides: Overrides | None = None,
    *,
    config_file: Path | None = None,
    x_arguments: Sequence[str] = (),
    since: str | None = None,
    start: str | None = None,
    stop: str | None = None,
    roundtrip_json: Path | None = None,
    cache: ResultCache | None = None,
) -> Runbook:
    """The plan for shipping revisions without downtime: for each, in order, its phase
    (before the deploy, after it, or in a maintenance window), the locks it takes, the
    timeouts, the commands, the checks after and the rollback path.

    The revisions are every one of the history, those whose files changed since git
    ``since``, or those from ``start`` to ``stop`` (ids or unique prefixes). The check runs
    as ``check`` does (with ``cache``); ``roundtrip_json`` (the report of ``roundtrip
    --format json``) tells which downgrades passed. A plan is no gate: its ``exit_code`` is
    2 for bad input, else 0, maintenance windows included.
    """
    from migsafe.rollout.plan import Invocation, build
    from migsafe.rollout.roundtrip_report import read_verdicts

    if since is not None and (start is not None or stop is not None):
        raise MigsafeError("--since selects the revisions by git, --from/--to by id: use one")
    report = read_verdicts(Path(roundtrip_json)) if roundtrip_json is not None else None
    paths = _paths(target)
    branched: bool | None = None  # of the whole history (None: of the revisions planned)
    if start is None and stop is None:
        changed = _changed(target, paths, config_file, since)
        result = _check(target, settings, overrides, config_file, x_arguments, changed, cache)
        if changed is not None:  # a selection: its revisions may not show the branches
            branched = _branches(_project(target, config_file, x_arguments).history)
    else:
        from migsafe.roundtrip.selection import plan_revisions

        project = _project(target, config_file, x_arguments)
        planned = plan_revisions(project.history, start, stop)
        changed = {p.script.path for p in planned if p.selected}
        result = _check(
            target if paths is not None else project, settings, overrides, config_file,
            x_arguments, changed, cache, project,
        )  # fmt: skip
        branched = _branches(project.history)
    invocation = Invocation(*_named(target, paths, config_file), since, start, stop)
    scripts = {profile.revision: profile.path for profile in result.revisions}
    verdicts = report.current(scripts) if report is not None else None
    roundtrip = Path(roundtrip_json) if roundtrip_json else None
    return build(result, invocation, verdicts, roundtrip, branched)


def _branches(history: History) -> bool:
    """The history branches or merges somewhere (a tester's ``--from e3`` plan said
    ``downgrade e2``, which took back the sibling branch applied since)."""
    parents = [parent for script in history.scripts for parent in script.down_revisions]
    return len(parents) != len(set(parents)) or any(
        len(script.down_revisions) > 1 for script in history.scripts
    )


def _check(
    target: Project | Config | Path | str | Sequence[Path | str],
    settings: Settings | None,
    overrides: Overrides | None,
    config_file: Path | None,
    x_arguments: Sequence[str],
    changed: set[Path] | None,
    cache: ResultCache | None,
    project: Project | None = None,
) -> CheckResult:
    """The check of ``target`` judging ``changed`` (None: every revision), answered from
    ``cache`` when it can; ``project``: the target, loaded already."""
    overrides = overrides or Overrides()
    paths = _paths(target)
    key = None
    if cache is not None and paths is not None:
        from migsafe.cache import check_request

        asked = overrides.over(settings or project_settings(paths, config_file))
        request = check_request(paths, config_file, x_arguments, changed)
        key = cache.key(request, asked)
        cached = cache.lookup(key)
        if cached is not None:
            return cached
    from migsafe.check import check_project

    project = project or _project(target, config_file, x_arguments)
    own_process.keep_until_exit(project)
    own_process.exempt_from_gc()  # the imports, and the project's syntax trees
    storing = cache is not None and key is not None
    settings = _settings(project, settings, overrides)
    result = check_project(project, settings, changed, record_footprint=storing)
    if storing:
        cache.store(key, result)
    return result


def roundtrip(
    target: Project | Config | Path | str | Sequence[Path | str],
    options: RoundtripOptions | None = None,
    settings: Settings | None = None,
    progress: ProgressCallbacks | None = None,
    overrides: Overrides | None = None,
    *,
    config_file: Path | None = None,
    x_arguments: Sequence[str] = (),
) -> RoundtripResult:
    """Upgrade, downgrade and upgrade again every revision on a disposable PostgreSQL."""
    from migsafe.roundtrip import roundtrip_project

    project = _project(target, config_file, x_arguments)
    own_process.exempt_from_gc()
    settings = _settings(project, settings, overrides or Overrides())
    return roundtrip_project(project, options, settings, progress)


def init(directory: Path, template: str = "sync", metadata: str | None = None) -> InitResult:
    """Write a new project's Alembic setup from migsafe's templates (never over a file)."""
    from migsafe.scaffold.init import init_project
    from migsafe.scaffold.templates import MetadataReference

    reference = MetadataReference.parse(metadata) if metadata else None
    return init_project(Path(directory), template, reference)


def adopt(config_file: Path, metadata: str | None = None) -> Adoption:
    """The safeguards of ``init`` for a project that has Alembic already, as changes to
    review (``Adoption.patch``) or to make (``Adoption.apply()``)."""
    from migsafe.scaffold.existing import adoption
    from migsafe.scaffold.templates import MetadataReference

    project = load_project(config_file=Path(config_file))
    reference = metadata or project.settings.metadata
    parsed = MetadataReference.parse(reference) if reference else None
    return adoption(Path(config_file), parsed, project.sys_path)


def revision(
    target: Project | Config | Path | str | Sequence[Path | str],
    options: RevisionOptions,
    settings: Settings | None = None,
    overrides: Overrides | None = None,
    *,
    config_file: Path | None = None,
    x_arguments: Sequence[str] = (),
) -> RevisionResult:
    """Write a revision as ``alembic revision`` does (with ``--autogenerate`` against a
    disposable database at head), then check it."""
    from migsafe.scaffold.revision import new_revision

    project = _project(target, config_file, x_arguments)
    in_effect = _settings(project, settings, overrides or Overrides())
    result = new_revision(project, options, in_effect)
    result.check = check(result.paths, in_effect) if result.paths else None
    return result


def as_project(target: Project | Config | Path | str | Sequence[Path | str]) -> Project:
    """The project ``target`` names, loaded once."""
    return _project(target, None, ())


def _project(
    target: Project | Config | Path | str | Sequence[Path | str],
    config_file: Path | None,
    x_arguments: Sequence[str],
) -> Project:
    if isinstance(target, Project):
        return target
    paths = _paths(target)
    if paths is None:  # an Alembic Config
        return load_project(config=target, x_arguments=x_arguments)  # type: ignore[arg-type]
    return load_project(paths, config_file, x_arguments=x_arguments)


def _changed(
    target: object, paths: list[Path] | None, config_file: Path | None, since: str | None
) -> set[Path] | None:
    """The files changed since git ``since``, looked up from the project's directory."""
    if since is None:
        return None
    from migsafe.project.changes import changed_since

    if isinstance(target, Project):
        directory = target.location if target.location.is_dir() else target.location.parent
    elif paths is None:  # an Alembic Config
        directory = project_directory(config=target)  # type: ignore[arg-type]
    else:
        directory = project_directory(paths, config_file)
    return changed_since(since, directory)


def _named(
    target: object, paths: list[Path] | None, config_file: Path | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """How the commands a runbook writes name the project: migsafe's PROJECT (and -c)
    arguments, and alembic's -c: the config file named, else the project's alembic.ini
    unless it is the working directory's."""
    from migsafe.report import display_path

    if paths is None:  # a loaded project, or an Alembic Config
        config = target.config if isinstance(target, Project) else target
        name = getattr(config, "config_file_name", None)
        ini = Path(name) if name else None
        named = ("-c", display_path(ini)) if ini is not None else ()
        return named, named
    project = tuple(display_path(p) for p in paths)
    if config_file is not None:
        named = ("-c", display_path(config_file))
        return project + named, named
    ini = None
    if len(paths) == 1:
        ini = paths[0] if paths[0].suffix == ".ini" else paths[0] / "alembic.ini"
    if ini is None or not ini.is_file() or ini.resolve() == Path("alembic.ini").resolve():
        return project, ()
    return project, ("-c", display_path(ini))


def _paths(target: object) -> list[Path] | None:
    """The paths ``target`` names; None for a loaded project or an Alembic Config."""
    if isinstance(target, (str, Path)):
        return [Path(target)]
    if isinstance(target, (list, tuple)):
        return [Path(path) for path in target]
    return None


def _settings(project: Project, settings: Settings | None, overrides: Overrides) -> Settings:
    """The settings in effect; every rule they name must exist, each said where it was
    named."""
    from migsafe.rules import resolve_rules

    base = settings or project.settings
    config = f"{base.source} [tool.migsafe]" if base.source else "settings:"
    for key, names in (("ignore", base.ignore), ("select", base.select or ()),
                       ("extend-select", base.extend_select),
                       ("severity", [rule for rule, _ in base.severity])):  # fmt: skip
        resolve_rules(names, f"{config} {key}")
    for option, names in (("--ignore", overrides.ignore), ("--select", overrides.select or ()),
                          ("--extend-select", overrides.extend_select)):  # fmt: skip
        resolve_rules(names, option)
    return overrides.over(base)

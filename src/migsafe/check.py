"""The static check: scripts → offline capture → parsed statements → rules → findings.

The scripts are captured and judged in a worker process (``migsafe.isolation``), parents
first, so each one's reflection sees the schema the ones before it built (``catalog.py``).
Migration code that exits, crashes or hangs costs a one-line diagnostic for its own file; a
new worker, given the schema so far, goes on with the next. The revision graph is read and
judged here, from the source alone.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path

from alembic.config import Config
from sqlalchemy.exc import SAWarning

from migsafe.capture import OfflineCapturer, stand_ins
from migsafe.capture.env_imports import (
    convention_imported,
    import_installed,
    submodules_on_first_use,
)
from migsafe.capture_notes import capture_notes
from migsafe.catalog import Catalog
from migsafe.config import Settings
from migsafe.findings import CheckResult, Diagnostic, Finding, RevisionLocks
from migsafe.footprint import (
    FilesOpened,
    Footprint,
    ImportedModules,
    files_stat,
    footprint_of,
    imported_since,
)
from migsafe.isolation import Aside, Worker, answers_in_order, process_state_kept
from migsafe.locks import LockMode
from migsafe.project import MigrationScript, Project, import_path, read_script
from migsafe.project.environment import Environment, find_env_py, read_environment
from migsafe.project.target_metadata import naming_convention, package_modules
from migsafe.revision import RevisionContext
from migsafe.rollout.changes import classify, downgrade_state
from migsafe.rules import (
    closest_rule,
    history_findings,
    history_rule_modules,
    in_effect,
    rule_keys,
    rule_modules,
)
from migsafe.sql import TableName, split_statements, statements
from migsafe.suppress import Suppressions


@dataclass(frozen=True)
class ScriptReport:
    """What checking one script gave: its findings, what to tell about its capture, and the
    exact SQL of its upgrade (to rebuild the schema so far in a new worker)."""

    findings: list[Finding]
    diagnostics: list[Diagnostic]
    upgrade_sql: tuple[str, ...] = ()
    upgrade_exact: bool = False  # upgrade_sql is all it did to the schema (Capture.exact)
    imported: ImportedModules | None = None  # None: its worker was lost
    locks: RevisionLocks | None = None  # for a judged revision: its locks and changes
    created: frozenset[TableName] = frozenset()  # the tables a judged revision creates


class InternalError(RuntimeError):
    """migsafe itself failed while checking a script (a bug, not the migration's fault)."""


def check_project(
    project: Project,
    settings: Settings | None = None,
    judged: set[Path] | None = None,
    *,
    record_footprint: bool = False,
) -> CheckResult:
    """Check every migration of the project; bad input never stops the other files.

    ``settings`` default to the project's own; raises UnknownRule when they name a rule
    that does not exist; scripts their ``exclude`` matches run but are not judged. With
    ``judged`` (``--since``: the files a change touched), only
    those scripts are judged; the others still run, upgrade only, for the schema they build,
    and a table an earlier judged revision creates counts as new (no traffic yet). With
    ``record_footprint``, the result also says what the check read (``footprint``): what a
    result cache needs to tell whether its answer still holds, and costs time otherwise.
    """
    settings = settings or project.settings
    settings = in_effect(settings)
    environment = project_environment(project)
    excluded = {s.path for s in project.scripts if any(s.path.match(g) for g in settings.exclude)}
    result = CheckResult(diagnostics=list(project.diagnostics), fail_on=settings.fail_on)
    scripts = project.scripts
    rule_modules()  # imported here, before the worker forks, not again in each worker

    def start_worker(reports: list[ScriptReport]) -> Worker:
        done = [
            (script, report.upgrade_sql, report.upgrade_exact)
            for script, report in zip(scripts[: len(reports)], reports, strict=True)
        ]
        created = frozenset().union(*(report.created for report in reports))
        return Worker(
            _serve, project, settings, done, judged, excluded, created, environment,
            record_footprint,
        )  # fmt: skip

    def lost(index: int, how: str) -> ScriptReport:
        return ScriptReport([], [Diagnostic(scripts[index].path, f"running it {how}", True)])

    graph: list[Finding] = []

    def meanwhile() -> None:  # the revision graph's findings, on a core the worker leaves
        graph.extend(history_findings(project.history, settings.ignore))

    notes: dict[str, Diagnostic] = {}  # the workers' asides, once each (each worker says it)

    def aside(note: Diagnostic | None) -> None:
        if note is not None:
            notes.setdefault(note.message, note)

    reports = answers_in_order(start_worker, len(scripts), settings.timeout, lost, meanwhile, aside)
    result.diagnostics.extend(notes.values())
    for report in reports:
        if isinstance(report, InternalError):
            raise report
        result.findings.extend(report.findings)
        result.diagnostics.extend(report.diagnostics)
        if report.locks is not None:
            result.revisions.append(report.locks)
    checked = [s.path for s in scripts if _is_judged(s.path, judged, excluded)]
    result.checked, result.paths = len(checked), checked
    imported = [report.imported for report in reports]
    if record_footprint and all(imported):
        result.footprint = _footprint(project, imported, environment)
    result.findings.extend(f for f in graph if _is_judged(f.path, judged, excluded))
    levels = dict(settings.severity)
    if levels:
        result.findings = [
            replace(f, severity=levels.get(f.rule, f.severity)) for f in result.findings
        ]
    result.findings.sort(key=lambda f: (str(f.path), f.line, f.code))
    return result


def _serve(
    connection: Connection,
    project: Project,
    settings: Settings,
    done: list[tuple[MigrationScript, tuple[str, ...], bool]],
    judged: set[Path] | None,
    excluded: set[Path],
    created: frozenset[TableName],
    environment: Environment,
    record_footprint: bool,
) -> None:
    """A check worker: sends the ScriptReport of each script after those in ``done``, in
    order. ``done`` holds the upgrade SQL of the scripts checked before (by a worker that was
    lost), to rebuild the schema they made; ``created``, the tables the judged ones among
    them created. With ``record_footprint``, each report says what its script imported."""
    with warnings.catch_warnings(), import_path(project.sys_path), OfflineCapturer(
        project.config, settings.target_pg_version, replayed(done),
        dict(environment.naming_convention),
    ) as capturer, submodules_on_first_use(environment.imported):  # fmt: skip
        # what SQLAlchemy says of the migrations' objects (tiled's ``primary_eky=True``) when
        # rules build operations from them is the migrations' to hear, not a check's output
        warnings.simplefilter("ignore", SAWarning)
        known = set(sys.modules)
        opened = FilesOpened() if record_footprint else None
        # the plugins env.py loads, before any script
        capturer.not_installed = import_installed(environment.imports)
        if environment.convention_source is not None:  # before the first script, in a
            environment, note = _convention_imported(  # time limit of its own
                project, environment, capturer, settings.timeout,
                lambda: connection.send(Aside()),
            )  # fmt: skip
            connection.send(Aside(note))
        for script in project.scripts[len(done) :]:
            report: ScriptReport | InternalError
            try:
                with process_state_kept():
                    if script.path in excluded:
                        report = follow_script(script, capturer)
                    elif judged is None:
                        report = check_script(script, capturer, settings, environment=environment)
                    elif script.path in judged:
                        report = check_script(script, capturer, settings, created, environment)
                        created |= report.created  # no traffic yet for what follows
                    else:
                        report = follow_script(script, capturer)
            except Exception:
                report = InternalError(
                    f"while checking {script.path}: {traceback.format_exc(limit=-3)}"
                )
            else:
                if record_footprint:
                    imported = ImportedModules(
                        imported_since(known, sys.modules), stand_ins.not_found(),
                        tuple(sys.path), opened.taken() if opened is not None else (),
                    )  # fmt: skip
                    known.update(sys.modules)
                    report = replace(report, imported=imported)
            connection.send(report)


def _convention_imported(
    project: Project, environment: Environment, capturer: OfflineCapturer, timeout: float,
    probed: Callable[[], None],
) -> tuple[Environment, Diagnostic | None]:  # fmt: skip
    """The environment, with the naming convention its module gives when no literal spells
    it out (the capture names what the migrations leave unnamed by it); else a notice of
    why not, on env.py."""
    env_py = find_env_py(project.sources.script_location)
    source = environment.convention_source
    if source is None or env_py is None:
        return environment, None
    # the Aside after it is due within ``timeout`` of the worker's start, as an answer is
    convention, why = convention_imported(source, env_py, timeout * 0.8, probed)
    if convention is None:
        message = (
            f"the naming convention of target_metadata ({source.module}.{source.expression}) "
            f"is not known: {why}; what the migrations leave unnamed is named by "
            "SQLAlchemy's defaults here, which may not be the project's"
        )
        return environment, Diagnostic(env_py, message, fatal=False)
    capturer.name_by(convention)
    return replace(environment, naming_convention=tuple(convention.items())), None


def project_environment(project: Project) -> Environment:
    """What the project's env.py and alembic.ini set for every migration."""
    config = project.config
    options = config.get_section(config.config_ini_section) or {}
    environment = read_environment(find_env_py(project.sources.script_location), options)
    convention = naming_convention(project.history)
    return replace(
        environment,
        naming_convention=tuple((convention.value or {}).items()),
        convention_source=convention.source,
        convention_files=convention.files,
        convention_scanned=convention.scanned,
    )


def _is_judged(path: Path, judged: set[Path] | None, excluded: set[Path]) -> bool:
    return path not in excluded and (judged is None or path in judged)


def _footprint(
    project: Project, imported: Sequence[ImportedModules], environment: Environment
) -> Footprint:
    """What the check read: each file as it was read (a script changed since is not what
    was judged), the versions directories, and what the migrations imported."""
    contents: dict[Path, bytes | None] = {s.path: s.source.encode() for s in project.scripts}
    named = [*project.sources.files]
    config = project.sources.config
    for file_name in (config.config_file_name, config.toml_file_name) if config else ():
        if file_name:  # alembic.ini, and the pyproject.toml whose [tool.alembic] it reads
            named.append(Path(file_name).resolve())
    env_py = find_env_py(project.sources.script_location)
    if env_py is not None:
        named.append(env_py.resolve())  # what it sets counts for every rule
    for module in history_rule_modules():  # what the rules about the graph read besides
        named += getattr(module, "files_read", lambda history: [])(project.history)
    named += [Path(path) for part in imported for path in part.read]  # SQL files, data
    named += environment.convention_files  # where the naming convention was found
    listed, imported = list(project.sources.listed), list(imported)
    if environment.convention_scanned is not None:  # any module there may give one later
        package = environment.convention_scanned
        listed.append((package, True))
        imported.append(ImportedModules(files=files_stat(package_modules(package))))
    for path in named:
        if path not in contents:
            try:
                contents[path] = path.read_bytes()
            except OSError:
                contents[path] = None  # unreadable then: any content now is a change
    return footprint_of(contents, listed, imported)


def check_trusted_file(path: Path, settings: Settings) -> ScriptReport:
    """Check one migration in this process: for migsafe's own rule examples and tests only,
    never for the user's code (which ``check_project`` runs in a worker)."""
    script = read_script(path)
    if isinstance(script, Diagnostic):
        return ScriptReport([], [script])
    with OfflineCapturer(Config(), settings.target_pg_version) as capturer:
        return check_script(script, capturer, settings)


def check_script(
    script: MigrationScript,
    capturer: OfflineCapturer,
    settings: Settings,
    created_by_change: frozenset[TableName] = frozenset(),
    environment: Environment | None = None,
) -> ScriptReport:
    """All findings for one revision, after suppressions; notices about its capture."""
    captured = capturer.capture(script)
    upgrade, downgrade = captured.upgrade, captured.downgrade
    version = settings.target_pg_version
    autocommit = environment is not None and environment.autocommit
    up_statements, up_problems = statements(upgrade.judged, "upgrade", version, autocommit)
    down_statements, down_problems = statements(downgrade.judged, "downgrade", version, autocommit)
    notes = capture_notes(script, upgrade, downgrade)
    unrendered = [  # each once: a loop may render the same call many times
        Diagnostic(script.path, message, fatal=False, line=line)
        for line, message in dict.fromkeys(
            (p.line, p.message) for p in (*up_problems, *down_problems)
        )
    ]
    revision = RevisionContext(
        script, up_statements, down_statements, upgrade, downgrade, settings.target_pg_version,
        captured.schema_before, created_by_change, environment or Environment(),
    )  # fmt: skip
    suppressions = Suppressions.parse(script.source, script.tree)
    for line, name in suppressions.unknown(rule_keys()):
        message = f"# migsafe: ignore names no rule {name!r}{closest_rule(name)}"
        notes.append(Diagnostic(script.path, message, fatal=False, line=line))
    findings: list[Finding] = []
    for module in rule_modules():
        if not hasattr(module, "check") or not _enabled(module.RULE, settings):
            continue
        try:
            findings.extend(f for f in module.check(revision) if not suppressions.hides(f))
        except Exception as exc:  # one broken rule must not hide the other rules' findings
            crash = f"{type(exc).__name__}: {exc}"
            message = f"rule {module.RULE.name} crashed ({crash}); please report this"
            notes.append(Diagnostic(script.path, message, fatal=False))
    notes += revision.notes
    if settings.report_unused_ignores:
        notes += [
            Diagnostic(script.path, "# migsafe: ignore hides no finding here: remove it",
                       fatal=False, line=line)
            for line in suppressions.unused()
        ]  # fmt: skip
    findings = _each_once(findings)
    profile = _profile(revision, notes)
    flagged = {f.line for f in findings}  # an unrenderable operation a rule already names
    upgrade_sql = tuple(s.sql for s in up_statements if s.applied is not None)
    return ScriptReport(
        findings, notes + [n for n in unrendered if n.line not in flagged], upgrade_sql,
        upgrade.exact, locks=profile, created=revision.tables_created,
    )  # fmt: skip


def _each_once(findings: list[Finding]) -> list[Finding]:
    """The findings without repeats: one ``alter_column()`` that renames and changes a type
    renders three statements on a column that is not there (mlrun), and each said the same."""
    first: dict[tuple[str, int | None, str], Finding] = {}
    for finding in findings:
        first.setdefault((finding.rule, finding.line, finding.message), finding)
    return list(first.values())


def _profile(revision: RevisionContext, notes: list[Diagnostic]) -> RevisionLocks:
    """What the runbook plans around: locks, changes, and whether a downgrade undoes it."""
    script = revision.script
    try:
        changes = classify(revision)
    except Exception as exc:  # the runbook must not cost the check its findings
        changes = ()
        crash = f"{type(exc).__name__}: {exc}"
        message = f"classifying the upgrade for the runbook crashed ({crash}); please report this"
        notes.append(Diagnostic(script.path, message, fatal=False))
    return RevisionLocks(
        script.path, script.revision, _strongest_locks(revision), changes, script.title,
        script.down_revisions, downgrade_state(revision),
    )  # fmt: skip


def follow_script(script: MigrationScript, capturer: OfflineCapturer) -> ScriptReport:
    """A revision outside the change (``--since``): its upgrade runs, for the schema the
    judged ones meet, and nothing of it is judged; only what stops the history (a script
    that exits) is reported."""
    upgrade = capturer.capture(script, with_downgrade=False).upgrade
    notes = [n for n in capture_notes(script, upgrade) if n.fatal]
    parsed, _ = statements(upgrade.judged, "upgrade")
    upgrade_sql = tuple(s.sql for s in parsed if s.node is not None)
    return ScriptReport([], notes, upgrade_sql, upgrade.exact)


def _strongest_locks(revision: RevisionContext) -> tuple[tuple[str, str], ...]:
    """Per table that existed before the upgrade, the strongest lock it takes there."""
    strongest: dict[str, LockMode] = {}
    for stmt in revision.upgrade:
        for table, lock in revision.tables_locked(stmt):  # those its foreign keys refer to too
            if not revision.is_new_table(stmt, table):
                strongest[table.sql] = max(lock, strongest.get(table.sql, lock))
    return tuple((table, lock.label) for table, lock in strongest.items())


def replayed(done: Sequence[tuple[MigrationScript, Sequence[str], bool]]) -> Catalog:
    """The catalog these revisions' statements build; not exact if one of them was not
    captured to its end (or its worker was lost)."""
    catalog = Catalog()
    for script, upgrade_sql, exact in done:
        for text in upgrade_sql:
            for _, node in split_statements(text):
                catalog.apply(node, script.revision)
        catalog.end_revision(exact, base=script.starts_a_history)
    return catalog


def _enabled(rule: object, settings: Settings) -> bool:
    return rule.name not in settings.ignore

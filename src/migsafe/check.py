"""The static check: scripts → offline capture → parsed statements → rules → findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migsafe.capture import capture
from migsafe.config import Settings
from migsafe.findings import Diagnostic, Finding
from migsafe.project import History, MigrationScript, find_sources, import_path, load_history
from migsafe.rule import RevisionContext
from migsafe.rules import rule_modules
from migsafe.sql import statements
from migsafe.suppress import Suppressions


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    checked: int = 0

    @property
    def has_fatal(self) -> bool:
        return any(d.fatal for d in self.diagnostics)


def check_paths(
    paths: Sequence[Path], settings: Settings, config_file: Path | None = None
) -> CheckResult:
    """Check every migration the paths name; bad input never stops the other files."""
    sources = find_sources(paths, config_file)
    history, diagnostics = load_history(sources)
    result = CheckResult(diagnostics=diagnostics)
    with import_path(sources.sys_path):
        for script in history.scripts:
            findings, notes = check_script(script, settings)
            result.findings.extend(findings)
            result.diagnostics.extend(notes)
            result.checked += 1
    result.findings.extend(_history_findings(history, settings))
    result.findings.sort(key=lambda f: (str(f.path), f.line, f.code))
    return result


def check_script(
    script: MigrationScript, settings: Settings
) -> tuple[list[Finding], list[Diagnostic]]:
    """All findings for one revision, after suppressions; notices about its capture."""
    upgrade, downgrade = capture(script)
    up_statements, up_problems = statements(upgrade.emitted)
    down_statements, down_problems = statements(downgrade.emitted)
    notes = [
        Diagnostic(script.path, f"{c.fallback_reason}; read its op.* calls from source", False)
        for c in (upgrade, downgrade)
        if c.fallback_reason
    ]
    if upgrade.fallback_reason and upgrade.fallback_reason == downgrade.fallback_reason:
        notes = notes[:1]
    notes += [
        Diagnostic(script.path, p.message, fatal=False, line=p.line)
        for p in (*up_problems, *down_problems)
    ]
    revision = RevisionContext(
        script, up_statements, down_statements, upgrade, downgrade, settings.pg_version
    )
    suppressions = Suppressions.parse(script.source)
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
    flagged = {f.line for f in findings}
    return findings, [n for n in notes if n.line is None or n.line not in flagged]


def _history_findings(history: History, settings: Settings) -> list[Finding]:
    return [
        finding
        for module in rule_modules()
        if hasattr(module, "check_history") and _enabled(module.RULE, settings)
        for finding in module.check_history(history)
    ]


def _enabled(rule: object, settings: Settings) -> bool:
    return not ({rule.name, rule.code} & settings.ignore)

"""SARIF 2.1.0 for check, as GitHub code scanning reads it (``github/codeql-action/upload-sarif``).

One result per finding. Its ``ruleId`` is the rule's code (``MS004``): codes never change,
and code scanning matches alerts across runs by rule id, so renaming a rule does not close
and reopen every alert; the rule's name (``create-index-not-concurrently``) is the
descriptor's ``name``, which code scanning lists and filters by. ``tool.driver.rules``
describes the rules that appear (summary, why, the one-line help and an example of what to
write, the rule's page). Locations are URIs relative to the repository root (the git
top-level of the checked files, else the working directory) under ``%SRCROOT%``, which is how
code scanning places them on the checkout; no absolute path is written
(``originalUriBaseIds`` is left out) unless a file lies outside that root. Unreadable input
becomes ``invocations[0].toolExecutionNotifications``, and a fatal one makes
``executionSuccessful`` false.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

import migsafe
from migsafe.findings import Severity
from migsafe.report import repository_path, repository_root, resolved, write_json

if TYPE_CHECKING:
    from migsafe.findings import CheckResult, Diagnostic, Finding
    from migsafe.rule import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/migsafe/migsafe"
SRCROOT = "%SRCROOT%"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}

Json = dict[str, object]


def render(result: CheckResult, out: TextIO) -> None:
    from migsafe.rules import rule_modules

    known = {module.RULE.code: module.RULE for module in rule_modules()}
    root = repository_root(result.paths)
    write_json(sarif_log(result.findings, known, result.diagnostics, root), out)


def sarif_log(
    findings: Iterable[Finding],
    known: dict[str, Rule],
    diagnostics: Iterable[Diagnostic],
    root: Path,
    *,
    extra: Iterable[tuple[Json, Json]] = (),
    notes: Iterable[Json] = (),
) -> Json:
    """The whole log: a result per finding (its rule from ``known``), then ``extra``'s
    (descriptor, result) pairs (roundtrip's failed revisions), rules in order of appearance;
    a notification per diagnostic, then ``notes``."""
    rules: list[Json] = []
    index: dict[str, int] = {}
    results: list[Json] = []

    def add(descriptor: Json, result: Json) -> None:
        rule_id = str(descriptor["id"])
        if rule_id not in index:
            index[rule_id] = len(rules)
            rules.append(descriptor)
        results.append({"ruleId": rule_id, "ruleIndex": index[rule_id], **result})

    for finding in findings:
        rule = known.get(finding.code)
        add(rule_descriptor(rule) if rule else fallback_descriptor(finding),
            finding_result(finding, root))  # fmt: skip
    for descriptor, result in extra:
        add(descriptor, result)
    diagnostics = list(diagnostics)
    notifications = [*(notification(d, root) for d in diagnostics), *notes]
    invocation: Json = {"executionSuccessful": not any(d.fatal for d in diagnostics)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver = {
        "name": "migsafe",
        "version": migsafe.__version__,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }
    run = {"tool": {"driver": driver}, "invocations": [invocation], "results": results}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def rule_descriptor(rule: Rule) -> Json:
    """A rule as ``tool.driver.rules`` describes it; code scanning shows these words next to
    each alert."""
    markdown = f"**Use instead:** {rule.help}"
    if rule.good:
        markdown += f"\n\nFine:\n\n```python\n{rule.good[0].rstrip()}\n```"
    markdown += f"\n\n[{rule.name}]({rule.url})"
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why},
        "help": {"text": rule.help, "markdown": markdown},
        "helpUri": rule.url,
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"category": str(rule.category), "tags": [str(rule.category)]},
    }


def fallback_descriptor(finding: Finding) -> Json:
    """A rule this migsafe does not know (a cached result from another version)."""
    descriptor: Json = {
        "id": finding.code,
        "name": finding.rule,
        "shortDescription": {"text": finding.rule},
        "help": {"text": finding.help or finding.rule},
        "defaultConfiguration": {"level": LEVEL[finding.severity]},
    }
    if finding.url:
        descriptor["helpUri"] = finding.url
    return descriptor


def finding_result(finding: Finding, root: Path) -> Json:
    """A finding as a result, without its rule reference (``sarif_log`` adds it)."""
    result: Json = {
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            physical_location(finding.path, root, finding.line, finding.end_line, finding.column)
        ],
    }
    properties = {"revision": finding.revision, "hint": finding.hint}
    result["properties"] = {k: v for k, v in properties.items() if v}
    return result


def notification(diagnostic: Diagnostic, root: Path) -> Json:
    """A diagnostic (input migsafe could not read) as a tool execution notification."""
    entry: Json = {
        "level": "error" if diagnostic.fatal else "note",
        "message": {"text": diagnostic.message},
    }
    if diagnostic.path is not None:
        entry["locations"] = [physical_location(diagnostic.path, root, diagnostic.line)]
    return entry


def physical_location(
    path: Path,
    root: Path,
    line: int | None = None,
    end_line: int | None = None,
    column: int | None = None,
) -> Json:
    """A location: the file as a URI relative to ``%SRCROOT%`` (percent-encoded, so spaces,
    ``#``, ``:`` and non-ASCII names survive), and the lines and column that are known."""
    relative = repository_path(path, root)
    if relative is None:  # outside the repository: an absolute file URI
        artifact: Json = {"uri": resolved(path).as_uri()}
    else:
        artifact = {"uri": quote(relative, safe="/"), "uriBaseId": SRCROOT}
    physical: Json = {"artifactLocation": artifact}
    if line and line >= 1:
        region: Json = {"startLine": line}
        if end_line and end_line >= line:
            region["endLine"] = end_line
        if column and column >= 1:
            region["startColumn"] = column
        physical["region"] = region
    return {"physicalLocation": physical}

"""JUnit XML for check: a test case per migration script, failing when it has a finding at or
above ``--fail-on``; input errors are errors. CI systems list and count them like tests."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from xml.etree import ElementTree

from migsafe.findings import Finding
from migsafe.report import diagnostic_line, display_path

if TYPE_CHECKING:
    from migsafe.findings import CheckResult


def render(result: CheckResult, out: TextIO) -> None:
    by_file: dict[Path, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_file[finding.path].append(finding)
    for path in result.paths:
        by_file.setdefault(path, [])
    failing = [p for p, fs in by_file.items() if any(f.severity >= result.fail_on for f in fs)]
    errors = [d for d in result.diagnostics if d.fatal]
    suite = ElementTree.Element(
        "testsuite", name="migsafe check", tests=str(len(by_file) + len(errors)),
        failures=str(len(failing)), errors=str(len(errors)),
    )  # fmt: skip
    for path in sorted(by_file):
        findings = by_file[path]
        case = ElementTree.SubElement(suite, "testcase", classname="migsafe check",
                                      name=display_path(path))  # fmt: skip
        details = "\n\n".join(_finding_text(f) for f in findings)
        if path in failing:
            element = ElementTree.SubElement(
                case, "failure", message=f"{len(findings)} finding(s)", type="migsafe"
            )
            element.text = details
        elif details:
            ElementTree.SubElement(case, "system-out").text = details
    for diagnostic in errors:
        case = ElementTree.SubElement(suite, "testcase", classname="migsafe check",
                                      name=display_path(diagnostic.path))  # fmt: skip
        ElementTree.SubElement(case, "error", message=diagnostic_line(diagnostic))
    ElementTree.indent(suite)
    xml = ElementTree.tostring(suite, encoding="unicode")
    out.write(f'<?xml version="1.0" encoding="utf-8"?>\n{xml}\n')


def _finding_text(finding: Finding) -> str:
    return (
        f"line {finding.line}: {finding.severity} {finding.code} {finding.rule}\n"
        f"{finding.message}\nuse instead:\n{finding.hint}"
    )

"""JUnit XML: each revision is a test case, so CI systems list and count them."""

from __future__ import annotations

from typing import TextIO
from xml.etree import ElementTree

from migsafe.report import display_path
from migsafe.report.roundtrip import problem_lines
from migsafe.roundtrip.result import RoundtripResult, Verdict


def render(result: RoundtripResult, out: TextIO) -> None:
    failures = result.failures
    suite = ElementTree.Element(
        "testsuite",
        name="migsafe roundtrip",
        tests=str(
            len(result.revisions) + (result.drift is not None) + len(result.findings)
            + len(result.diagnostics)
        ),
        failures=str(len(failures) + bool(result.drift) + len(result.findings)),
        skipped=str(sum(r.verdict is Verdict.SKIPPED for r in result.revisions)),
        errors=str(len(result.diagnostics)),  # each is a test case with an <error>
        time=f"{result.seconds:.3f}",
    )  # fmt: skip
    if result.shard is not None:  # which slice of a --shard K/N matrix (merge-junit reads it)
        properties = ElementTree.SubElement(suite, "properties")
        ElementTree.SubElement(properties, "property", name="shard", value=result.shard)
    for revision in result.revisions:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=display_path(revision.path),
            name=f"{revision.revision} {revision.message}".strip(),
            time=f"{revision.seconds:.3f}",
        )
        details = "\n".join(problem_lines(revision))
        if revision.verdict is Verdict.SKIPPED:
            ElementTree.SubElement(case, "skipped", message=revision.note)
        elif revision in failures:
            element = ElementTree.SubElement(
                case, "failure", message=revision.verdict.description, type=str(revision.verdict)
            )
            element.text = details
        elif details:
            ElementTree.SubElement(case, "system-out").text = details
    if result.drift is not None:
        case = ElementTree.SubElement(suite, "testcase", classname="migsafe", name="model drift")
        if result.drift:
            failure = ElementTree.SubElement(case, "failure", message="models and database differ")
            failure.text = "\n".join(result.drift)
    for finding in result.findings:  # about the revision graph: several heads
        case = ElementTree.SubElement(suite, "testcase", classname=display_path(finding.path),
                                      name=f"{finding.rule} {finding.revision}")  # fmt: skip
        failure = ElementTree.SubElement(case, "failure", message=finding.message,
                                         type=finding.rule)  # fmt: skip
        failure.text = finding.hint
    for diagnostic in result.diagnostics:
        case = ElementTree.SubElement(suite, "testcase", classname="migsafe", name="input")
        ElementTree.SubElement(
            case, "error", message=f"{display_path(diagnostic.path)}: {diagnostic.message}"
        )
    ElementTree.indent(suite)
    out.write('<?xml version="1.0" encoding="utf-8"?>\n')
    out.write(ElementTree.tostring(suite, encoding="unicode"))
    out.write("\n")

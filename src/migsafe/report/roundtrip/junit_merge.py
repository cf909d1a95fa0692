"""One JUnit report from the reports of ``migsafe roundtrip --shard K/N`` (one per CI job).

Each shard reports its own slice of the history, so the merged suite holds every shard's
test cases in history order: shard 1's revisions, then shard 2's, and so on, then what every
shard reports alike (findings about the revision graph, input errors) once, and the model
drift check (the last shard's). The totals are counted again from the merged test cases and
the times are added up. The merged report of a complete set of shards is the report of the
unsharded run, but for the times.

A report that names its shard (a ``shard`` property, "2/4") is put in its place whatever
order the files come in, and a set of shards that misses one, or has one twice, is refused:
a merged report that quietly lacked a shard's failures would pass a CI gate it should fail.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Sequence
from xml.etree import ElementTree

from migsafe.errors import MigsafeError

SHARD_PROPERTY = "shard"


class JunitMergeError(MigsafeError):
    """A report that cannot be merged: not JUnit XML, or shards that do not fit together."""


def merge_junit(documents: list[str], names: Sequence[str] | None = None) -> str:
    """One ``<testsuite>`` document from the shards' ``documents``; ``names`` (the files
    they were read from) are for error messages."""
    if not documents:
        raise JunitMergeError("merge-junit: no reports to merge")
    labels = (
        list(names) if names is not None else [f"report {i + 1}" for i in range(len(documents))]
    )
    suites = [_suites(document, label) for document, label in zip(documents, labels, strict=True)]
    order = _shard_order(suites, labels)
    ordered = [suites[i] for i in order]
    cases = _merge_cases([[c for s in group for c in s.iter("testcase")] for group in ordered])
    first = ordered[0][0]
    merged = ElementTree.Element(
        "testsuite",
        name=first.get("name", "migsafe roundtrip"),
        tests=str(len(cases)),
        failures=str(sum(case.find("failure") is not None for case in cases)),
        skipped=str(sum(case.find("skipped") is not None for case in cases)),
        errors=str(sum(case.find("error") is not None for case in cases)),
        time=f"{sum(_seconds(s) for group in ordered for s in group):.3f}",
    )
    properties = _other_properties(first)
    if properties is not None:
        merged.append(properties)
    merged.extend(cases)
    ElementTree.indent(merged)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        + ElementTree.tostring(merged, encoding="unicode")
        + "\n"
    )


def _suites(document: str, label: str) -> list[ElementTree.Element]:
    """The ``<testsuite>`` elements of one report (its root, or the children of a
    ``<testsuites>`` root)."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError as exc:
        raise JunitMergeError(f"{label}: not well-formed XML ({exc})") from None
    if root.tag == "testsuite":
        return [root]
    suites = root.findall("testsuite") if root.tag == "testsuites" else []
    if not suites:
        raise JunitMergeError(f"{label}: not a JUnit report (no <testsuite>)")
    return suites


def _shard_order(suites: list[list[ElementTree.Element]], labels: list[str]) -> list[int]:
    """The reports in shard order: by their ``shard`` property when they have one (all of
    them must, one per shard), else in the order given."""
    named = [_shard(group, label) for group, label in zip(suites, labels, strict=True)]
    shards = [shard for shard in named if shard is not None]
    if not shards:
        return list(range(len(suites)))
    if len(shards) < len(named):
        raise JunitMergeError(f"{labels[named.index(None)]}: names no shard, and other reports do")
    if len({count for _, count in shards}) > 1:
        found = ", ".join(
            f"{label} is {k}/{n}" for label, (k, n) in zip(labels, shards, strict=True)
        )
        raise JunitMergeError(f"the reports come from different shardings: {found}")
    count = shards[0][1]
    seen: dict[int, str] = {}
    for label, (index, _) in zip(labels, shards, strict=True):
        if index in seen:
            raise JunitMergeError(f"{label}: shard {index}/{count} again (also {seen[index]})")
        seen[index] = label
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if missing:
        raise JunitMergeError(f"shard {', '.join(missing)} missing: no report names it")
    return sorted(range(len(suites)), key=lambda i: shards[i][0])


def _shard(suites: list[ElementTree.Element], label: str) -> tuple[int, int] | None:
    values = {
        prop.get("value", "")
        for suite in suites
        for prop in suite.findall("properties/property")
        if prop.get("name") == SHARD_PROPERTY
    }
    if not values:
        return None
    parts = values.pop().split("/") if len(values) == 1 else []
    if len(parts) != 2 or not all(part.isascii() and part.isdigit() for part in parts):
        raise JunitMergeError(f"{label}: its shard property is not one K/N")
    index, count = int(parts[0]), int(parts[1])
    if not 1 <= index <= count:
        raise JunitMergeError(f"{label}: shard {index}/{count} does not exist")
    return index, count


def _other_properties(suite: ElementTree.Element) -> ElementTree.Element | None:
    """The suite's properties but the shard's (the merged report is no shard)."""
    properties = suite.find("properties")
    if properties is None:
        return None
    kept = [p for p in properties if p.get("name") != SHARD_PROPERTY]
    if not kept:
        return None
    merged = ElementTree.Element("properties", properties.attrib)
    merged.extend(copy.deepcopy(p) for p in kept)
    return merged


def _merge_cases(reports: list[list[ElementTree.Element]]) -> list[ElementTree.Element]:
    """Every report's test cases once, each report's order kept.

    A test case that several reports hold (a finding about the graph, an input error) is
    the same test: kept once. The order is the one that keeps every report's order and
    otherwise takes earlier reports first: shard 1's revisions, shard 2's, ..., then what
    they all end with.
    """
    first_seen: dict[tuple[bytes, int], tuple[int, int]] = {}  # key → (report, position)
    element: dict[tuple[bytes, int], ElementTree.Element] = {}
    after: dict[tuple[bytes, int], set[tuple[bytes, int]]] = {}
    before_count: dict[tuple[bytes, int], int] = {}
    for report, cases in enumerate(reports):
        occurrences: dict[bytes, int] = {}
        previous = None
        for position, case in enumerate(cases):
            identity = _identity(case)
            key = (identity, occurrences.get(identity, 0))
            occurrences[identity] = key[1] + 1
            if key not in first_seen:
                first_seen[key], element[key] = (report, position), case
                after[key], before_count[key] = set(), 0
            if previous is not None and key not in after[previous]:
                after[previous].add(key)
                before_count[key] += 1
            previous = key
    ready = [(first_seen[key], key) for key, count in before_count.items() if count == 0]
    heapq.heapify(ready)
    merged: list[ElementTree.Element] = []
    done: set[tuple[bytes, int]] = set()
    while len(done) < len(first_seen):
        if not ready:  # the reports disagree on an order: take the earliest one left
            key = min((k for k in first_seen if k not in done), key=first_seen.__getitem__)
            heapq.heappush(ready, (first_seen[key], key))
        _, key = heapq.heappop(ready)
        if key in done:
            continue
        done.add(key)
        merged.append(copy.deepcopy(element[key]))
        for successor in after[key]:
            before_count[successor] -= 1
            if before_count[successor] == 0 and successor not in done:
                heapq.heappush(ready, (first_seen[successor], successor))
    return merged


def _identity(case: ElementTree.Element) -> bytes:
    """A test case as it reads without its time: two runs of the same test are equal."""
    bare = copy.deepcopy(case)
    bare.attrib.pop("time", None)
    bare.tail = None
    for node in bare.iter():
        if node is not bare:
            node.tail = (node.tail or "").strip() or None
        if len(node):
            node.text = (node.text or "").strip() or None
    return ElementTree.tostring(bare, encoding="utf-8")


def _seconds(suite: ElementTree.Element) -> float:
    try:
        return float(suite.get("time", "0") or 0)
    except ValueError:
        return 0.0

"""Object-by-object differences between two schema snapshots, printed readably."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migsafe.schema.snapshot import Snapshot


@dataclass(frozen=True)
class Change:
    """One object that exists on one side only, or whose attributes differ."""

    kind: str  # table, column, index, enum type, ...
    name: str
    status: str  # "extra" (only in the actual schema), "missing" or "changed"
    details: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        head = f"{self.kind} {self.name}: {self.status}"
        return head + (f" ({'; '.join(self.details)})" if self.details else "")


def diff_snapshots(expected: Snapshot, actual: Snapshot) -> list[Change]:
    """What ``actual`` has that ``expected`` lacks ("extra"), lacks ("missing"), or has differently.

    Equal snapshots (same digest) return at once; the object walk only runs when they differ.
    """
    if expected == actual:
        return []
    changes = []
    was, now = expected.objects, actual.objects
    for key in sorted(was.keys() | now.keys()):
        before, after = was.get(key), now.get(key)
        if before == after:
            continue
        kind, name = key
        if before is None:
            changes.append(Change(kind, name, "extra", _summary(after)))
        elif after is None:
            changes.append(Change(kind, name, "missing", _summary(before)))
        else:
            changes.append(Change(kind, name, "changed", _attribute_changes(before, after)))
    return changes


def _summary(attributes: Any) -> tuple[str, ...]:
    definition = attributes.get("definition") or attributes.get("type")
    if "labels" in attributes:
        definition = "labels " + attributes["labels"]
    return (_short(definition),) if definition else ()


def _attribute_changes(before: dict, after: dict) -> tuple[str, ...]:
    return tuple(
        f"{key}: {_short(before.get(key))} → {_short(after.get(key))}"
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    )


def _short(value: Any, limit: int = 120) -> str:
    text = " ".join(str(value).split()) if value is not None else "none"
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""``runbook --roundtrip FILE``: the verdicts of a roundtrip, read from its JSON report
(``migsafe roundtrip --format json``, docs/roundtrip.md)."""

from __future__ import annotations

import json
from pathlib import Path

from migsafe.errors import MigsafeError

SCHEMA_VERSION = 1  # of roundtrip's JSON, the one this reads


class RoundtripReportError(MigsafeError):
    """A --roundtrip file that cannot be read as roundtrip's report; one line naming it."""


def read_verdicts(path: Path) -> dict[str, str]:
    """Each revision's verdict (``ok``, ``one-way``, ``downgrade-failed``, ...) by id."""
    expected = "expected the report of `migsafe roundtrip --format json`"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        message = f"{path}: cannot read the roundtrip report: {exc.strerror}"
        raise RoundtripReportError(message) from None
    except UnicodeDecodeError:
        raise RoundtripReportError(f"{path}: not UTF-8 text; {expected}") from None
    except ValueError as exc:
        raise RoundtripReportError(f"{path}: not JSON ({exc}); {expected}") from None
    if not isinstance(document, dict) or not isinstance(document.get("revisions"), list):
        raise RoundtripReportError(f"{path}: no list of revisions; {expected}")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RoundtripReportError(
            f"{path}: roundtrip report schema_version {version!r}; this migsafe reads "
            f"{SCHEMA_VERSION}"
        )
    verdicts = {}
    for entry in document["revisions"]:
        revision = entry.get("revision") if isinstance(entry, dict) else None
        verdict = entry.get("verdict") if isinstance(entry, dict) else None
        if not isinstance(revision, str) or not isinstance(verdict, str):
            raise RoundtripReportError(f"{path}: a revision without its id or verdict; {expected}")
        verdicts[revision] = verdict
    return verdicts

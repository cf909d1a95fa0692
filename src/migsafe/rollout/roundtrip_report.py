"""``runbook --roundtrip FILE``: the verdicts of a roundtrip, read from its JSON report
(``migsafe roundtrip --format json``, docs/roundtrip.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from migsafe.errors import MigsafeError
from migsafe.footprint import file_digest

SCHEMA_VERSION = 1  # of roundtrip's JSON, the one this reads


class RoundtripReportError(MigsafeError):
    """A --roundtrip file that cannot be read as roundtrip's report; one line naming it."""


# the verdict of a revision whose file is not the one the report roundtripped
STALE = "stale"


@dataclass(frozen=True)
class RoundtripReport:
    """A roundtrip's verdicts by revision id, with the digest of each file it ran."""

    verdicts: dict[str, str]
    digests: dict[str, str]

    def current(self, scripts: Mapping[str, Path]) -> dict[str, str]:
        """The verdicts, where a revision's file (``scripts``: id to path) is not the one
        the report ran a ``stale`` one: a report of another checkout, or of the file before
        an edit, said a downgrade that now fails had passed."""
        verdicts = dict(self.verdicts)
        for revision, digest in self.digests.items():
            path = scripts.get(revision)
            if revision in verdicts and path is not None and file_digest(path) != digest:
                verdicts[revision] = STALE
        return verdicts


def read_verdicts(path: Path) -> RoundtripReport:
    """Each revision's verdict (``ok``, ``one-way``, ``downgrade-failed``, ...) by id, and
    the digest of its file where the report has it (reports before 0.3 do not)."""
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
    verdicts, digests = {}, {}
    for entry in document["revisions"]:
        revision = entry.get("revision") if isinstance(entry, dict) else None
        verdict = entry.get("verdict") if isinstance(entry, dict) else None
        if not isinstance(revision, str) or not isinstance(verdict, str):
            raise RoundtripReportError(f"{path}: a revision without its id or verdict; {expected}")
        verdicts[revision] = verdict
        if isinstance(entry.get("digest"), str):
            digests[revision] = entry["digest"]
    return RoundtripReport(verdicts, digests)

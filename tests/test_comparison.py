"""migsafe beside squawk, as bench/squawk_comparison.py measures it (docs/comparison.md), held
as a floor: on released histories migsafe misses none of squawk's true positives."""

from __future__ import annotations

import sys

import pytest

from bench.squawk_comparison import SQUAWK, VERDICTS, compare
from tests.realdata import CKAN, MLFLOW, OPTUNA, History, installed

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("history", [MLFLOW, OPTUNA, CKAN], ids=lambda h: h.package)
def test_migsafe_misses_none_of_squawks_true_positives(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))  # compare() adds the history's root
    binary = installed(*SQUAWK) / "bin" / "squawk"
    package = history.versions_dir.split("/")[0]
    try:
        result = compare(history, binary)
    finally:  # the history's package as extracted (its migrations only) must not stay
        for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
            del sys.modules[name]
    assert result.squawk_findings > 50  # squawk ran, and said something
    verdicts = {o.verdict for o in result.outcomes}
    assert verdicts <= set(VERDICTS)
    misses = {(o.revision.name, o.rule) for o in result.outcomes if o.verdict == "miss"}
    assert misses == set(), sorted(misses)

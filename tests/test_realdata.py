"""migsafe on a real history: mlflow-skinny's ~70 Alembic revisions, from its pinned wheel."""

from __future__ import annotations

from pathlib import Path

import pytest

from migsafe.check import check_paths
from migsafe.config import Settings
from tests.realdata import MLFLOW, extract

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def mlflow_result():
    versions = extract(MLFLOW)
    return versions, check_paths([versions], Settings())


def test_every_script_is_captured_or_explained(mlflow_result) -> None:
    versions, result = mlflow_result
    scripts = sorted(p for p in versions.glob("*.py") if p.name != "__init__.py")
    assert result.checked == len(scripts) > 60
    assert not result.has_fatal
    explained = {d.path.name for d in result.diagnostics}
    for diagnostic in result.diagnostics:
        assert diagnostic.path is not None and len(diagnostic.message) > 20
    # scripts that import mlflow itself cannot be imported here; they must say so
    for script in scripts:
        if "from mlflow" in script.read_text():
            assert script.name in explained, script.name


def findings_at(result, name: str) -> set[tuple[int, str]]:
    return {(f.line, f.rule) for f in result.findings if Path(f.path).name == name}


def test_known_operations_are_found_at_their_lines(mlflow_result) -> None:
    _, result = mlflow_result
    job_table = findings_at(result, "5d2d30f0abce_update_job_table.py")
    assert (21, "drop-index-not-concurrently") in job_table  # batch_op.drop_index
    assert (23, "rename-column") in job_table  # function_fullname -> job_name
    metrics = findings_at(result, "181f10493468_allow_nulls_for_metric_values.py")
    assert (19, "set-not-null") in metrics
    assert (19, "change-column-type") in metrics  # float -> Float(precision=53), old unknown
    endpoints = findings_at(result, "d0e1f2a3b4c5_add_experiment_id_to_endpoints.py")
    assert (24, "add-foreign-key-validated") in endpoints


def test_safe_changes_in_the_history_are_not_flagged(mlflow_result) -> None:
    _, result = mlflow_result
    # String(250) -> String(500) on a column that is already NOT NULL: no rewrite, no scan
    widened = findings_at(result, "cc1f77228345_change_param_value_length_to_500.py")
    assert widened == {(31, "missing-downgrade")}  # its downgrade() is `pass`

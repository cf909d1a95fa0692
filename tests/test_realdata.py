"""migsafe check on released histories others wrote, read from pinned wheels on PyPI, with
none of their applications installed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from migsafe import command
from migsafe.findings import CheckResult
from tests.realdata import (
    CKAN,
    DESIGNATE,
    FIDELITY,
    MLFLOW,
    NEUTRON,
    TACKER,
    extract,
    extracted_root,
    source_tree,
)

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def mlflow_result() -> tuple[Path, CheckResult]:
    versions = extract(MLFLOW)
    return versions, command.check([versions])


@pytest.fixture(scope="module")
def ckan_result() -> Iterator[CheckResult]:
    """CKAN's migrations import ckan.migration, a module of the application beside them."""
    versions = extract(CKAN)
    sys.path.insert(0, str(extracted_root(CKAN)))
    try:
        yield command.check([versions])
    finally:
        sys.path.remove(str(extracted_root(CKAN)))


def findings_at(result: CheckResult, name: str) -> set[tuple[int, str]]:
    return {(f.line, f.rule) for f in result.findings if Path(f.path).name == name}


def _locking(result: CheckResult) -> list:
    """The findings about one statement each (lock-timeout-missing is one per function)."""
    return [f for f in result.findings if f.rule != "lock-timeout-missing"]


def test_mlflow_every_script_runs_and_every_notice_names_its_line(mlflow_result) -> None:
    versions, result = mlflow_result
    scripts = sorted(p for p in versions.glob("*.py") if p.name != "__init__.py")
    assert result.checked == len(scripts) > 60
    assert not result.has_fatal
    for diagnostic in result.diagnostics:
        assert diagnostic.line is not None, diagnostic.message


def test_mlflow_known_operations_are_found_at_their_lines(mlflow_result) -> None:
    _, result = mlflow_result
    job_table = findings_at(result, "5d2d30f0abce_update_job_table.py")
    assert (21, "drop-index-not-concurrently") in job_table  # batch_op.drop_index
    assert (23, "rename-column") in job_table  # function_fullname -> job_name
    metrics = findings_at(result, "181f10493468_allow_nulls_for_metric_values.py")
    # ``value`` is in the primary key metric_pk added to this table made by the application
    # (451aebb31d03): NOT NULL already, SET NOT NULL scans nothing
    assert (19, "set-not-null") not in metrics
    assert (19, "change-column-type") in metrics  # float -> Float(precision=53), old unknown
    endpoints = findings_at(result, "d0e1f2a3b4c5_add_experiment_id_to_endpoints.py")
    assert (24, "add-foreign-key-validated") in endpoints


def test_mlflow_safe_changes_are_not_flagged(mlflow_result) -> None:
    _, result = mlflow_result
    # String(250) -> String(500) on a column that is already NOT NULL: no rewrite, no scan
    widened = findings_at(result, "cc1f77228345_change_param_value_length_to_500.py")
    assert widened == {
        (22, "lock-timeout-missing"),  # no rewrite, but ACCESS EXCLUSIVE all the same
        (31, "missing-downgrade"),  # its downgrade() is `pass`
    }


def test_ckan_is_captured_whole_loops_included(ckan_result) -> None:
    """Every script runs to its end; the operations issued in loops are all there."""
    loop_021 = findings_at(ckan_result, "021_765143af2ba3_postgresql_upgrade_sql.py")
    # ckan's env.py sets no lock_timeout: said once per function, at its first blocking lock
    assert loop_021 == {
        (100, "create-index-not-concurrently"),
        (100, "lock-timeout-missing"),
        (105, "lock-timeout-missing"),
    }
    assert sum(1 for f in _locking(ckan_result) if f.path.name.startswith("021_")) == 54
    loop_039 = [f for f in _locking(ckan_result) if f.path.name.startswith("039_")]
    assert {(f.line, f.rule) for f in loop_039} == {
        (146, "create-index-not-concurrently"),
        # the loop's ADD COLUMNs hold each table ACCESS EXCLUSIVE while its indexes build
        (146, "work-after-access-exclusive-lock"),
    }
    # 22 builds; no drop: downgrade() drops each index, then a column of it, which locks
    # the table anyway and would drop the index itself
    assert sum(1 for f in loop_039 if f.rule.endswith("index-not-concurrently")) == 22
    fks_016 = findings_at(ckan_result, "016_37ada738328e_uuids_everywhere.py")
    assert {(64, "add-foreign-key-validated"), (72, "add-foreign-key-validated")} <= fks_016
    # what remains to say is true of the script itself: a CreateTableOp with a column twice
    # (ckan's own bug). 083 counts the rows of ``related`` and drops it only where there
    # are none: the run with none does all the run with rows does, and is judged
    assert sorted((d.path.name[:3], d.line) for d in ckan_result.diagnostics) == [("038", 56)]
    assert findings_at(ckan_result, "083_f98d8fa2a7f7_remove_related_items.py") >= {
        (42, "drop-table")
    }
    assert not ckan_result.has_fatal


def test_ckan_downgrade_that_roundtrip_sees_fail_is_found_without_a_database(
    ckan_result,
) -> None:
    """034's downgrade creates again the indexes its table kept through both renames:
    roundtrip finds it failing at line 154 (tests/test_realdata_roundtrip.py), and
    object-already-exists says so from the capture alone."""
    found = findings_at(ckan_result, "034_6c600693af5b_resource_group_table.py")
    assert {(154, "object-already-exists"), (157, "object-already-exists")} <= found
    assert sum(1 for f in ckan_result.findings if f.rule == "object-already-exists") == 2


def test_fidelity_on_released_histories_with_their_source_but_not_their_dependencies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bench/fidelity.py's default setting, as a floor: the share of scripts checked without
    any notice (docs/fidelity.md has the figures and what the rest are)."""
    clean = total = 0
    for history in FIDELITY:
        root = source_tree(history)
        versions = root / history.versions_dir
        monkeypatch.syspath_prepend(str(root))
        result = command.check([versions])
        monkeypatch.undo()
        assert not result.has_fatal, history.package
        noticed = {d.path for d in result.diagnostics}
        total += result.checked
        clean += result.checked - len(noticed)
    assert clean / total >= 0.94, f"{clean}/{total}"


def test_neutron_release_subdirectories_are_all_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenStack keeps revisions in ``versions/<release>/{expand,contract}/`` with branch
    labels set from names: every one is checked, and the first revision, which reflects
    Alembic's version table, builds the schema the others reflect."""
    root = source_tree(NEUTRON)
    versions = root / NEUTRON.versions_dir
    monkeypatch.syspath_prepend(str(root))
    result = command.check([versions])
    scripts = [p for p in versions.rglob("*.py") if p.name != "__init__.py"]
    assert len(scripts) > 100 and result.checked == len(scripts)
    assert not result.has_fatal
    messages = [d.message for d in result.diagnostics]
    assert not [m for m in messages if "alembic_version" in m or "names no revision" in m]
    assert not [m for m in messages if "has no attribute 'orm'" in m]
    initial = [f for f in result.findings if Path(f.path).name == "kilo_initial.py"]
    assert initial  # its schema was captured, and judged


def test_designate_rows_from_its_configuration_cost_only_those_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """designate's initial revision inserts the default pool, whose id comes from its
    configuration (stood in): that INSERT is unknown, and the tables created after it are
    captured; the revisions that reflect them run (seven failed with NoSuchTableError)."""
    root = source_tree(DESIGNATE)
    monkeypatch.syspath_prepend(str(root))
    result = command.check([root / DESIGNATE.versions_dir])
    messages = [d.message for d in result.diagnostics]
    assert not [m for m in messages if "NoSuchTableError" in m]
    (initial,) = [d for d in result.diagnostics if d.path.name == "c9f427f7180a_liberty.py"]
    assert initial.message.endswith(
        "the rows that statement writes are not known, so it is not checked; "
        "the statements after it are"
    )
    assert len(result.diagnostics) <= 2  # that one, and a revision that reads rows


def test_tacker_reflects_tables_through_foreign_keys_to_renamed_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tacker renames ``devicetemplates`` to ``vnfd``, and later reflects ``vnf``, whose
    foreign key refers to it: the schema keeps that foreign key pointing at ``vnfd``."""
    root = source_tree(TACKER)
    monkeypatch.syspath_prepend(str(root))
    result = command.check([root / TACKER.versions_dir])
    assert not result.has_fatal
    assert not [d for d in result.diagnostics if "NoSuchTableError" in d.message]

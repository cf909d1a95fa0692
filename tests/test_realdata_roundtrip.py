"""The roundtrip on real histories from PyPI wheels: CKAN's 109 PostgreSQL revisions, which run
from an empty database, and optuna's, which do not (optuna/optuna#3999)."""

from __future__ import annotations

import sys

import pytest

from migsafe.postgres import disposable_postgres
from migsafe.roundtrip.result import RoundtripResult, Verdict
from tests.conftest import roundtrip
from tests.realdata import CKAN, OPTUNA, OPTUNA_RUNTIME, extract, extracted_root, installed

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def ckan() -> RoundtripResult:
    versions = extract(CKAN)
    sys.path.insert(0, str(extracted_root(CKAN)))
    try:
        return roundtrip(versions, "embedded")
    finally:
        sys.path.remove(str(extracted_root(CKAN)))


def by_revision(result: RoundtripResult) -> dict[str, object]:
    return {r.revision: r for r in result.revisions}


def test_ckan_runs_end_to_end_and_every_revision_gets_a_verdict(ckan: RoundtripResult) -> None:
    assert not ckan.diagnostics
    assert len(ckan.revisions) == 109
    verdicts = [r.verdict for r in ckan.revisions]
    assert Verdict.SKIPPED not in verdicts  # every upgrade works from an empty database
    assert verdicts.count(Verdict.OK) >= 90


def test_ckan_defects_found_by_the_schema_diff(ckan: RoundtripResult) -> None:
    revisions = by_revision(ckan)
    vdm_ids = revisions["e8283ffb257e"]  # 008: its downgrade does not restore the primary key
    assert vdm_ids.verdict is Verdict.DOWNGRADE_LEAVES_TRACE
    assert "constraint public.revision revision_pkey: missing (PRIMARY KEY (id))" in [
        str(c) for c in vdm_ids.changes
    ]
    search = revisions["bd38cd6502b2"]  # 043: the downgrade brings back a key it never had
    assert "index public.package_search_pkey: extra" in "\n".join(str(c) for c in search.changes)


def test_ckan_failing_downgrade_is_located(ckan: RoundtripResult) -> None:
    resource_group = by_revision(ckan)["6c600693af5b"]  # 034
    assert resource_group.verdict is Verdict.DOWNGRADE_FAILED
    assert resource_group.error.line == 154
    assert resource_group.error.sql.startswith("CREATE INDEX idx_package_resource_pkg_id")
    assert ckan.rebuilds >= 1  # and the run went on past it


def test_optuna_history_does_not_run_from_an_empty_database() -> None:
    site = installed(OPTUNA.package, OPTUNA.version, *OPTUNA_RUNTIME)
    alembic_dir = site / OPTUNA.versions_dir.rsplit("/", 1)[0]
    sys.path.insert(0, str(site))
    try:
        with disposable_postgres("embedded") as server:
            result = roundtrip(
                alembic_dir, server.url, metadata="optuna.storages._rdb.models:BaseModel.metadata"
            )
    finally:
        sys.path.remove(str(site))
    revisions = by_revision(result)
    first = revisions["v0.9.0.a"]
    assert first.verdict is Verdict.DOWNGRADE_LEAVES_TRACE  # drops tables, keeps the enum types
    assert [str(c) for c in first.changes] == [
        "enum type public.studydirection: extra (labels 'NOT_SET', 'MINIMIZE', 'MAXIMIZE')",
        "enum type public.trialstate: extra (labels 'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL')",
    ]
    multi = revisions["v2.4.0.a"]
    assert multi.verdict is Verdict.UPGRADE_FAILED
    assert 'type "studydirection" already exists' in multi.error.message
    assert revisions["v3.2.0.a"].verdict is Verdict.SKIPPED
    assert result.drift is None and "did not upgrade" in result.drift_note

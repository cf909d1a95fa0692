"""``migsafe roundtrip --shard K/N`` on a real PostgreSQL (the embedded provider): the shards
of a history with failing revisions cover every selected revision exactly once, in order,
and their JUnit reports merge into the unsharded run's."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest

from migsafe import command
from migsafe.errors import MigsafeError
from migsafe.project import load_project
from migsafe.report import renderer
from migsafe.report.roundtrip.junit_merge import JunitMergeError, merge_junit
from migsafe.roundtrip import ProgressCallbacks, RoundtripOptions
from migsafe.roundtrip.result import RevisionResult, RoundtripResult, Verdict
from migsafe.roundtrip.selection import SelectionError, Shard, plan_revisions, shard_plan
from tests.conftest import migration_source, roundtrip

# s06 fails to upgrade; s07 is its sibling branch and still runs; s08 merges them, so it and
# s09 are skipped. s02 leaves a trace the re-upgrade trips over, s04's downgrade fails.
HISTORY = [
    ("s01", None, 'op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
     'op.drop_table("users")'),
    ("s02", "s01", 'op.add_column("users", sa.Column("email", sa.Text))', "pass"),
    ("s03", "s02", 'op.create_table("orders", sa.Column("id", sa.Integer))',
     'op.drop_table("orders")'),
    ("s04", "s03", 'op.add_column("orders", sa.Column("total", sa.Integer))',
     'op.execute("DROP TABLE no_such_table")'),
    ("s05", "s04", 'op.add_column("users", sa.Column("nick", sa.Text))',
     'raise NotImplementedError("one-way")'),
    ("s06", "s05", 'op.execute("SELECT 1 / 0")', "pass"),
    ("s07", "s05", 'op.create_table("notes", sa.Column("id", sa.Integer))',
     'op.drop_table("notes")'),
    ("s08", ("s06", "s07"), "pass", "pass"),
    ("s09", "s08", 'op.create_index("ix_users_nick", "users", ["nick"])',
     'op.drop_index("ix_users_nick", table_name="users")'),
]  # fmt: skip


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    versions = tmp_path_factory.mktemp("shards") / "versions"
    versions.mkdir()
    for revision, parent, upgrade, downgrade in HISTORY:
        body = f"def upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    {downgrade}\n"
        (versions / f"{revision}.py").write_text(migration_source(body, revision, parent))
    return versions


@pytest.fixture(scope="module")
def unsharded(history: Path, server_url: str) -> RoundtripResult:
    return roundtrip(history, server_url)


def junit(result: RoundtripResult) -> str:
    out = io.StringIO()
    renderer("roundtrip", "junit")(result, out)
    return out.getvalue()


def without_times(document: str) -> str:
    return re.sub(r'\btime="[0-9.]+"', 'time="<seconds>"', document)


def named(document: str, shard: str) -> str:
    """The report with its ``shard`` property, as junit.py writes it for a shard."""
    suite = ElementTree.fromstring(document)
    if suite.find("properties/property[@name='shard']") is None:
        properties = ElementTree.Element("properties")
        ElementTree.SubElement(properties, "property", name="shard", value=shard)
        suite.insert(0, properties)
    ElementTree.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(suite, "unicode")


def listed(results: list[RoundtripResult]) -> list[tuple[str, Verdict]]:
    return [(r.revision, r.verdict) for result in results for r in result.revisions]


def test_the_fixture_has_its_failures(unsharded: RoundtripResult) -> None:
    assert dict(listed([unsharded])) == {
        "s01": Verdict.OK, "s02": Verdict.DOWNGRADE_LEAVES_TRACE, "s03": Verdict.OK,
        "s04": Verdict.DOWNGRADE_FAILED, "s05": Verdict.ONE_WAY, "s06": Verdict.UPGRADE_FAILED,
        "s07": Verdict.OK, "s08": Verdict.SKIPPED, "s09": Verdict.SKIPPED,
    }  # fmt: skip
    assert unsharded.shard is None


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_shards_cover_the_history_once_and_merge_into_the_unsharded_report(
    history: Path, server_url: str, unsharded: RoundtripResult, count: int
) -> None:
    shards = [roundtrip(history, server_url, shard=f"{k}/{count}") for k in range(1, count + 1)]
    assert listed(shards) == listed([unsharded])  # every revision once, in history order
    sizes = [len(s.revisions) for s in shards]
    assert max(sizes) - min(sizes) <= 1
    assert [s.shard for s in shards] == [f"{k}/{count}" for k in range(1, count + 1)]
    for shard in shards[:-1]:
        assert "this shard stops before the head" in shard.drift_note
    assert shards[-1].drift_note == unsharded.drift_note
    # a shard passes exactly when its own revisions do
    assert [s.passed for s in shards] == [not s.failures for s in shards]
    documents = [named(junit(s), s.shard) for s in shards]
    merged = merge_junit(documents[::-1])  # the shard property puts them in order
    assert without_times(merged) == without_times(junit(unsharded))


def test_a_shard_upgrades_once_to_its_slice_and_reports_only_that(
    history: Path, server_url: str
) -> None:
    second = roundtrip(history, server_url, shard="2/3")
    assert listed([second]) == [
        ("s04", Verdict.DOWNGRADE_FAILED), ("s05", Verdict.ONE_WAY), ("s06", Verdict.UPGRADE_FAILED)
    ]  # fmt: skip
    assert not second.passed

    class Recorder(ProgressCallbacks):
        def __init__(self) -> None:
            self.total, self.finished_revisions = 0, []

        def started(self, total: int, description: str) -> None:
            self.total = total

        def finished(self, result: RevisionResult) -> None:
            self.finished_revisions.append(result.revision)

    project = load_project([history])
    recorder = Recorder()
    options = RoundtripOptions(postgres=server_url, shard=Shard(3, 3))
    third = command.roundtrip(project, options, progress=recorder)
    # s06, the second shard's, failed when upgraded on the way: it is the second shard's to
    # report (and the streamed report does not show it either); what builds on it is skipped
    assert listed([third]) == [("s07", Verdict.OK), ("s08", Verdict.SKIPPED),
                               ("s09", Verdict.SKIPPED)]  # fmt: skip
    assert third.revisions[1].note == "s06 did not upgrade"
    assert recorder.finished_revisions == ["s07", "s08", "s09"] and recorder.total == 3
    assert third.passed and third.rebuilds == 1  # rebuilt after s06 failed


def test_shards_slice_what_from_and_to_select(history: Path, server_url: str) -> None:
    whole = roundtrip(history, server_url, start="s02", stop="s05")
    shards = [
        roundtrip(history, server_url, start="s02", stop="s05", shard=f"{k}/3") for k in (1, 2, 3)
    ]
    assert listed(shards) == listed([whole]) and len(whole.revisions) == 4
    assert [len(s.revisions) for s in shards] == [1, 1, 2]
    assert all("--to stops before the head" in s.drift_note for s in shards)
    documents = [named(junit(s), s.shard) for s in shards]
    assert without_times(merge_junit(documents)) == without_times(junit(whole))


def test_shards_slice_what_since_selects(tmp_path: Path, server_url: str) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    for revision, parent, upgrade, downgrade in HISTORY[:5]:
        body = f"def upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    {downgrade}\n"
        (versions / f"{revision}.py").write_text(migration_source(body, revision, parent))

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(versions), "-c", "user.email=t@example.com",
                        "-c", "user.name=t", *args], check=True, capture_output=True)  # fmt: skip

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "base")
    for changed in ("s02.py", "s04.py", "s05.py"):
        (versions / changed).write_text((versions / changed).read_text() + "\n# edited\n")
    whole = roundtrip(versions, server_url, since="HEAD")
    assert [r.revision for r in whole.revisions] == ["s02", "s04", "s05"]
    shards = [roundtrip(versions, server_url, since="HEAD", shard=f"{k}/2") for k in (1, 2)]
    assert [[r.revision for r in s.revisions] for s in shards] == [["s02"], ["s04", "s05"]]
    documents = [named(junit(s), s.shard) for s in shards]
    assert without_times(merge_junit(documents)) == without_times(junit(whole))


def test_an_empty_shard_runs_nothing_and_passes(history: Path, server_url: str) -> None:
    result = roundtrip(history, server_url, start="s08", shard="1/3")  # s08, s09: 0, 1, 1
    assert result.revisions == [] and result.passed and result.exit_code == 0
    assert result.shard == "1/3" and result.provider == ""  # no server was even started


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/4", "--shard 0/4: the shard number K must be from 1 to 4"),
        ("5/4", "--shard 5/4: the shard number K must be from 1 to 4"),
        ("1/0", "--shard 1/0: the number of shards N must be at least 1"),
        ("a/b", "--shard a/b: expected K/N, shard K of N (e.g. 2/4)"),
        ("3", "--shard 3: expected K/N, shard K of N (e.g. 2/4)"),
        ("-1/4", "--shard -1/4: expected K/N, shard K of N (e.g. 2/4)"),
    ],
)
def test_bad_shards_are_one_line_errors(history: Path, text: str, message: str) -> None:
    with pytest.raises(SelectionError) as raised:
        roundtrip(history, "no-such-provider", shard=text)  # refused before any server
    assert str(raised.value) == message and isinstance(raised.value, MigsafeError)


def test_slices_are_contiguous_nearly_equal_and_partition_every_plan(history: Path) -> None:
    """No database: for every selection and shard count, each planned revision is reported
    by exactly one shard, and the selected ones are stairwayed by exactly one, in order."""
    project = load_project([history])
    revisions = [s.revision for s in project.history.scripts]
    for start in (None, "s01", "s04", "s09"):
        for stop in (None, "s03", "s09"):
            if start and stop and revisions.index(start) > revisions.index(stop):
                continue
            plan = plan_revisions(project.history, start, stop)
            selected = [p.revision for p in plan if p.selected]
            for count in range(1, 12):
                parts = [shard_plan(plan, Shard(k, count)) for k in range(1, count + 1)]
                slices = [[p.revision for p in part.plan if p.selected] for part in parts]
                assert [r for s in slices for r in s] == selected
                assert max(map(len, slices)) - min(map(len, slices)) <= 1
                reported = [r for r in revisions if any(r in part.reported for part in parts)]
                assert reported == [p.revision for p in plan]
                assert sum(len(part.reported) for part in parts) == len(plan)
                assert [part.reaches_head for part in parts] == [False] * (count - 1) + [True]
                for part in parts:  # what a shard walks is the plan's beginning
                    assert [p.revision for p in part.plan] == [
                        p.revision for p in plan[: len(part.plan)]
                    ]


def test_merge_refuses_an_incomplete_or_mixed_set_of_shards(unsharded: RoundtripResult) -> None:
    document = junit(unsharded)
    with pytest.raises(JunitMergeError, match=r"^shard 2/3 missing: no report names it$"):
        merge_junit([named(document, "1/3"), named(document, "3/3")])
    with pytest.raises(JunitMergeError, match=r"^b.xml: shard 1/2 again \(also a.xml\)$"):
        merge_junit([named(document, "1/2"), named(document, "1/2")], names=["a.xml", "b.xml"])
    with pytest.raises(JunitMergeError, match="different shardings"):
        merge_junit([named(document, "1/2"), named(document, "2/3")])
    with pytest.raises(JunitMergeError, match=r"^b.xml: names no shard, and other reports do$"):
        merge_junit([named(document, "1/2"), document], names=["a.xml", "b.xml"])
    with pytest.raises(JunitMergeError, match=r"^x.xml: not well-formed XML"):
        merge_junit(["<testsuite>"], names=["x.xml"])
    with pytest.raises(JunitMergeError, match=r"^x.xml: not a JUnit report"):
        merge_junit(["<coverage/>"], names=["x.xml"])


def test_merge_keeps_a_test_case_every_report_holds_once() -> None:
    """Findings about the graph and input errors are in every shard's report: once merged.
    Reports without a shard property are merged in the order given."""

    def report(*cases: str) -> str:
        body = "".join(cases)
        return f'<testsuite name="migsafe roundtrip" tests="9" time="1.5">{body}</testsuite>'

    heads = '<testcase classname="v/a.py" name="multiple-heads a"><failure type="x"/></testcase>'
    drift = '<testcase classname="migsafe" name="model drift" />'
    first = report('<testcase classname="v/a.py" name="a" time="1.0" />', heads)
    second = report('<testcase classname="v/b.py" name="b" time="2.0"><skipped /></testcase>',
                    drift, heads)  # fmt: skip
    merged = ElementTree.fromstring(merge_junit([first, second]))
    assert [case.get("name") for case in merged] == ["a", "b", "model drift", "multiple-heads a"]
    assert dict(merged.attrib) == {"name": "migsafe roundtrip", "tests": "4", "failures": "1",
                                   "skipped": "1", "errors": "0", "time": "3.000"}  # fmt: skip
    wrapped = f"<testsuites>{first}</testsuites>"
    assert merge_junit([wrapped, second]) == merge_junit([first, second])


def test_the_command_line_shards_and_merges(history: Path, server_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from migsafe.cli import cli

    runner = CliRunner()
    reports = []
    for k in (1, 2):
        report = tmp_path / f"shard-{k}.xml"
        shard = ["--shard", f"{k}/2", "--output", f"junit={report}"]
        result = runner.invoke(cli, ["roundtrip", str(history), "--postgres", server_url, *shard])
        assert result.exit_code in (0, 1), result.output
        reports.append(report)
    whole = tmp_path / "whole.xml"
    runner.invoke(cli, ["roundtrip", str(history), "--postgres", server_url, "--format", "junit",
                        "--output", f"junit={whole}"])  # fmt: skip
    merged = runner.invoke(cli, ["merge-junit", *map(str, reports)])
    assert merged.exit_code == 0, merged.output
    assert without_times(merged.stdout) == without_times(whole.read_text())
    bad = runner.invoke(cli, ["roundtrip", str(history), "--shard", "5/4"])
    assert (
        bad.exit_code == 2 and "--shard 5/4: the shard number K must be from 1 to 4" in bad.stderr
    )

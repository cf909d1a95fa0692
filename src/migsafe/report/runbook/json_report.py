"""The runbook as JSON, for tools that drive a deploy::

    {"schema_version": 1, "exit_code", "selection", "rolled_out_together": bool,
     "roundtrip": path | null,
     "summary": {"before deploy": n, "after deploy": n, "maintenance window": n},
     "before": [command],
     "deploy_before": revision | null (null: after the last one),
     "revisions": [{"revision", "title", "path", "phase", "after_deploy", "mixed",
        "split": [advice], "notes": [text],
        "changes": [{"kind", "what", "line", "table", "tags"}],
        "locks": [{"table", "lock", "blocks"}],
        "findings": [finding as in `migsafe check --format json`, plus "blocking"],
        "timeouts": {"lock_timeout", "statement_timeout", "lifted_for": [change]},
        "commands": [command], "checks_after": [{"what", "sql"}],
        "rollback": {"path", "text", "command"}}],
     "diagnostics": [{"path", "line", "message", "fatal"}]}

``phase`` is ``before deploy``, ``after deploy`` or ``maintenance window``; a change's
``kind`` is ``expand``, ``contract``, ``breaking``, ``data`` or ``neutral``; ``rollback.path``
is ``roundtripped``, ``not-roundtripped``, ``failed-roundtrip``, ``one-way`` or
``nothing-to-undo``.
"""

from __future__ import annotations

from typing import TextIO

from migsafe.findings import Change
from migsafe.report import display_path, write_json
from migsafe.report.json_report import finding_document
from migsafe.rollout.plan import Phase, Runbook, Step

SCHEMA_VERSION = 1


def render(runbook: Runbook, out: TextIO) -> None:
    deploy_at = runbook.deploy_at
    document = {
        "schema_version": SCHEMA_VERSION,
        "exit_code": runbook.exit_code,
        "selection": runbook.selection,
        "rolled_out_together": runbook.together,
        "roundtrip": display_path(runbook.roundtrip) if runbook.roundtrip else None,
        "summary": {str(phase): runbook.count(phase) for phase in Phase},
        "before": list(runbook.before),
        "deploy_before": (
            runbook.steps[deploy_at].revision if deploy_at < len(runbook.steps) else None
        ),
        "revisions": [_step(step) for step in runbook.steps],
        "diagnostics": [
            {"path": display_path(d.path), "line": d.line, "message": d.message, "fatal": d.fatal}
            for d in runbook.diagnostics
        ],
    }
    write_json(document, out, ensure_ascii=False)


def _change(change: Change) -> dict[str, object]:
    return {
        "kind": str(change.kind),
        "what": change.what,
        "line": change.line,
        "table": change.table,
        "tags": list(change.tags),
    }


def _step(step: Step) -> dict[str, object]:
    blocking = set(step.blocking)
    return {
        "revision": step.revision,
        "title": step.title,
        "path": display_path(step.path),
        "phase": str(step.phase),
        "after_deploy": step.after_deploy,
        "mixed": step.mixed,
        "split": list(step.split),
        "notes": list(step.notes),
        "changes": [_change(c) for c in step.changes],
        "locks": [{"table": k.table, "lock": k.mode, "blocks": k.blocks} for k in step.locks],
        "findings": [{**finding_document(f), "blocking": f in blocking} for f in step.findings],
        "timeouts": {
            "lock_timeout": step.timeouts.lock_timeout,
            "statement_timeout": step.timeouts.statement_timeout,
            "lifted_for": list(step.timeouts.lifted_for),
        },
        "commands": list(step.commands),
        "checks_after": [{"what": c.what, "sql": c.sql} for c in step.checks],
        "rollback": {
            "path": str(step.rollback),
            "text": step.rollback_text,
            "command": step.rollback_command,
        },
    }

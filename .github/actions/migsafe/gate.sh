#!/usr/bin/env bash
# migsafe's deploy gate: check (annotations, SARIF, summary) and roundtrip the revisions a
# change touched. Run by action.yml; usable as it is in any CI (see docs/ci.md).
#
# Inputs (environment): INPUT_CONFIG (alembic.ini), INPUT_SINCE (a git ref, or "all"; in a
# GitHub pull request, default: where it left its base branch), INPUT_POSTGRES_VERSION, INPUT_ROUNDTRIP
# (true|false), INPUT_SHARD (K/N), INPUT_FAIL_ON, MIGSAFE_REPORTS (where reports go).
# Outputs (GITHUB_OUTPUT, when set): findings, verdict (passed|failed|error), sarif, status.
# Exit status: 0 passed, 1 findings or failed revisions, 2 bad input; with
# MIGSAFE_DEFER_EXIT=true it exits 0 and leaves the status to the caller (the action uploads
# SARIF first).
set -uo pipefail

config="${INPUT_CONFIG:-alembic.ini}"
reports="${MIGSAFE_REPORTS:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/migsafe-reports}"
mkdir -p "$reports"

since="${INPUT_SINCE:-}"
if [ "$since" = "all" ]; then
  since=""  # every revision, even in a pull request
elif [ -z "$since" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then
  # a pull request: only what it changes; the base branch may not be fetched yet
  if git rev-parse --verify --quiet "origin/$GITHUB_BASE_REF" >/dev/null \
    || git fetch --quiet --no-tags origin \
      "+refs/heads/$GITHUB_BASE_REF:refs/remotes/origin/$GITHUB_BASE_REF" 2>/dev/null; then
    since="origin/$GITHUB_BASE_REF"
  else
    since="$GITHUB_BASE_REF"
  fi
fi

common=(-c "$config")
[ -n "${INPUT_POSTGRES_VERSION:-}" ] && common+=(--pg-version "$INPUT_POSTGRES_VERSION")
[ -n "$since" ] && common+=(--since "$since")

check_status=0
migsafe check "${common[@]}" --fail-on "${INPUT_FAIL_ON:-warning}" --format github \
  --output "sarif=$reports/migsafe.sarif" --output "markdown=$reports/check.md" \
  --output "json=$reports/check.json" || check_status=$?

roundtrip_status=0
if [ "${INPUT_ROUNDTRIP:-true}" = "true" ]; then
  shard=()
  [ -n "${INPUT_SHARD:-}" ] && shard=(--shard "$INPUT_SHARD")
  migsafe roundtrip "${common[@]}" "${shard[@]}" --format github \
    --output "markdown=$reports/roundtrip.md" --output "junit=$reports/roundtrip.xml" \
    --output "json=$reports/roundtrip.json" || roundtrip_status=$?
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  for part in check roundtrip; do
    [ -f "$reports/$part.md" ] && { cat "$reports/$part.md"; echo; } >> "$GITHUB_STEP_SUMMARY"
  done
fi

status=0
for code in "$check_status" "$roundtrip_status"; do
  if [ "$code" -ge 2 ]; then status=2; elif [ "$code" -eq 1 ] && [ "$status" -eq 0 ]; then status=1; fi
done
case "$status" in 0) verdict=passed ;; 1) verdict=failed ;; *) verdict=error ;; esac
findings=$(python -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["findings"]))' \
  "$reports/check.json" 2>/dev/null || echo 0)
sarif=""
[ -f "$reports/migsafe.sarif" ] && sarif="$reports/migsafe.sarif"

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "findings=$findings"
    echo "verdict=$verdict"
    echo "sarif=$sarif"
    echo "status=$status"
  } >> "$GITHUB_OUTPUT"
fi
echo "migsafe: $verdict ($findings findings; reports in $reports)" >&2
if [ "${MIGSAFE_DEFER_EXIT:-false}" = "true" ]; then
  exit 0
fi
exit "$status"

"""Timestamps a migration took from the clock while migsafe ran it, written back as SQL that
takes them when the recipe runs.

A migration that binds ``datetime.utcnow()`` (invenio-oauthclient's ``UPDATE ... SET
created = :date``) is captured with the time of the capture in its SQL. A recipe that quotes
that SQL must not hard-code the moment migsafe ran; it says ``now()`` instead. A literal is
taken for the clock's when it has a fraction of a second (nobody types microseconds) and falls
within the last day: migsafe ran the migration moments before its rules read the SQL, and
results read back from the cache were written this way then.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_TIMESTAMP = re.compile(
    r"(?<!')'(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\.\d{1,6})([+-]\d{2}:\d{2})?'(?!')"
)
_RECENT = timedelta(days=1)
_AHEAD = timedelta(minutes=1)


def as_clock_sql(sql: str) -> str:
    """``sql`` with each timestamp literal the clock made while migsafe ran as the SQL
    expression for the clock: ``now()`` for a time with a zone, ``timezone('utc', now())``
    for a naive UTC one (``datetime.utcnow()``), ``localtimestamp`` for a naive local one."""
    if "'" not in sql:
        return sql
    return _TIMESTAMP.sub(_clock_expression, sql)


def _clock_expression(match: re.Match[str]) -> str:
    try:
        value = datetime.fromisoformat(match.group(1) + (match.group(2) or ""))
    except ValueError:
        return match.group(0)
    if value.tzinfo is not None:
        return "now()" if _recent(value, datetime.now(timezone.utc)) else match.group(0)
    if _recent(value, datetime.now(timezone.utc).replace(tzinfo=None)):
        return "timezone('utc', now())"
    if _recent(value, datetime.now()):
        return "localtimestamp"
    return match.group(0)


def _recent(value: datetime, now: datetime) -> bool:
    return now - _RECENT <= value <= now + _AHEAD

"""duplicate-slug: two revision files say they make the same change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from migsafe.findings import Finding, Severity
from migsafe.project import History, MigrationScript
from migsafe.project.alembic_config import (
    DEFAULT_FILE_TEMPLATE,
    AlembicConfig,
    alembic_config,
    config_files,
)
from migsafe.rule import Category, Rule
from migsafe.rules.history.filename_convention import (
    shown,
    slug_of,
    template_match,
    visible,
)

RULE = Rule(
    code="MS057",
    name="duplicate-slug",
    severity=Severity.WARNING,
    category=Category.HISTORY,
    help="Name what this revision does differently; delete it only if it is the same change "
    "twice and no database has run it yet.",
    summary="Two revision files have the same slug: the same change twice, or two names "
    "that cannot be told apart.",
    why=(
        "The slug is the part of a revision's file name `alembic revision -m` makes of its "
        "message. Two revisions with one slug are most often the same change made twice: a "
        "branch that generated its migration again after a rebase, a revision copied from "
        'another branch. Then the later one fails on deploy ("already exists") or does the '
        "work twice. When the two really differ, nobody can tell them apart in `versions/`, "
        "in a traceback or in `alembic history`; and with a file_template without "
        "`%(rev)s`, two such revisions made the same day get the same file name: `alembic "
        "revision` silently overwrites the first, two branches clash in git. Merge revisions "
        "and one-word or default slugs (`merge_heads`, `auto`, `empty_message`) are not "
        "judged, nor two files in different directories (OpenStack's `expand/` and "
        "`contract/` halves of one change): their paths tell them apart and cannot clash; "
        "nor two slugs Alembic cut short at its `truncate_slug_length` from messages that "
        "differ."
    ),
    fix="""\
# two different changes: say what this one does in its file name (and docstring)
git mv {old} {new}
# the same change twice, and no database has run it yet (not released): delete the later
# file, and set the down_revision of the revisions that follow it to its own
# down_revision ({parents}); once released, a database stamped with it cannot lose it""",
    bad=(),
    good=(),
    since="0.2.0",
)

_DEFAULT_MESSAGE = "empty_message"  # Alembic's message when -m is not given


def files_read(history: History) -> list[Path]:
    """Besides the scripts, the verdict depends on the configuration's file_template."""
    return config_files(history.scripts)


def check_history(history: History) -> Iterator[Finding]:
    earlier_with: dict[tuple[Path, str], list[MigrationScript]] = {}
    known: dict[Path, AlembicConfig | None] = {}
    for script in history.scripts:  # parents first: the later of two is flagged
        slug = _slug(script, known)
        if slug is None or len(script.down_revisions) > 1:
            continue
        earlier = earlier_with.setdefault((script.path.parent, slug), [])
        earlier.append(script)
        config = alembic_config(script.path, known)
        length = config.truncate_slug_length if config is not None else _ALEMBIC_LENGTH
        first = next((e for e in earlier[:-1] if not _cut_short(slug, e, script, length)), None)
        if first is None:
            continue
        directory = config.directory if config is not None else None
        finding = RULE.finding(
            script.path,
            script.revision_line,
            script.revision,
            f"Revision {script.revision} ({script.path.name}) has the slug {slug!r} "
            f"of revision {first.revision} ({first.path.name}): the same change twice, or "
            "two revisions nobody can tell apart by name.",
            parents=", ".join(script.down_revisions) or "None",
            old=shown(script.path, directory),
            new=shown(_renamed(script.path, slug), directory),
        )
        if visible(finding, script):
            yield finding


def _slug(script: MigrationScript, known: dict[Path, AlembicConfig | None]) -> str | None:
    """The slug of the file name, by the project's file_template when the name follows it,
    else what is left of the name without the revision id and leading numbers (a date);
    None when that is one word, none, or Alembic's default message."""
    config = alembic_config(script.path, known)
    template = config.file_template if config is not None else DEFAULT_FILE_TEMPLATE
    match = template_match(template, script)
    if isinstance(match, re.Match) and "slug" in match.re.groupindex:
        slug = match.group("slug")
    else:
        words = [w for w in re.split(r"[\W_]+", script.path.stem) if w]
        words = [w for w in words if w.lower() != script.revision.lower()]
        while words and words[0].isdigit():
            words.pop(0)
        slug = "_".join(words)
    slug = slug.strip("_").lower()
    if len([w for w in slug.split("_") if w]) < 2 or slug == _DEFAULT_MESSAGE:
        return None
    return slug


def _cut_short(slug: str, first: MigrationScript, later: MigrationScript, length: int) -> bool:
    """Alembic cut ``slug`` short (at its ``truncate_slug_length``) from two messages that
    differ after it: ``alembic history`` shows them apart (nonebot's migrate
    nonebot_plugin_tetris_stats_tetrioleague... revisions). Two slugs written alike by
    hand are still judged, whatever their messages: a message no longer than that length
    was not cut (pypn-ref-geo names three files ``add_missing_size_hierachy``)."""
    whole = [slug_of(script.title, _UNCUT) for script in (first, later)]
    cut = all(w != slug and w.startswith(slug) and len(w) > length for w in whole)
    return cut and whole[0] != whole[1]


_ALEMBIC_LENGTH = 40  # Alembic's truncate_slug_length when alembic.ini sets none


_UNCUT = 10_000  # longer than any message


def _renamed(path: Path, slug: str) -> Path:
    """The path with the slug in its name marked for a better one."""
    name = path.name
    at = name.lower().rfind(slug)
    if at < 0:
        return path.with_name(f"{path.stem}_WHAT_DIFFERS{path.suffix}")
    end = at + len(slug)
    return path.with_name(f"{name[:end]}_WHAT_DIFFERS{name[end:]}")

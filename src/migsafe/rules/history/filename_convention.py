"""filename-convention: a revision file not named as the project's file_template names them.

Its template reading (``template_match``, ``slug_of``) serves duplicate-slug too.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterator
from pathlib import Path

from migsafe.findings import Finding, Severity
from migsafe.project import History, MigrationScript
from migsafe.project.alembic_config import AlembicConfig, alembic_config, config_files
from migsafe.rule import Category, Rule
from migsafe.suppress import Suppressions

RULE = Rule(
    code="MS056",
    name="filename-convention",
    severity=Severity.NOTICE,
    category=Category.HISTORY,
    help="Rename the file as `alembic revision` would have named it (Alembic reads the "
    "revision from inside the file, so renaming is safe).",
    summary="A revision file is not named as the project's file_template names revisions.",
    why=(
        "`alembic revision` names every file with the `file_template` of alembic.ini (or "
        "`[tool.alembic]` in pyproject.toml; Alembic's default is `%(rev)s_%(slug)s`). A file "
        "that does not follow it was written or renamed by hand: it sorts out of place in "
        "`versions/`, and the date, slug or revision id that readers and tools expect in the "
        "name is missing or wrong. Alembic finds revisions by the `revision` variable inside "
        "each file, never by its name, so renaming the file is safe. Only judged when the "
        "project's alembic.ini (or pyproject.toml) is found next to the migrations; files "
        "named before the project changed its template are flagged too."
    ),
    fix="""\
# Alembic finds a revision by the `revision` inside the file: renaming it is safe
git mv {old} {new}""",
    bad=(),
    good=(),
    opt_in=True,
    since="0.2.0",
)

_TOKEN = re.compile(
    r"%%|%\((?P<name>\w+)\)(?P<flags>[#0\- +]*)(?P<width>\d*)(?:\.(?P<precision>\d+))?"
    r"(?P<type>[a-zA-Z])"
)
_NUMBERS = ("epoch", "year", "month", "day", "hour", "minute", "second")
_PLACEHOLDERS = {"epoch": "EPOCH", "year": "YYYY", "month": "MM", "day": "DD", "hour": "HH",
                 "minute": "MI", "second": "SS", "slug": "SLUG"}  # fmt: skip
_CREATE_DATE = re.compile(r"^Create Date:\s*(?P<date>\S+ \S+)", re.MULTILINE)
_SLUG_WORDS = re.compile(r"\w+")


def template_match(template: str, script: MigrationScript) -> re.Match[str] | bool | None:
    """The match of the file's name (and as many directories above it as the template has
    ``/``) against ``template`` read as a pattern, with the script's own revision id for
    ``%(rev)s``; None when it does not match, False when the template cannot be read as a
    pattern (a token Alembic does not fill, a conversion other than d, i, u or s)."""
    pattern = _pattern(template, script.revision)
    if pattern is None:
        return False
    depth = template.count("/")
    name = "/".join(script.path.parts[-(depth + 1) :])
    return pattern.fullmatch(name)


def _pattern(template: str, revision: str) -> re.Pattern[str] | None:
    parts: list[str] = []
    position = 0
    slug_seen = False
    for token in _TOKEN.finditer(template):
        parts.append(re.escape(template[position : token.start()]))
        position = token.end()
        name = token.group("name")
        if name is None:
            parts.append("%")
        elif name == "rev" and token.group("type") in "sr":
            parts.append(re.escape(revision))
        elif name == "slug" and token.group("type") in "sr":
            parts.append(r"(?P=slug)" if slug_seen else r"(?P<slug>\w*)")
            slug_seen = True
        elif name in _NUMBERS and token.group("type") in "diuxs":
            digits = token.group("precision") or (
                token.group("width") if "0" in token.group("flags") else None
            )
            pad = " *" if token.group("width") and not digits else ""
            parts.append(pad + (rf"\d{{{int(digits)},}}" if digits else r"\d+"))
        else:
            return None
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts) + r"\.py")


def slug_of(message: str, length: int = 40) -> str:
    """The slug Alembic makes of a revision message."""
    slug = "_".join(_SLUG_WORDS.findall(message)).lower()
    if len(slug) > length:
        slug = slug[:length].rsplit("_", 1)[0] + "_"
    return slug


def expected_name(template: str, script: MigrationScript, truncate_slug_length: int) -> str:
    """The file name ``alembic revision`` would have given the script: its message and create
    date are read from its docstring; what is not there is a placeholder (``YYYY``)."""
    date = _create_date(script)
    values: dict[str, object] = {"rev": script.revision}
    if script.title:
        values["slug"] = slug_of(script.title, truncate_slug_length)
    if date is not None:
        values.update(year=date.year, month=date.month, day=date.day, hour=date.hour,
                      minute=date.minute, second=date.second)  # fmt: skip
        if date.tzinfo is not None:
            values["epoch"] = int(date.timestamp())

    def fill(token: re.Match[str]) -> str:
        name = token.group("name")
        if name is None:
            return "%"
        if name not in values:
            return _PLACEHOLDERS.get(name, name.upper())
        spec = token.group(0).replace(f"({name})", "", 1)
        try:
            return spec % values[name]
        except (TypeError, ValueError):
            return str(values[name])

    return _TOKEN.sub(fill, template) + ".py"


def _create_date(script: MigrationScript) -> datetime.datetime | None:
    found = _CREATE_DATE.search(script.source[:2000])
    if found is None:
        return None
    try:
        return datetime.datetime.fromisoformat(found.group("date"))
    except ValueError:
        return None


def _version_directory(path: Path, config: AlembicConfig, template: str) -> Path:
    """The versions directory the file is in (the template names a path inside it)."""
    for directory in config.version_directories():
        if directory in path.parents:
            return directory
    return path.parents[template.count("/")]


def shown(path: Path, directory: Path | None) -> str:
    """A path as the user types it where migsafe ran (a `git mv` in a recipe works from
    there, as the finding's own path does: zuul's alembic.ini is three directories down),
    else from the project's directory (where alembic.ini is): ``../app/db.py`` for a module
    beside it, never the machine's absolute path when either will do."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        pass
    if directory is not None:
        try:
            return path.relative_to(directory).as_posix()
        except ValueError:
            return Path(os.path.relpath(path, directory)).as_posix()
    return path.as_posix()


def visible(finding: Finding, script: MigrationScript) -> bool:
    """Whether the script's own ``# migsafe: ignore`` comments leave the finding shown
    (the caller reads those of the heads only)."""
    return not Suppressions.parse(script.source, script.tree).hides(finding)


def files_read(history: History) -> list[Path]:
    """Besides the scripts, the verdict depends on the configuration's file_template."""
    return config_files(history.scripts)


def check_history(history: History) -> Iterator[Finding]:
    known: dict[Path, AlembicConfig | None] = {}
    for script in history.scripts:
        config = alembic_config(script.path, known)
        if config is None:
            continue
        template = config.file_template
        if template_match(template, script) is not None:
            continue  # it matches, or the template is not one migsafe can read
        expected = expected_name(template, script, config.truncate_slug_length)
        new = _version_directory(script.path, config, template) / expected
        finding = RULE.finding(
            script.path,
            script.revision_line,
            script.revision,
            f"The file name {script.path.name!r} does not follow the file_template "
            f"{template!r} of {config.path.name}: `alembic revision` would have named it "
            f"{expected!r}.",
            old=shown(script.path, config.directory),
            new=shown(new, config.directory),
        )
        if visible(finding, script):
            yield finding

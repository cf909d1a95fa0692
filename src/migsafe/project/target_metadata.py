"""env.py's ``target_metadata``, read without running env.py or the application.

env.py and the modules it imports the metadata from are read, not run: ``target_metadata``
is followed through assignments, ``from ... import`` of the project's own modules, declarative
base classes and their bases, ``declarative_base()``, ``registry()`` and Flask-SQLAlchemy's
``SQLAlchemy()``. Whatever leads outside the project (an installed package, a function call)
or is decided at run time is not known. What it tells: whether the metadata has a naming
convention (naming-convention-missing), and which (``naming_convention``: Alembic names the
constraints an operation makes without a name by it, and so does the capture).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from migsafe.project.alembic_config import AlembicConfig, alembic_config
from migsafe.project.history import History
from migsafe.project.imports import application_package

_DEPTH = 200  # steps taken before giving up (a cycle of imports)
_CONVENTION = "naming_convention=NAMING_CONVENTION"
_METADATA = f"MetaData({_CONVENTION})"


@dataclass(frozen=True)
class Module:
    path: Path
    tree: ast.Module
    source: str
    package: str | None  # the dotted package relative imports start from; None: env.py

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ast.unparse(node)

    @property
    def dotted(self) -> str | None:
        """The module's name as imported (None for env.py, which is not imported so)."""
        if self.package is None:
            return None
        if self.path.stem == "__init__":
            return self.package
        return f"{self.package}.{self.path.stem}" if self.package else self.path.stem


@dataclass(frozen=True)
class _Ref:
    """What a name stands for: an expression, a class, a module of the project, or
    something outside it (``external`` is its dotted name)."""

    kind: str  # expr, class, module, external
    module: Module | None = None
    node: ast.AST | None = None
    name: str = ""  # the name it was bound to, or the external dotted name


@dataclass(frozen=True)
class Missing:
    """Where the metadata without a convention is made, and how to make it with one."""

    module: Module
    line: int
    made: str  # the line(s) that make it with a convention, in the user's names


@dataclass(frozen=True)
class Convention:
    """The ``naming_convention=`` a metadata is made with: its expression, and where."""

    node: ast.expr
    module: Module


_ABSENT = object()  # a class that says nothing about its metadata


@dataclass
class MetadataResolver:
    roots: list[Path]
    visited: set[Path] = field(default_factory=set)
    scanned: Path | None = None  # the application package, when it was searched
    _modules: dict[str, Module | None] = field(default_factory=dict)
    depth: int = 0

    # -- modules and names --------------------------------------------------------------

    def module(self, dotted: str) -> Module | None:
        if dotted not in self._modules:
            self._modules[dotted] = self._load(dotted)
        return self._modules[dotted]

    def _load(self, dotted: str) -> Module | None:
        parts = dotted.split(".")
        for root in self.roots:
            for path, package in (
                (root.joinpath(*parts[:-1], f"{parts[-1]}.py"), ".".join(parts[:-1])),
                (root.joinpath(*parts, "__init__.py"), dotted),
            ):
                if path.is_file():
                    return load_module(path, package)
        return None

    def lookup(self, name: str, module: Module) -> _Ref | None:
        """What the module-level ``name`` of ``module`` is bound to last."""
        self.visited.add(module.path)
        found: _Ref | None = None
        stars: list[str] = []
        for node in _top_level(module.tree.body):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    found = _Ref("expr", module, node.value, name)
            elif isinstance(node, ast.ClassDef) and node.name == name:
                found = _Ref("class", module, node, name)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                found = None
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, module)
                for alias in node.names:
                    if alias.name == "*" and base is not None:
                        stars.append(base)
                    elif (alias.asname or alias.name) == name:
                        found = self._imported(base, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    if bound == name:
                        dotted = alias.name if alias.asname else name
                        found = self._module_ref(dotted)
        if found is None:
            for base in stars:
                star_module = self.module(base)
                if star_module is not None and self.depth < _DEPTH:
                    self.depth += 1
                    found = self.lookup(name, star_module) or found
        return found

    def _imported(self, base: str | None, name: str) -> _Ref | None:
        if base is None:
            return None
        source = self.module(base)
        if source is not None and self.depth < _DEPTH:
            self.depth += 1
            found = self.lookup(name, source)
            if found is not None:
                return found
        submodule = self.module(f"{base}.{name}")
        if submodule is not None:
            return _Ref("module", submodule)
        return _Ref("external", name=f"{base}.{name}") if source is None else None

    def _module_ref(self, dotted: str) -> _Ref:
        found = self.module(dotted)
        return _Ref("module", found) if found is not None else _Ref("external", name=dotted)

    def bound(self, node: ast.AST, module: Module) -> _Ref | None:
        """What a name (``Base``) or a module's attribute (``models.Base``) is bound to."""
        self.depth += 1
        if self.depth > _DEPTH:
            return None
        if isinstance(node, ast.Name):
            return self.lookup(node.id, module)
        if isinstance(node, ast.Attribute):
            owner = self.reference(node.value, module)
            if owner is not None and owner.kind == "module" and owner.module is not None:
                return self.lookup(node.attr, owner.module)
            if owner is not None and owner.kind == "external":
                return _Ref("external", name=f"{owner.name}.{node.attr}")
            return None
        return _Ref("expr", module, node)

    def reference(self, node: ast.AST, module: Module) -> _Ref | None:
        """What an expression naming an object (``Base``, ``models.Base``) stands for,
        aliases (``Base = _Base``) followed."""
        found = self.bound(node, module)
        if (
            found is not None
            and found.kind == "expr"
            and isinstance(found.node, (ast.Name, ast.Attribute))
            and found.module is not None
        ):
            return self.reference(found.node, found.module)
        return found

    # -- metadata -----------------------------------------------------------------------

    def metadata(self, node: ast.AST, module: Module, name: str = "") -> object:
        """A ``Convention`` when the metadata ``node`` makes or names has a naming
        convention (True when there is no metadata, ``None``, or several), a ``Missing``
        when it has none, None when that cannot be told."""
        self.depth += 1
        if self.depth > _DEPTH:
            return None
        if isinstance(node, ast.Constant) and node.value is None:
            return True
        if isinstance(node, (ast.List, ast.Tuple)):
            verdicts = [self.metadata(element, module) for element in node.elts]
            if any(v is None for v in verdicts):
                return None
            return next((v for v in verdicts if isinstance(v, Missing)), True)
        if isinstance(node, ast.Call):
            return self._made(node, module, name)
        if isinstance(node, ast.Attribute) and node.attr == "metadata":
            owner = self.reference(node.value, module)
            verdict = self.owned(owner) if owner is not None else None
            return None if verdict is _ABSENT else verdict
        if isinstance(node, (ast.Name, ast.Attribute)):
            found = self.bound(node, module)
            if found is not None and found.kind == "expr" and found.module is not None:
                return self.metadata(found.node, found.module, found.name)
        return None

    def _made(self, call: ast.Call, module: Module, name: str) -> object:
        if _called(call) != "MetaData":
            return None
        keyword = next((k for k in call.keywords if k.arg == "naming_convention"), None)
        if any(k.arg is None for k in call.keywords) or len(call.args) >= 3:
            return None  # passed through **options, or by position
        if keyword is not None and not _empty(keyword.value):
            return Convention(keyword.value, module)
        made = _with_keyword(module, call, "naming_convention", "NAMING_CONVENTION")
        return Missing(module, call.lineno, f"{name} = {made}" if name else made)

    def literal(self, node: ast.AST, module: Module) -> object:
        """The value of a literal expression, through the names bound to it (``dict(...)`` of
        literals too); None when it is not one."""
        self.depth += 1
        if self.depth > _DEPTH:
            return None
        if isinstance(node, (ast.Name, ast.Attribute)):
            found = self.bound(node, module)
            if found is None or found.kind != "expr" or found.module is None:
                return None
            return self.literal(found.node, found.module)
        if isinstance(node, ast.Call) and _called(node) == "dict" and not node.args:
            values = {k.arg: self.literal(k.value, module) for k in node.keywords if k.arg}
            return values if len(values) == len(node.keywords) else None
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None

    def owned(self, owner: _Ref) -> object:
        """The verdict on ``owner.metadata``: a declarative base class, ``declarative_base()``,
        ``registry()``, ``SQLAlchemy()``, or a module's ``metadata``."""
        self.depth += 1
        if self.depth > _DEPTH:
            return None
        if owner.kind == "module" and owner.module is not None:
            found = self.lookup("metadata", owner.module)
            if found is None or found.kind != "expr" or found.module is None:
                return None
            return self.metadata(found.node, found.module, "metadata")
        if owner.kind == "class" and isinstance(owner.node, ast.ClassDef):
            return self._class(owner.node, owner.module)
        if owner.kind == "expr" and isinstance(owner.node, ast.Call) and owner.module:
            return self._factory(owner.node, owner.module, owner.name)
        return None

    def _class(self, node: ast.ClassDef, module: Module | None) -> object:
        assert module is not None
        self.visited.add(module.path)
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and _called(decorator) == "as_declarative":
                return self._metadata_keyword(decorator, module, node.name, as_class=True)
        for statement in node.body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value:
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                )
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                if "metadata" in names:
                    verdict = self.metadata(statement.value, module)
                    if isinstance(verdict, Missing) and isinstance(statement.value, ast.Call):
                        made = f"class {node.name}(...):\n    metadata = {verdict.made}"
                        return Missing(verdict.module, verdict.line, made)  # in the class
                    return verdict
                if "registry" in names and isinstance(statement.value, ast.Call):
                    return self._metadata_keyword(statement.value, module, "registry")
        for base in node.bases:
            found = self.reference(base, module)
            if found is None:
                return None
            if found.kind == "class" and isinstance(found.node, ast.ClassDef):
                verdict = self._class(found.node, found.module)
            elif found.kind == "external":
                verdict = _external_base(found.name, node, module)
            else:
                return None
            if verdict is not _ABSENT:
                return verdict
        return _ABSENT

    def _factory(self, call: ast.Call, module: Module, name: str) -> object:
        called = _called(call)
        if called in ("declarative_base", "registry"):
            return self._metadata_keyword(call, module, name)
        if called == "SQLAlchemy":  # Flask-SQLAlchemy
            model_class = next((k for k in call.keywords if k.arg == "model_class"), None)
            if model_class is not None and not any(k.arg == "metadata" for k in call.keywords):
                found = self.reference(model_class.value, module)
                verdict = self.owned(found) if found is not None else None
                return None if verdict is _ABSENT else verdict
            return self._metadata_keyword(call, module, name, positional=True)
        return None

    def _metadata_keyword(
        self,
        call: ast.Call,
        module: Module,
        name: str,
        as_class: bool = False,
        positional: bool = False,
    ) -> object:
        """``declarative_base(metadata=...)`` and its kind: the metadata passed, or one
        without a convention when none is (``positional``: arguments before it are not the
        metadata, as Flask-SQLAlchemy's app)."""
        if any(k.arg is None for k in call.keywords) or (call.args and not positional):
            return None
        keyword = next((k for k in call.keywords if k.arg == "metadata"), None)
        if keyword is not None:
            return self.metadata(keyword.value, module)
        made = _with_keyword(module, call, "metadata", _METADATA)
        if as_class:
            made = f"@{made}\nclass {name}:\n    ..."
        elif name:
            made = f"{name} = {made}"
        return Missing(module, call.lineno, made)


def _external_base(dotted: str, node: ast.ClassDef, module: Module) -> object:
    """A base class from outside the project: SQLAlchemy's ``DeclarativeBase`` makes a
    metadata without a convention; ``object`` says nothing; anything else is not known."""
    if dotted.startswith("sqlalchemy.") and dotted.endswith(".DeclarativeBase"):
        made = f"class {node.name}(DeclarativeBase):\n    metadata = {_METADATA}"
        return Missing(module, node.lineno, made)
    if dotted.startswith("sqlalchemy.") and dotted.endswith("NoMeta"):
        return _ABSENT
    return None


def _called(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _empty(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and node.value is None) or (
        isinstance(node, ast.Dict) and not node.keys
    )


def _with_keyword(module: Module, call: ast.Call, keyword: str, value: str) -> str:
    """The call's source with ``keyword=value`` (in place of one given empty)."""
    parts = [module.segment(a) for a in call.args]
    parts += [module.segment(k) for k in call.keywords if k.arg != keyword]
    parts.append(f"{keyword}={value}")
    return f"{module.segment(call.func)}({', '.join(parts)})"


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The module's statements, those under a top-level ``if`` or ``try`` included."""
    for node in body:
        if isinstance(node, (ast.If, ast.Try)):
            yield from _top_level(node.body)
            for handler in getattr(node, "handlers", ()):
                yield from _top_level(handler.body)
            yield from _top_level(node.orelse)
            yield from _top_level(getattr(node, "finalbody", []))
        else:
            yield node


def _absolute(node: ast.ImportFrom, module: Module) -> str | None:
    """The dotted module a ``from ... import`` names, relative ones resolved."""
    if not node.level:
        return node.module
    if module.package is None:
        return None
    parts = module.package.split(".") if module.package else []
    if node.level - 1 > len(parts):
        return None
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])]) or None


def load_module(path: Path, package: str | None) -> Module | None:
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    return Module(path, tree, source, package)


def mentions_convention(module: Module) -> bool:
    """Whether the module changes a metadata's convention after making it
    (``Base.metadata.naming_convention = ...``, ``.naming_convention.update(...)``): then a
    verdict of "none" is not sure."""
    return any(
        isinstance(node, ast.Attribute) and node.attr == "naming_convention"
        for node in ast.walk(module.tree)
    )


def env_py_of(history: History) -> tuple[Path, AlembicConfig | None] | None:
    for script in history.scripts:
        config = alembic_config(script.path)
        places = [config.script_location] if config and config.script_location else []
        places += [script.path.parent.parent, script.path.parent]
        for place in places:
            if (place / "env.py").is_file():
                return (place / "env.py").resolve(), config
        return None
    return None


_ANCESTORS = 5  # how many directories above env.py's may be where imports start


def import_roots(env_py: Path, config: AlembicConfig | None) -> list[Path]:
    """Where the project's modules are imported from: the directories alembic.ini's
    ``prepend_sys_path`` names (and the one it is in), env.py's, the one its package is
    imported from (above the top-most directory with an ``__init__.py``: mlflow's env.py
    sits deep in mlflow/store/db_migrations; zun's and nbgrader's in a script directory that
    is no package, inside one), and their ``src``."""
    roots: list[Path] = []
    if config is not None:
        roots += [(config.directory / p).resolve() for p in config.list_option("prepend_sys_path")]
        roots.append(config.directory)
    package = application_package(env_py)
    if package is not None:
        roots.append(package.parent)
    # and the directories above, a few: datanommer's models live in the namespace package
    # ``datanommer`` (no ``__init__.py``), above which the import starts
    roots += list(env_py.parents)[:_ANCESTORS]
    roots += [root / "src" for root in list(roots)]
    return [r for r in dict.fromkeys(roots) if r.is_dir()]


def target_metadata_of(env: Module) -> ast.expr | None:
    """What env.py gives Alembic as target_metadata: the module-level variable, else the
    keyword of its ``configure(...)`` call."""
    found = None
    for node in _top_level(env.tree.body):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "target_metadata" for t in targets):
                found = node.value
    if found is not None:
        return found
    for node in ast.walk(env.tree):
        if isinstance(node, ast.Call) and _called(node) == "configure":
            for keyword in node.keywords:
                if keyword.arg == "target_metadata":
                    return keyword.value
    return None


def naming_convention(history: History) -> NamingConvention:
    """The naming convention of env.py's target_metadata: Alembic names by it the
    constraints an operation makes without a name. A literal the project's own modules
    spell out; else where one that is no literal is (indico's has callables for tokens of
    its own), which importing its module evaluates; neither when there is none, or it
    cannot be told (a convention from an installed package)."""
    found = find_convention(history)
    if found is None:
        return NamingConvention()
    convention, resolver = found
    if convention is None:
        return NamingConvention(files=tuple(sorted(resolver.visited)), scanned=resolver.scanned)
    files = tuple(sorted(resolver.visited | {convention.module.path}))
    value = resolver.literal(convention.node, convention.module)
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return NamingConvention(value, files=files, scanned=resolver.scanned)
    module = convention.module
    dotted = module.dotted
    if not dotted:
        return NamingConvention(files=files, scanned=resolver.scanned)
    root = module.path.parents[dotted.count(".") + (module.path.stem == "__init__")]
    source = ConventionSource(root, dotted, ast.unparse(convention.node))
    return NamingConvention(None, source, files, resolver.scanned)


@dataclass(frozen=True)
class NamingConvention:
    """What ``naming_convention`` found, and the files it read to find it (a result cache
    depends on them)."""

    value: dict[str, str] | None = None
    source: ConventionSource | None = None
    files: tuple[Path, ...] = ()
    # the application package searched for one (whose every module may hold it, later)
    scanned: Path | None = None


@dataclass(frozen=True)
class ConventionSource:
    """A module of the application that gives a naming convention: the directory it is
    imported from, its dotted name, and the expression that is the convention."""

    root: Path
    module: str
    expression: str


def find_convention(
    history: History,
) -> tuple[Convention | None, MetadataResolver] | None:
    """The ``naming_convention`` env.py's target_metadata gets: set in env.py, where the
    metadata is made, or else the one the application package sets (Flask-Migrate's
    ``current_app.extensions['migrate'].db.metadata`` names no module; fmn sets it on its
    Base in another module than the one making it)."""
    located = env_py_of(history)
    if located is None:
        return None
    env_py, config = located
    env = load_module(env_py, None)
    target = target_metadata_of(env) if env is not None else None
    if env is None or target is None:
        return None
    resolver = MetadataResolver(import_roots(env_py, config))
    # set on the metadata after it is made, in env.py (fractal-server's SQLModel.metadata,
    # from a library not installed) or where it is made: that one holds when env.py runs
    verdict: object = _set_afterwards(env)
    if verdict is None:
        verdict = resolver.metadata(target, env)
        if isinstance(verdict, Missing):
            verdict = _set_afterwards(verdict.module) or verdict
    if verdict is None or isinstance(verdict, Missing):  # Flask-Migrate's names no module;
        # fmn's is made without one and given one in another module
        owner = metadata_owner(target) if isinstance(verdict, Missing) else None
        resolver.scanned = application_package(env_py)
        verdict = convention_in_package(env_py, resolver, owner=owner)
    return (verdict, resolver) if isinstance(verdict, Convention) else (None, resolver)


def metadata_owner(target: ast.expr) -> str | None:
    """``Base`` of env.py's ``target_metadata = Base.metadata``."""
    if isinstance(target, ast.Attribute) and target.attr == "metadata":
        value = target.value
        return value.id if isinstance(value, ast.Name) else getattr(value, "attr", None)
    return None


_SCANNED = 5000  # files of the application package looked at, at most
# directories of a package whose modules are not the application's own
_NOT_THE_APPLICATION = {"tests", "test", "testing", "vendor", "_vendor", "vendored", "examples"}


def convention_in_package(
    env_py: Path, resolver: MetadataResolver, owner: str | None = None
) -> Convention | None:
    """The one convention the application package's modules give a metadata at their top
    level (``X.metadata.naming_convention = ...``, ``MetaData(naming_convention=...)``),
    outside its migrations, tests and vendored code; with ``owner``, only one set on that
    class's metadata (fmn's ``Base.metadata.naming_convention = ...``). None when there is
    none, or several that differ."""
    package = application_package(env_py)
    if package is None:
        return None
    scripts = f"{env_py.resolve().parent}{os.sep}"
    found: list[Convention] = []
    for path in package_modules(package)[:_SCANNED]:
        if path.startswith(scripts):
            continue
        try:
            with open(path, "rb") as handle:
                if b"naming_convention" not in handle.read():
                    continue
        except OSError:
            continue
        parts = Path(path).relative_to(package.parent).with_suffix("").parts
        module = load_module(Path(path), ".".join(parts[:-1]))
        if module is not None:
            found += _conventions_given(module, owner)
    values = [resolver.literal(c.node, c.module) for c in found]
    if len(found) == 1 or (
        values and None not in values and values.count(values[0]) == len(values)
    ):
        return found[0]
    return None


def package_modules(package: Path) -> list[str]:
    """The application's own modules in ``package`` (their paths): not its tests or
    vendored code, in the order of their paths' parts. One walk that does not enter the
    directories left out, and no Path object per module: mlflow's package holds 3,986
    modules, and a glob with a relative Path for each took 100 ms before the first script
    could run."""
    found: list[str] = []
    for directory, subdirectories, files in os.walk(package):
        subdirectories[:] = [d for d in subdirectories if d not in _NOT_THE_APPLICATION]
        found += [os.path.join(directory, name) for name in files if name.endswith(".py")]
    found.sort(key=lambda path: path.replace(os.sep, "\0"))  # as their parts compare
    return found


def _conventions_given(module: Module, owner: str | None) -> list[Convention]:
    """The conventions the module's top level gives, and those of its functions that set a
    module variable (flexmeasures' ``def init_db(): global db; db = SQLAlchemy(metadata=
    MetaData(naming_convention=...))``, called as the application starts)."""
    given = []
    for statement in _top_level(module.tree.body):
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and not any(
            isinstance(node, ast.Global) for node in ast.walk(statement)
        ):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign) and any(
                _sets_convention(target, owner) for target in node.targets
            ):
                given.append(Convention(node.value, module))
            elif owner is None and isinstance(node, ast.Call) and _called(node) == "MetaData":
                keyword = next((k for k in node.keywords if k.arg == "naming_convention"), None)
                if keyword is not None and not _empty(keyword.value):
                    given.append(Convention(keyword.value, module))
    return given


def _sets_convention(target: ast.expr, owner: str | None) -> bool:
    """``target`` is ``....naming_convention``; with ``owner``, ``owner.metadata....``."""
    if not isinstance(target, ast.Attribute) or target.attr != "naming_convention":
        return False
    if owner is None:
        return True
    metadata = target.value
    if not isinstance(metadata, ast.Attribute) or metadata.attr != "metadata":
        return False
    named = metadata.value
    return (named.id if isinstance(named, ast.Name) else getattr(named, "attr", None)) == owner


def _set_afterwards(module: Module) -> Convention | None:
    """The one convention the module's top level assigns to a metadata's
    ``naming_convention`` attribute (``target_metadata.naming_convention = NAMING``)."""
    assigned = [
        node.value
        for node in _top_level(module.tree.body)
        if isinstance(node, ast.Assign)
        and any(
            isinstance(t, ast.Attribute) and t.attr == "naming_convention" for t in node.targets
        )
    ]
    return Convention(assigned[0], module) if len(assigned) == 1 else None

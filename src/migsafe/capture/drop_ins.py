"""Modules that are not installed, whose place a few lines of Python can take.

simplejson is where the standard library's json came from, and keeps its API: superset's
migrations parse every chart's ``params`` with it. Stood in, each value it parses is a
stand-in, and the migration's path a guess; the standard library's json gives the very
dicts and lists simplejson would. Its own keyword arguments (``ignore_nan=True``) change
nothing a migration's schema changes depend on, and are left out.

lazy_object_proxy's ``Proxy(factory)`` is the object ``factory()`` makes, made the first
time it is used: airflow's ``db_types.TIMESTAMP`` and ``StringID``, which its migrations
alter columns to, are such proxies. Stood in, each was a type of unknown kind, and every
change to it could not be judged.
"""

from __future__ import annotations

import functools
import inspect
import json
import operator
import types
from collections.abc import Callable
from typing import Any


def _taking_what_json_takes(function: Callable[..., Any], *others: Any) -> Callable[..., Any]:
    """``function`` of json, given only the keyword arguments it (or the encoder or
    decoder class it passes the rest to) takes: simplejson's ``ignore_nan=True``, or its
    ``loads(allow_nan=True)``, are left out."""
    taken = {name for callee in (function, *others)
             for name in inspect.signature(callee).parameters}  # fmt: skip

    @functools.wraps(function)
    def call(*args: Any, **kw: Any) -> Any:
        return function(*args, **{k: v for k, v in kw.items() if k in taken})

    return call


def _simplejson() -> types.ModuleType:
    module = types.ModuleType("simplejson", "The standard library's json, as simplejson.")
    module.__dict__.update({k: v for k, v in vars(json).items() if not k.startswith("__")})
    for name in ("dumps", "dump"):
        setattr(module, name, _taking_what_json_takes(getattr(json, name), json.JSONEncoder))
    for name in ("loads", "load"):
        setattr(module, name, _taking_what_json_takes(getattr(json, name), json.JSONDecoder))
    return module


class LazyProxy:
    """lazy_object_proxy's ``Proxy``: every use of it is a use of what its factory makes,
    made once, at the first."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        object.__setattr__(self, "_LazyProxy__factory", factory)
        object.__setattr__(self, "_LazyProxy__made", _NOT_MADE)

    def _LazyProxy__make(self) -> Any:
        made = object.__getattribute__(self, "_LazyProxy__made")
        if made is _NOT_MADE:
            made = object.__getattribute__(self, "_LazyProxy__factory")()
            object.__setattr__(self, "_LazyProxy__made", made)
        return made

    @property
    def __wrapped__(self) -> Any:
        return _made(self)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # ``isinstance(proxy, type)`` asks what it made
        return type(_made(self))

    def __getattr__(self, name: str) -> Any:  # never through ``__wrapped__``: an
        return getattr(_made(self), name)  # AttributeError its factory raises stays one

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        """Copied or pickled as what it made, as lazy_object_proxy's is."""
        return _identity, (_made(self),)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.__wrapped__, name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self.__wrapped__, name)

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[Any, ...]:
        """``class T(proxy):`` derives from the class it made."""
        return (self.__wrapped__,)


_NOT_MADE = object()


def _made(proxy: LazyProxy) -> Any:
    return object.__getattribute__(proxy, "_LazyProxy__make")()


def _identity(value: Any) -> Any:
    return value


def _passed_on(use: Callable[..., Any]) -> Callable[..., Any]:
    """A special method of LazyProxy that is ``use`` of what it made: Python looks special
    methods up on the class, never through ``__getattr__``."""

    def method(self: LazyProxy, *args: Any, **kw: Any) -> Any:
        return use(_made(self), *args, **kw)

    return method


_SPECIAL: dict[str, Callable[..., Any]] = {
    "__call__": lambda made, *args, **kw: made(*args, **kw),
    "__getitem__": operator.getitem, "__setitem__": operator.setitem,
    "__delitem__": operator.delitem, "__contains__": lambda made, item: item in made,
    "__iter__": iter, "__len__": len, "__bool__": bool, "__hash__": hash, "__str__": str,
    "__repr__": repr, "__format__": format, "__int__": int, "__float__": float,
    "__index__": operator.index, "__eq__": operator.eq, "__ne__": operator.ne,
    "__lt__": operator.lt, "__le__": operator.le, "__gt__": operator.gt,
    "__ge__": operator.ge, "__add__": operator.add, "__radd__": lambda made, o: o + made,
    "__sub__": operator.sub, "__rsub__": lambda made, o: o - made, "__mul__": operator.mul,
    "__rmul__": lambda made, o: o * made, "__mod__": operator.mod,
    "__rmod__": lambda made, o: o % made, "__or__": operator.or_,
    "__ror__": lambda made, o: o | made, "__and__": operator.and_,
    "__rand__": lambda made, o: o & made, "__xor__": operator.xor,
    "__rxor__": lambda made, o: o ^ made, "__lshift__": operator.lshift,
    "__rlshift__": lambda made, o: o << made, "__rshift__": operator.rshift,
    "__rrshift__": lambda made, o: o >> made, "__pow__": pow,
    "__rpow__": lambda made, o: o**made, "__truediv__": operator.truediv,
    "__rtruediv__": lambda made, o: o / made, "__floordiv__": operator.floordiv,
    "__rfloordiv__": lambda made, o: o // made, "__neg__": operator.neg,
    "__pos__": operator.pos, "__abs__": abs, "__invert__": operator.invert,
    "__round__": round, "__fspath__": lambda made: made.__fspath__(), "__next__": next,
    "__reversed__": reversed, "__bytes__": bytes, "__complex__": complex,
    "__enter__": lambda made: made.__enter__(),
    "__exit__": lambda made, *exc_info: made.__exit__(*exc_info),
}  # fmt: skip
for _name, _use in _SPECIAL.items():
    setattr(LazyProxy, _name, _passed_on(_use))


def _lazy_object_proxy() -> types.ModuleType:
    module = types.ModuleType("lazy_object_proxy", "lazy_object_proxy's Proxy, in Python.")
    module.Proxy = LazyProxy  # type: ignore[attr-defined]
    return module


DROP_INS: dict[str, Callable[[], types.ModuleType]] = {
    "simplejson": _simplejson,
    "lazy_object_proxy": _lazy_object_proxy,
}

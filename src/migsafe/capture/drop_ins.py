"""Modules that are not installed, whose place the standard library can take.

simplejson is where the standard library's json came from, and keeps its API: superset's
migrations parse every chart's ``params`` with it. Stood in, each value it parses is a
stand-in, and the migration's path a guess; the standard library's json gives the very
dicts and lists simplejson would. Its own keyword arguments (``ignore_nan=True``) change
nothing a migration's schema changes depend on, and are left out.
"""

from __future__ import annotations

import functools
import inspect
import json
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


DROP_INS: dict[str, Callable[[], types.ModuleType]] = {"simplejson": _simplejson}

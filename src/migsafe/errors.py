"""The one kind of error a user can fix: bad input or an unusable environment.

Every command reports it as one line naming the file or the option, and exits 2; anything
else that escapes a command is migsafe's own bug (an internal error, with a traceback under
``--debug``).
"""

from __future__ import annotations

import re

# what makes a message differ from run to run: ``<Setting object at 0x7f...>``
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class MigsafeError(Exception):
    """Bad input, bad settings, or nothing to run on; the message is one line."""


def described(exc: BaseException, width: int = 300) -> str:
    """``Type: message`` on one line (just ``Type`` when the message is empty: a bare
    ``raise NotImplementedError``), the same on every run (no addresses), cut at a word
    with an ellipsis when the message is longer than ``width``."""
    text = _ADDRESS.sub("", " ".join(str(exc).split()))
    if len(text) > width:
        text = text[: width - 1].rsplit(" ", 1)[0] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

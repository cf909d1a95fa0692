"""The one kind of error a user can fix: bad input or an unusable environment.

Every command reports it as one line naming the file or the option, and exits 2; anything
else that escapes a command is migsafe's own bug (an internal error, with a traceback under
``--debug``).
"""

from __future__ import annotations


class MigsafeError(Exception):
    """Bad input, bad settings, or nothing to run on; the message is one line."""

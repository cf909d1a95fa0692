"""Rules about the revision graph as a whole (``check_history(history)``); kept apart so that
commands that judge no revision (roundtrip) load only these."""

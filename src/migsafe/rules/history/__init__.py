"""Rules about the revision graph as a whole (``check_history(history)``); kept apart so that
commands that judge no revision (roundtrip) load only these.

A module whose verdict depends on files besides the scripts (env.py, alembic.ini, the models
env.py imports) says which with ``files_read(history)``, so that a cached result is not
reused after one of them changes.
"""

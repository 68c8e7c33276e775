"""The database for one page run, and session keys shared by several components.

One sqlite connection per script run (and per fragment run): opened at the start, closed at the end.
A connection is never cached across runs, because runs of one session may execute on different threads.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import sqlite_utils
import streamlit as st

from annotator import store

USER = "auth_user"  # {"id", "token_hash"} of the signed-in user
RUN_USER = "auth_run_user"  # the User checked by main.py at the start of this run
CURRENT_SEGMENT = "ann_current"  # segment id the annotator is looking at; absent: her next one


@st.cache_resource(show_spinner=False)
def _migrated(path: str) -> str:
    """Apply migrations once per server process (not on every run); a missing database is not created."""
    store.open_existing(path).conn.close()
    return path


def db_path() -> str:
    return _migrated(str(store.default_path().resolve()))


def database_problem(exc: BaseException) -> store.DatabaseFileError | None:
    """The one line for a database file that cannot be used now (locked past the busy timeout, which a write
    can meet under load; full; unreadable), or None for any other error: a bug, which keeps its traceback.
    Every write is one transaction, so the step that met it left nothing half-written and can be done again."""
    if isinstance(exc, store.DatabaseFileError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return store.database_error(db_path(), exc)
    return None


@contextlib.contextmanager
def open_db() -> Iterator[sqlite_utils.Database]:
    db = store.open_existing(db_path(), migrate=False)
    try:
        yield db
    finally:
        db.conn.close()

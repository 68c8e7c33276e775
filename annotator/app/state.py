"""The database for one page run, and session keys shared by several components.

One sqlite connection per script run (and per fragment run): opened at the start, closed at the end.
A connection is never cached across runs, because runs of one session may execute on different threads.
"""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def open_db() -> Iterator[sqlite_utils.Database]:
    db = store.open_existing(db_path(), migrate=False)
    try:
        yield db
    finally:
        db.conn.close()

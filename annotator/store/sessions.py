"""Signed-in sessions of the web app: re-checked on every page run."""

from __future__ import annotations

from dataclasses import replace

import sqlite_utils

from annotator.store.users import User, user_from_row


def session_user(db: sqlite_utils.Database, user_id: int, token_hash: str) -> User | None:
    """The signed-in user if still active and still holding the token she signed in with, else None.

    A reset token or a disabled account ends existing sessions at their next page run.
    """
    row = db.execute("SELECT id, name, role, rater_id, active FROM users WHERE id = ? AND token_hash = ?"
                     " AND active = 1", [user_id, token_hash]).fetchone()
    return replace(user_from_row(row), token_hash=token_hash) if row else None

"""App users and their access tokens. Only a SHA-256 of a token is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace

import sqlite_utils

from annotator.store.db import now, write
from annotator.store.labels import ensure_rater
from annotator.store.taxonomies import StoreError

ROLES = ("annotator", "reviewer", "admin")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    rater_id: int
    active: bool
    # the hash of the token she signed in with (sessions of the app): a submission re-checks it in its own
    # transaction, so a token reset stops one already in flight; None for users read without a token
    token_hash: str | None = field(default=None, repr=False)


def add_user(db: sqlite_utils.Database, name: str, role: str = "annotator", *, as_rater: bool = False) -> str:
    """Create a user (and its human rater); return the new access token, which is not stored.

    A rater of that name that came from elsewhere (an imported file) is refused unless `as_rater`: the user
    would sign in as that rater and each submission would replace the imported labels of its segment.
    """
    name = name.strip()
    if not name:
        raise StoreError("user name must not be empty")
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if db.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
        raise StoreError(f"user {name!r} exists already (use 'annotator users reset {name}' for a new token)")
    _check_rater_name(db, name, as_rater=as_rater)
    token = secrets.token_urlsafe(24)
    with write(db):
        rater_id = ensure_rater(db, name, "human")
        db.execute("INSERT INTO users (name, role, token_hash, rater_id, created_at) VALUES (?, ?, ?, ?, ?)",
                   [name, role, hash_token(token), rater_id, now()])
    return token


def _check_rater_name(db: sqlite_utils.Database, name: str, *, as_rater: bool) -> None:
    row = db.execute("SELECT kind FROM raters WHERE name = ?", [name]).fetchone()
    if row is None:
        return
    if row[0] != "human":
        raise StoreError(f"{name!r} is the name of a {row[0]} rater; choose another user name")
    if not as_rater:
        raise StoreError(f"{name!r} is the name of an imported rater: choose another user name, or add the user "
                         "--as-rater to sign in as that rater (each submission then replaces its imported labels)")


def reset_token(db: sqlite_utils.Database, name: str) -> str:
    """Replace a user's token (the old one stops working); return the new token."""
    token = secrets.token_urlsafe(24)
    with write(db):
        cur = db.execute("UPDATE users SET token_hash = ? WHERE name = ?", [hash_token(token), name])
        if cur.rowcount == 0:
            raise StoreError(f"no user named {name!r}")
    return token


def user_for_token(db: sqlite_utils.Database, token: str) -> User | None:
    """The active user holding this token, or None."""
    if not token:
        return None
    row = db.execute("SELECT id, name, role, rater_id, active FROM users WHERE token_hash = ? AND active = 1",
                     [hash_token(token.strip())]).fetchone()
    return replace(user_from_row(row), token_hash=hash_token(token.strip())) if row else None


def user_from_row(row: tuple) -> User:
    """A User from a row (id, name, role, rater_id, active)."""
    user_id, name, role, rater_id, active = row
    return User(user_id, name, role, rater_id, active=bool(active))


def list_users(db: sqlite_utils.Database) -> list[User]:
    rows = db.execute("SELECT id, name, role, rater_id, active FROM users ORDER BY id").fetchall()
    return [user_from_row(r) for r in rows]

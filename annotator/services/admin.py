"""Changes only an administrator may make: queue settings, handing out and releasing claims, users.

Each takes the acting user, checks the role itself (RefusedError otherwise) and writes an audit row in
the same transaction as the change. The command line passes store.LOCAL_ADMIN.
"""

from __future__ import annotations

import sqlite_utils

from annotator import store
from annotator.store.users import User


def change_settings(db: sqlite_utils.Database, actor: User, **changes) -> store.QueueSettings:
    """Change queue settings (see store.save_settings) as `actor`."""
    store.require(actor, "admin", "change the settings")
    with store.write(db):
        settings = store.save_settings(db, **changes)
        store.audit(db, actor, "settings.change", "queue", **changes)
    return settings


def hand_out(db: sqlite_utils.Database, actor: User, per_rater: int) -> dict[int, int]:
    store.require(actor, "admin", "hand out segments")
    with store.write(db):
        given = store.assign_to_pool(db, per_rater)
        store.audit(db, actor, "queue.hand_out", per_rater=per_rater, given=sum(given.values()))
    return given


def release_claims(db: sqlite_utils.Database, actor: User, rater_id: int, name: str) -> int:
    store.require(actor, "admin", "release an annotator's claims")
    with store.write(db):
        released = store.release_claims(db, rater_id)
        store.audit(db, actor, "queue.release_claims", name, released=released)
    return released


def add_user(db: sqlite_utils.Database, actor: User, name: str, role: str, *, as_rater: bool = False) -> str:
    """A new user; returns her token (never written to the audit log)."""
    store.require(actor, "admin", "add users")
    with store.write(db):
        token = store.add_user(db, name, role, as_rater=as_rater)
        store.audit(db, actor, "user.add", name, role=role, as_rater=as_rater)
    return token


def reset_token(db: sqlite_utils.Database, actor: User, name: str) -> str:
    store.require(actor, "admin", "reset access tokens")
    with store.write(db):
        token = store.reset_token(db, name)
        store.audit(db, actor, "user.reset_token", name)
    return token

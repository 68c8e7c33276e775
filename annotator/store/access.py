"""Who may change what, checked by the services themselves (page callbacks are not the only guard).

Every service that changes gold, taxonomies, settings or users, or runs the judge, takes the acting
user (`actor`) and calls `require` (kept in the store, beside users and roles, so the judge can too).
The command line acts as LOCAL_ADMIN: whoever can run the CLI on the database file can already write
to it, so the CLI is an administrator; the audit log names it as such.
"""

from __future__ import annotations

import sqlite_utils

from annotator.core.errors import RefusedError
from annotator.store.audit import log_action
from annotator.store.users import User

RANK = {"annotator": 0, "reviewer": 1, "admin": 2}
LOCAL_ADMIN = User(id=0, name="local admin (CLI)", role="admin", rater_id=0, active=True)


def require(actor: User, role: str, doing: str) -> None:
    """Refuse (RefusedError) unless `actor` is active and holds `role` or a higher one."""
    if not actor.active or RANK.get(actor.role, -1) < RANK[role]:
        raise RefusedError(f"{actor.name!r} ({actor.role}) may not {doing}: it needs the {role} role")


def audit(db: sqlite_utils.Database, actor: User, action: str, target: str = "", **detail) -> None:
    """One audit row for a change `actor` made (in the caller's transaction)."""
    log_action(db, actor=actor.name, role=actor.role, action=action, target=target, detail=detail)

"""The audit log: one row per change of gold, taxonomies, settings or users (who, what, when).

Rows are written inside the transaction of the change they record, so a change and its audit row are
committed together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import sqlite_utils

from annotator.store.db import now, write

AUDIT_COLUMNS = ("id", "at", "actor", "role", "action", "target", "detail")


def log_action(db: sqlite_utils.Database, *, actor: str, role: str, action: str, target: str = "",
               detail: dict | None = None) -> None:
    """Record one change (joins the caller's transaction when there is one)."""
    with write(db):
        db.execute("INSERT INTO audit_log (at, actor, role, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                   [now(), actor, role, action, target, json.dumps(detail or {}, sort_keys=True, default=str)])


def iter_audit(db: sqlite_utils.Database, *, newest_first: bool = False, limit: int | None = None) -> Iterator[dict]:
    """Audit rows, oldest first (or newest first), `detail` as text (JSON)."""
    sql = "SELECT id, at, actor, role, action, target, detail FROM audit_log ORDER BY id" + (
        " DESC" if newest_first else "")
    args: list = []
    if limit is not None:
        sql, args = sql + " LIMIT ?", [int(limit)]
    for row in db.execute(sql, args):
        yield dict(zip(AUDIT_COLUMNS, row))

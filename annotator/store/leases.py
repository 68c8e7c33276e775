"""Claim leases: a claim held by an annotator who stopped working goes back to the queue.

An annotator's pending claims expire together once she has done nothing (claimed or submitted) for
the lease (`queue.lease_minutes`; None: claims never expire). The lease counts from her last activity,
not from each claim, so segments handed out in bulk stay hers while she keeps working through them.
Expired claims are released inside the claim transaction that finds them, so a released segment can
be claimed by the next annotator at once. Releasing deletes the pending assignment and lowers the
segment's claim counter: nothing she submitted is touched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from annotator.store.db import write

_LAST_ACTIVITY = (
    "SELECT a.rater_id, MAX(MAX(a.assigned_at),"
    " COALESCE((SELECT MAX(s.created_at) FROM submissions s WHERE s.rater_id = a.rater_id), '')),"
    " SUM(a.status = 'pending')"
    " FROM assignments a GROUP BY a.rater_id HAVING SUM(a.status = 'pending') > 0"
)


def release_claims(db: sqlite_utils.Database, rater_id: int) -> int:
    """Give back every pending claim of one rater; return how many were released."""
    with write(db):
        db.execute("UPDATE segments SET assigned = assigned - 1 WHERE id IN"
                   " (SELECT segment_id FROM assignments WHERE rater_id = ? AND status = 'pending')", [rater_id])
        return db.execute("DELETE FROM assignments WHERE rater_id = ? AND status = 'pending'", [rater_id]).rowcount


def cutoff(lease_minutes: float, at: datetime | None = None) -> str:
    """The activity time before which claims have expired (sortable ISO text, as store.db.now writes)."""
    return ((at or datetime.now(UTC)) - timedelta(minutes=lease_minutes)).isoformat(timespec="microseconds")


def release_expired(db: sqlite_utils.Database, lease_minutes: float | None, *, at: datetime | None = None) -> int:
    """Release the pending claims of every annotator idle for longer than the lease; return how many."""
    if lease_minutes is None:
        return 0
    limit = cutoff(lease_minutes, at)
    released = 0
    with write(db):
        for rater_id, last, _pending in db.execute(_LAST_ACTIVITY).fetchall():
            if last < limit:
                released += release_claims(db, rater_id)
    return released


def claim_holders(db: sqlite_utils.Database, lease_minutes: float | None) -> list[dict]:
    """Who holds pending claims: rater, user name, how many, last activity, when they expire (None: never)."""
    rows = _holders(db)
    out = []
    for rater_id, name, pending, last in rows:
        expires = None
        if lease_minutes is not None:
            expires = (datetime.fromisoformat(last) + timedelta(minutes=lease_minutes)).isoformat(timespec="seconds")
        out.append({"rater_id": rater_id, "name": name, "claims": pending, "last_activity": last,
                    "expires_at": expires})
    return out


def _holders(db: sqlite_utils.Database) -> list[tuple]:
    names = dict(db.execute("SELECT r.id, COALESCE(u.name, r.name) FROM raters r"
                            " LEFT JOIN users u ON u.rater_id = r.id").fetchall())
    rows = db.execute(_LAST_ACTIVITY + " ORDER BY 2").fetchall()
    return [(rater_id, names.get(rater_id), pending, last) for rater_id, last, pending in rows]

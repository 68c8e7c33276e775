"""The annotation queue: settings, claiming segments, a rater's list, progress, and what a page shows.

A segment goes to at most `k` annotators. Claiming is one BEGIN IMMEDIATE transaction that reads the
per-segment claim counter and bumps it, so two annotators claiming at once never exceed `k`.
Which segment a claim takes: the most claims first, then the lowest `queue_rank` (0 unless a queue strategy
ranked it: store.queue_order), then the lowest id.
A rater's list is her assignments in the order she got them; `status` follows her latest submission.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from annotator.store.db import now, write
from annotator.store.leases import release_expired
from annotator.store.taxonomies import StoreError

STATUSES = ("pending", "done", "skipped", "unsure")
REVEAL_NAMES = ("anonymous", "names")  # how other raters are named after the reveal (Annotate and Review alike)


# --------------------------------------------------------------------------------------------------
# Settings (JSON values in the settings table)

@dataclass(frozen=True)
class QueueSettings:
    k: int = 2  # annotators per segment
    annotators: tuple[str, ...] | None = None  # user names in the pool; None: every user with role annotator
    reveal: bool = False  # after submitting, an annotator may see other raters' labels for that segment
    taxonomy: str = "mast"  # NAME or NAME@VERSION that annotators label with
    reveal_names: str = "anonymous"  # after the reveal, annotators and reviewers see: names | anonymous ("rater 1")
    lease_minutes: float | None = 240.0  # an idle annotator's claims go back to the queue; None: never


_SETTING_KEYS = {"k": "queue.k", "annotators": "queue.annotators", "reveal": "queue.reveal",
                 "taxonomy": "queue.taxonomy", "reveal_names": "review.names",
                 "lease_minutes": "queue.lease_minutes"}
MAX_LEASE_MINUTES = 60 * 24 * 30


# Cursor bounds for (queue_rank, id): ranks are small integers, ids positive.
_BEFORE_ALL = (-(1 << 62), 0)
_AFTER_ALL = (1 << 62, 0)


class SegmentFullError(StoreError):
    """A segment she had skipped went to k other annotators meanwhile: she cannot take it back."""


def get_settings(db: sqlite_utils.Database) -> QueueSettings:
    marks = ", ".join("?" * len(_SETTING_KEYS))
    rows = dict(db.execute(f"SELECT key, value FROM settings WHERE key IN ({marks})",
                           list(_SETTING_KEYS.values())).fetchall())
    values = {field: json.loads(rows[key]) for field, key in _SETTING_KEYS.items() if key in rows}
    if values.get("annotators") is not None:
        values["annotators"] = tuple(values["annotators"])
    if isinstance(values.get("reveal_names"), bool):  # stored as "reviewers see names: yes/no" before
        values["reveal_names"] = REVEAL_NAMES[values["reveal_names"]]
    return QueueSettings(**values)


def save_settings(db: sqlite_utils.Database, **changes) -> QueueSettings:
    """Change some settings (k, annotators, reveal, taxonomy, reveal_names, lease_minutes); return them all."""
    unknown = sorted(set(changes) - set(_SETTING_KEYS))
    if unknown:
        raise StoreError(f"unknown queue setting(s): {', '.join(unknown)}")
    if "k" in changes and (not isinstance(changes["k"], int) or not 1 <= changes["k"] <= 50):
        raise StoreError(f"k (annotators per segment) must be a whole number from 1 to 50, not {changes['k']!r}")
    if changes.get("lease_minutes") is not None:
        lease = changes["lease_minutes"]
        if isinstance(lease, bool) or not isinstance(lease, int | float) or not 1 <= lease <= MAX_LEASE_MINUTES:
            raise StoreError(f"lease_minutes must be a number of minutes from 1 to {MAX_LEASE_MINUTES}"
                             f" (or none: claims never expire), not {lease!r}")
        changes["lease_minutes"] = float(lease)
    if changes.get("annotators") is not None:
        changes["annotators"] = sorted({str(name) for name in changes["annotators"]})
    if "reveal" in changes:
        changes["reveal"] = bool(changes["reveal"])
    if "reveal_names" in changes and changes["reveal_names"] not in REVEAL_NAMES:
        raise StoreError(f"reveal_names must be one of {', '.join(REVEAL_NAMES)}, not {changes['reveal_names']!r}")
    with write(db):
        db.conn.executemany(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(_SETTING_KEYS[field], json.dumps(value)) for field, value in changes.items()],
        )
    return get_settings(db)


def pool_rater_ids(db: sqlite_utils.Database, settings: QueueSettings) -> list[int]:
    """Rater ids of the active users who may claim segments."""
    if settings.annotators is None:
        rows = db.execute("SELECT rater_id FROM users WHERE active = 1 AND role = 'annotator' ORDER BY id")
    else:
        marks = ", ".join("?" * len(settings.annotators)) or "NULL"
        rows = db.execute(f"SELECT rater_id FROM users WHERE active = 1 AND name IN ({marks}) ORDER BY id",
                          list(settings.annotators))
    return [r[0] for r in rows.fetchall()]


# --------------------------------------------------------------------------------------------------
# Claiming

def _claimable(db: sqlite_utils.Database, rater_id: int, k: int, cursor: dict[int, tuple[int, int]]) -> int | None:
    """A queued segment with room for one more annotator that this rater does not hold.

    Segments closest to full are preferred, so overlapping labels (what agreement needs) come first;
    within a level, a lower `queue_rank` first (0 unless a queue strategy ranked the segment, see
    store.queue_order), then the lower id. Each level is an index range scan in (rank, id) order on
    idx_segments_claim; the scan skips the rater's own segments at that level. `cursor` (level -> last
    (rank, id) seen) lets a batch of claims in one transaction resume where the previous one stopped
    instead of skipping the same segments again. Only claims inside that transaction can change what lies
    behind a cursor: this rater's own, and, when several raters are served in turns, other raters'
    (whose segments she then finds one level lower, so she may start a new segment instead of joining
    theirs; k still holds).
    """
    for level in range(k - 1, -1, -1):
        row = db.execute(
            "SELECT s.queue_rank, s.id FROM segments s WHERE s.queued = 1 AND s.assigned = ?"
            " AND (s.queue_rank, s.id) > (?, ?)"
            " AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.segment_id = s.id AND a.rater_id = ?)"
            " ORDER BY s.queue_rank, s.id LIMIT 1", [level, *cursor.get(level, _BEFORE_ALL), rater_id]).fetchone()
        if row is not None:
            cursor[level] = (row[0], row[1])
            return row[1]
        cursor[level] = _AFTER_ALL  # nothing left at this level for this rater
    return None


def claim(db: sqlite_utils.Database, rater_id: int, *, k: int, n: int = 1,
          cursor: dict[int, tuple[int, int]] | None = None, lease_minutes: float | None = None) -> list[int]:
    """Give `rater_id` up to `n` more segments, each to at most `k` annotators; return their ids.

    One BEGIN IMMEDIATE transaction: the write lock is held from the first read, so concurrent
    claims are serialised and the counter check cannot race. A caller making several claims for the
    same rater inside one transaction of its own may pass the same `cursor` dict to each. With a
    `lease_minutes`, the claims of annotators idle for longer are released first, in the same transaction.
    """
    claimed: list[int] = []
    cursor = {} if cursor is None else cursor
    with write(db):
        if release_expired(db, lease_minutes):
            cursor.clear()  # released segments lie behind the cursor again
        for _ in range(n):
            segment_id = _claimable(db, rater_id, k, cursor)
            if segment_id is None:
                break
            db.execute("INSERT INTO assignments (segment_id, rater_id, assigned_at, status)"
                       " VALUES (?, ?, ?, 'pending')", [segment_id, rater_id, now()])
            db.execute("UPDATE segments SET assigned = assigned + 1 WHERE id = ?", [segment_id])
            claimed.append(segment_id)
    return claimed


def assign_to_pool(db: sqlite_utils.Database, per_rater: int) -> dict[int, int]:
    """Give every rater in the pool up to `per_rater` more segments (k from settings), in turns.

    Returns rater id -> number of segments given. One transaction.
    """
    settings = get_settings(db)
    given: dict[int, int] = {}
    raters = pool_rater_ids(db, settings)
    cursors: dict[int, dict[int, tuple[int, int]]] = {rater_id: {} for rater_id in raters}
    with write(db):
        release_expired(db, settings.lease_minutes)
        for _ in range(per_rater):
            for rater_id in raters:
                got = claim(db, rater_id, k=settings.k, cursor=cursors[rater_id])
                given[rater_id] = given.get(rater_id, 0) + len(got)
    return given


def pending_segment(db: sqlite_utils.Database, rater_id: int) -> int | None:
    """The first segment of her list she has not submitted yet (one lookup on idx_assignments_todo)."""
    row = db.execute(
        "SELECT segment_id FROM assignments WHERE rater_id = ? AND status = 'pending'"
        " ORDER BY assigned_at, segment_id LIMIT 1", [rater_id]).fetchone()
    return row[0] if row else None


def assignment_status(db: sqlite_utils.Database, rater_id: int, segment_id: int) -> str | None:
    """pending | done | skipped | unsure, or None when the segment is not hers."""
    row = db.execute("SELECT status FROM assignments WHERE segment_id = ? AND rater_id = ?",
                     [segment_id, rater_id]).fetchone()
    return row[0] if row else None


def mark_submitted(db: sqlite_utils.Database, rater_id: int, segment_id: int, status: str) -> None:
    """Record her latest status on the assignment (in the caller's submit transaction).

    Skipping releases her claim, so the segment can go to another annotator; labelling a segment she
    had skipped takes the claim back, in this same transaction, only while the segment has room for
    one more annotator (fewer than k claims): otherwise SegmentFullError, and nothing is written.
    """
    if status not in STATUSES[1:]:
        raise StoreError(f"status must be one of {', '.join(STATUSES[1:])}, not {status!r}")
    with write(db):
        old = assignment_status(db, rater_id, segment_id)
        if old is None:
            raise StoreError(f"segment {segment_id} is not assigned to rater {rater_id}")
        db.execute("UPDATE assignments SET status = ? WHERE segment_id = ? AND rater_id = ?",
                   [status, segment_id, rater_id])
        delta = (status == "skipped") - (old == "skipped")
        if delta < 0:
            _check_room(db, segment_id)
        if delta:
            db.execute("UPDATE segments SET assigned = assigned - ? WHERE id = ?", [delta, segment_id])


def _claims(db: sqlite_utils.Database, segment_id: int) -> int:
    row = db.execute("SELECT assigned FROM segments WHERE id = ?", [segment_id]).fetchone()
    return row[0] if row else 0


def _check_room(db: sqlite_utils.Database, segment_id: int) -> None:
    k = get_settings(db).k
    held = _claims(db, segment_id)
    if held >= k:
        raise SegmentFullError(f"segment {segment_id} already has its k = {k} annotator{'s' if k != 1 else ''}")


def segment_full(db: sqlite_utils.Database, segment_id: int, k: int) -> bool:
    """True when the segment holds k claims (a skipped annotator can no longer take it back)."""
    return _claims(db, segment_id) >= k


# --------------------------------------------------------------------------------------------------
# A rater's list and progress

@dataclass(frozen=True)
class Progress:
    assigned: int
    done: int  # submitted in any way (labelled, unsure or skipped)
    skipped: int
    unsure: int

    @property
    def pending(self) -> int:
        return self.assigned - self.done


def rater_progress(db: sqlite_utils.Database, rater_id: int) -> Progress:
    row = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(status != 'pending'), 0), COALESCE(SUM(status = 'skipped'), 0),"
        " COALESCE(SUM(status = 'unsure'), 0) FROM assignments WHERE rater_id = ?", [rater_id]).fetchone()
    return Progress(*row)


def claimable_count(db: sqlite_utils.Database, rater_id: int, k: int) -> int:
    """Queued segments she could still claim: room for one more annotator, and not in her list (a segment
    she skipped stays in her list). Others may claim some of them first: an upper bound of what comes."""
    return db.execute(
        "SELECT COUNT(*) FROM segments s WHERE s.queued = 1 AND s.assigned < ?"
        " AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.segment_id = s.id AND a.rater_id = ?)",
        [k, rater_id]).fetchone()[0]


@dataclass(frozen=True)
class ListPosition:
    position: int  # 1-based place of the segment in her list
    previous_id: int | None
    next_id: int | None


def list_position(db: sqlite_utils.Database, rater_id: int, segment_id: int) -> ListPosition | None:
    """Where a segment stands in her list (in the order she got them), and its neighbours there."""
    row = db.execute("SELECT assigned_at FROM assignments WHERE rater_id = ? AND segment_id = ?",
                     [rater_id, segment_id]).fetchone()
    if row is None:
        return None
    here = [rater_id, row[0], segment_id]
    before = db.execute(
        "SELECT segment_id FROM assignments WHERE rater_id = ? AND (assigned_at, segment_id) < (?, ?)"
        " ORDER BY assigned_at DESC, segment_id DESC LIMIT 1", here).fetchone()
    after = db.execute(
        "SELECT segment_id FROM assignments WHERE rater_id = ? AND (assigned_at, segment_id) > (?, ?)"
        " ORDER BY assigned_at, segment_id LIMIT 1", here).fetchone()
    position = db.execute(
        "SELECT COUNT(*) FROM assignments WHERE rater_id = ? AND (assigned_at, segment_id) <= (?, ?)",
        here).fetchone()[0]
    return ListPosition(position, before[0] if before else None, after[0] if after else None)


def team_progress(db: sqlite_utils.Database) -> list[dict]:
    """Every user's assignments by status and their last submission time (for leads)."""
    rows = db.execute(
        "SELECT u.name, u.role, u.active,"
        " (SELECT COUNT(*) FROM assignments a WHERE a.rater_id = u.rater_id),"
        " (SELECT COUNT(*) FROM assignments a WHERE a.rater_id = u.rater_id AND a.status = 'done'),"
        " (SELECT COUNT(*) FROM assignments a WHERE a.rater_id = u.rater_id AND a.status = 'unsure'),"
        " (SELECT COUNT(*) FROM assignments a WHERE a.rater_id = u.rater_id AND a.status = 'skipped'),"
        " (SELECT MAX(created_at) FROM submissions s WHERE s.rater_id = u.rater_id)"
        " FROM users u ORDER BY u.name").fetchall()
    keys = ("name", "role", "active", "assigned", "done", "unsure", "skipped", "last_submission")
    return [dict(zip(keys, r)) for r in rows]


def queue_summary(db: sqlite_utils.Database, k: int) -> dict:
    """How far the queue is: queued segments, and how many have k active claims."""
    row = db.execute("SELECT COUNT(*), COALESCE(SUM(assigned >= ?), 0), COALESCE(SUM(assigned), 0)"
                     " FROM segments WHERE queued = 1", [k]).fetchone()
    return {"queued": row[0], "full": row[1], "claims": row[2]}

"""The queue's order: the strategy in use and the hand-out rank of each segment.

store.queue.claim hands out, within a claim level, the segment with the lowest `queue_rank` first, then the
lowest id. Every rank is 0 unless a strategy set some: the ranks are a snapshot that the strategy's service
writes in one transaction together with the strategy setting (what was chosen, with which options, when),
so the order cannot drift from what the setting says until the strategy is applied again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import sqlite_utils

from annotator.store.db import in_chunks, write

_STRATEGY_KEY = "queue.strategy"
DEFAULT_STRATEGY = "default"


def get_strategy(db: sqlite_utils.Database) -> dict:
    """The strategy in use as saved ({"name": ..., options..., "applied_at": ...}); {"name": "default"} if none."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [_STRATEGY_KEY]).fetchone()
    return json.loads(row[0]) if row else {"name": DEFAULT_STRATEGY}


def set_queue_order(db: sqlite_utils.Database, ranks: Mapping[int, int], strategy: Mapping[str, object]) -> int:
    """Replace every segment's rank by `ranks` (segment id -> rank; others 0) and save `strategy`.

    One transaction. Returns how many segments got a rank other than 0.
    """
    with write(db):
        db.execute("UPDATE segments SET queue_rank = 0 WHERE queue_rank != 0")
        db.conn.executemany("UPDATE segments SET queue_rank = ? WHERE id = ?",
                            [(int(rank), int(segment_id)) for segment_id, rank in ranks.items() if rank])
        db.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   [_STRATEGY_KEY, json.dumps(dict(strategy), sort_keys=True)])
    return sum(1 for rank in ranks.values() if rank)


def ranked_segment_ids(db: sqlite_utils.Database) -> list[int]:
    """Segments a strategy put first (rank below 0), in their rank order."""
    return [r[0] for r in db.execute("SELECT id FROM segments WHERE queue_rank < 0 ORDER BY queue_rank, id")]


def hand_out_order(db: sqlite_utils.Database, k: int, *, limit: int) -> list[dict]:
    """The next `limit` segments with room, in the order a rater who holds none of them would claim them.

    Each row: segment id, trace external id, scheme, index, claims held, rank.
    """
    rows = db.execute(
        "SELECT s.id, t.external_id, s.scheme, s.idx, s.assigned, s.queue_rank FROM segments s"
        " JOIN traces t ON t.id = s.trace_id WHERE s.queued = 1 AND s.assigned < ?"
        " ORDER BY s.assigned DESC, s.queue_rank, s.id LIMIT ?", [k, limit]).fetchall()
    keys = ("segment_id", "trace", "scheme", "index", "claims", "rank")
    return [dict(zip(keys, row)) for row in rows]


def queued_with_room(db: sqlite_utils.Database, segment_ids: list[int], k: int) -> set[int]:
    """Which of `segment_ids` are queued and have room for one more annotator."""
    found: set[int] = set()
    for chunk, marks in in_chunks(segment_ids):
        found.update(r[0] for r in db.execute(
            f"SELECT id FROM segments WHERE queued = 1 AND assigned < ? AND id IN ({marks})", [k, *chunk]))
    return found

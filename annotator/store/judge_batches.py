"""Judge batches: runs sent through a provider's batch API (`judge run --batch`).

A batch row is written, with one item per request line (segment, sample, cache key), before anything is
uploaded; the provider's file and batch ids are stored as soon as they are known. A restarted run reads
its open batches (not yet stored) from here and polls them by id instead of submitting again. Each answer
is stored as a live call is (a judge_calls row with the same cache key, and its labels), in the same
transaction that links it to its item, so a run killed while storing stores no answer twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from annotator.store.db import in_chunks, inserted_id, now, write
from annotator.store.judge import JudgeCallWrite, record_judge_call
from annotator.store.labels import LabelWrite

_UPDATABLE = ("batch_id", "input_file_id", "output_file_id", "error_file_id", "status", "provider_completed",
              "provider_failed", "error")
_BATCH_COLUMNS = ("id", "run_id", "provider", "batch_id", "input_file_id", "output_file_id", "error_file_id",
                  "status", "requests", "provider_completed", "provider_failed", "error", "created_at", "updated_at",
                  "stored_at")


@dataclass(frozen=True)
class BatchItemWrite:
    """One request line of a batch: which segment-sample it judges, and the request as a live call stores it."""

    custom_id: str
    segment_id: int
    sample: int
    cache_key: str
    request: str
    truncated: bool = False


def create_judge_batch(db: sqlite_utils.Database, *, run_id: int, provider: str,
                       items: Sequence[BatchItemWrite]) -> int:
    """A batch in state 'preparing' with its items, in one transaction; returns its row id."""
    stamp = now()
    with write(db):
        pk = inserted_id(db.execute(
            "INSERT INTO judge_batches (run_id, provider, status, requests, created_at, updated_at)"
            " VALUES (?, ?, 'preparing', ?, ?, ?)", [run_id, provider, len(items), stamp, stamp]))
        db.conn.executemany(
            "INSERT INTO judge_batch_items (batch_id, custom_id, segment_id, sample, cache_key, truncated, request)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(pk, i.custom_id, i.segment_id, i.sample, i.cache_key, int(i.truncated), i.request) for i in items])
    return pk


def update_judge_batch(db: sqlite_utils.Database, pk: int, **fields) -> None:
    """Record what the provider said: its ids, status, request counts, error."""
    unknown = set(fields) - set(_UPDATABLE)
    if unknown:
        raise ValueError(f"not a batch field: {sorted(unknown)}")
    names = list(fields)
    with write(db):
        db.execute(f"UPDATE judge_batches SET {', '.join(f'{n} = ?' for n in names)}, updated_at = ? WHERE id = ?",
                   [fields[n] for n in names] + [now(), pk])


def finish_judge_batch(db: sqlite_utils.Database, pk: int, *, status: str | None = None,
                       error: str | None = None) -> None:
    """Every item has its stored call (or the batch was abandoned before submission): it is no longer open."""
    stamp = now()
    with write(db):
        db.execute("UPDATE judge_batches SET stored_at = ?, updated_at = ?, status = COALESCE(?, status),"
                   " error = COALESCE(?, error) WHERE id = ?", [stamp, stamp, status, error, pk])


def _batch_dicts(rows) -> list[dict]:
    return [dict(zip(_BATCH_COLUMNS, row)) for row in rows]


def open_judge_batches(db: sqlite_utils.Database, *, run_id: int | None = None) -> list[dict]:
    """Batches not yet stored (all of them, or one run's), oldest first."""
    where, args = ("AND run_id = ?", [run_id]) if run_id is not None else ("", [])
    return _batch_dicts(db.execute(f"SELECT {', '.join(_BATCH_COLUMNS)} FROM judge_batches WHERE stored_at IS NULL"
                                   f" {where} ORDER BY id", args))


def run_judge_batches(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """A run's batches, oldest first, each with `stored` (items whose answer or failure is stored) and `answered`."""
    out = _batch_dicts(db.execute(f"SELECT {', '.join(_BATCH_COLUMNS)} FROM judge_batches WHERE run_id = ?"
                                  " ORDER BY id", [run_id]))
    for batch in out:
        stored, answered = db.execute(
            "SELECT COUNT(i.call_id), COUNT(c.parsed) FROM judge_batch_items i"
            " LEFT JOIN judge_calls c ON c.id = i.call_id WHERE i.batch_id = ?", [batch["id"]]).fetchone()
        batch.update(stored=stored, answered=answered)
    return out


def batched_runs(db: sqlite_utils.Database) -> set[int]:
    """Ids of the runs that went through a batch API."""
    return {r[0] for r in db.execute("SELECT DISTINCT run_id FROM judge_batches")}


def judge_batch_items(db: sqlite_utils.Database, pk: int, *, unstored_only: bool = True) -> list[dict]:
    """A batch's items (custom_id, segment_id, sample, cache_key, truncated, request as JSON), in line order."""
    where = " AND call_id IS NULL" if unstored_only else ""
    rows = db.execute("SELECT custom_id, segment_id, sample, cache_key, truncated, request FROM judge_batch_items"
                      f" WHERE batch_id = ?{where} ORDER BY rowid", [pk])
    return [{"custom_id": c, "segment_id": s, "sample": k, "cache_key": key, "truncated": bool(t),
             "request": json.loads(r)} for c, s, k, key, t, r in rows]


def keys_in_open_batches(db: sqlite_utils.Database, keys: Sequence[str]) -> dict[str, int]:
    """Cache key -> run id, for keys waiting in a submitted batch that is not stored yet (never submit twice)."""
    out: dict[str, int] = {}
    for chunk, marks in in_chunks(list(dict.fromkeys(keys))):
        rows = db.execute(
            "SELECT i.cache_key, b.run_id FROM judge_batch_items i JOIN judge_batches b ON b.id = i.batch_id"
            f" WHERE b.stored_at IS NULL AND i.call_id IS NULL AND i.cache_key IN ({marks})", chunk)
        out.update(dict(rows))
    return out


def record_batch_answer(db: sqlite_utils.Database, pk: int, custom_id: str, call: JudgeCallWrite,
                        labels: LabelWrite | None = None) -> int:
    """Store one line's answer (or failure) as a live call is stored and link it to its item, atomically."""
    with write(db):
        call_id = record_judge_call(db, call, labels)
        db.execute("UPDATE judge_batch_items SET call_id = ? WHERE batch_id = ? AND custom_id = ?",
                   [call_id, pk, custom_id])
    return call_id

"""Carrying labels and gold from one taxonomy version to a refined one (in the caller's transaction)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import sqlite_utils

from annotator.store.db import now


def save_mapping_rows(db: sqlite_utils.Database, source_id: int, target_id: int,
                      rows: list[tuple[str, str | None, str]]) -> None:
    """Store (old code, new code or None, kind) rows of a refinement."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO mode_mappings (source_taxonomy_id, target_taxonomy_id, source_code, target_code, kind)"
        " VALUES (?, ?, ?, ?, ?)", [(source_id, target_id, old, new, kind) for old, new, kind in rows])


def iter_label_groups(db: sqlite_utils.Database, taxonomy_id: int) -> Iterator[tuple[int, int, int, dict[str, int]]]:
    """(segment, rater, sample, {code: value}) for every rater's labels of a segment under a version."""
    rows = db.execute(
        "SELECT l.segment_id, l.rater_id, l.sample, m.code, l.value FROM labels l JOIN modes m ON m.id = l.mode_id"
        " WHERE l.taxonomy_id = ? ORDER BY l.segment_id, l.rater_id, l.sample", [taxonomy_id])
    key: tuple[int, int, int] | None = None
    values: dict[str, int] = {}
    for segment, rater, sample, code, value in rows:
        if (segment, rater, sample) != key:
            if key is not None:
                yield (*key, values)
            key, values = (segment, rater, sample), {}
        values[code] = value
    if key is not None:
        yield (*key, values)


def iter_gold_groups(db: sqlite_utils.Database, taxonomy_id: int) -> Iterator[tuple[int, dict[str, int], dict]]:
    """(segment, {code: value}, provenance of the segment's first gold label) under a version."""
    rows = db.execute(
        "SELECT g.segment_id, m.code, g.value, g.provenance, g.adjudicator, g.note FROM gold g"
        " JOIN modes m ON m.id = g.mode_id WHERE g.taxonomy_id = ? ORDER BY g.segment_id, m.position", [taxonomy_id])
    key: int | None = None
    values: dict[str, int] = {}
    origin: dict = {}
    for segment, code, value, provenance, adjudicator, note in rows:
        if segment != key:
            if key is not None:
                yield key, values, origin
            key, values, origin = segment, {}, {"provenance": provenance, "adjudicator": adjudicator, "note": note}
        values[code] = value
    if key is not None:
        yield key, values, origin


def insert_carried_labels(db: sqlite_utils.Database, taxonomy_id: int,
                          rows: list[tuple[int, int, int, int, int, bool]]) -> None:
    """(segment, rater, mode id, sample, value, stale) rows under the new version."""
    stamp = now()
    db.conn.executemany(
        "INSERT OR IGNORE INTO labels (segment_id, rater_id, mode_id, taxonomy_id, sample, value, stale, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(s, r, m, taxonomy_id, sample, v, int(stale), stamp, stamp) for s, r, m, sample, v, stale in rows])


def insert_carried_submissions(db: sqlite_utils.Database, taxonomy_id: int,
                               rows: list[tuple[int, int, dict[str, int]]]) -> None:
    """A 'done' submission per (segment, rater) whose labels were fully carried over."""
    stamp = now()
    db.conn.executemany(
        "INSERT INTO submissions (segment_id, rater_id, taxonomy_id, status, labels, created_at)"
        " VALUES (?, ?, ?, 'done', ?, ?)",
        [(s, r, taxonomy_id, json.dumps({"carried": v}, sort_keys=True), stamp) for s, r, v in rows])


def insert_carried_gold(db: sqlite_utils.Database, taxonomy_id: int, rows: list[tuple[int, int, int, dict]]) -> None:
    """(segment, mode id, value, origin) gold rows under the new version."""
    stamp = now()
    db.conn.executemany(
        "INSERT OR IGNORE INTO gold (segment_id, mode_id, taxonomy_id, value, provenance, adjudicator, note,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(s, m, taxonomy_id, v, o["provenance"], o["adjudicator"], o["note"], stamp) for s, m, v, o in rows])


def requeue_segments(db: sqlite_utils.Database, segment_ids: set[int]) -> None:
    """Put segments (back) into the annotators' queue."""
    db.conn.executemany("UPDATE segments SET queued = 1 WHERE id = ?", [(s,) for s in sorted(segment_ids)])

"""Raters, labels and submissions. A rater's labels for a segment are written with a submission row."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from annotator.store.db import inserted_id, now, write
from annotator.store.taxonomies import StoreError

RATER_KINDS = ("human", "judge", "gold", "reference")


@dataclass(frozen=True)
class RaterRow:
    id: int
    name: str
    kind: str
    model: str | None
    prompt_version: str | None
    params: dict


def ensure_rater(db: sqlite_utils.Database, name: str, kind: str, *, model: str | None = None,
                 prompt_version: str | None = None, params: dict | None = None) -> int:
    """Id of rater `name`, created if new. A name keeps its kind forever."""
    if kind not in RATER_KINDS:
        raise StoreError(f"rater {name!r}: kind must be one of {', '.join(RATER_KINDS)}, not {kind!r}")
    row = db.execute("SELECT id, kind FROM raters WHERE name = ?", [name]).fetchone()
    if row is not None:
        if row[1] != kind:
            raise StoreError(f"rater {name!r} exists as a {row[1]} rater, not {kind}")
        return row[0]
    with write(db):
        return inserted_id(db.execute(
            "INSERT INTO raters (name, kind, model, prompt_version, params, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [name, kind, model, prompt_version, json.dumps(params or {}, sort_keys=True), now()],
        ))


def rater_name(db: sqlite_utils.Database, rater_id: int) -> str | None:
    row = db.execute("SELECT name FROM raters WHERE id = ?", [rater_id]).fetchone()
    return row[0] if row else None


def get_rater(db: sqlite_utils.Database, name: str) -> RaterRow | None:
    row = db.execute("SELECT id, name, kind, model, prompt_version, params FROM raters WHERE name = ?",
                     [name]).fetchone()
    return _rater_row(row) if row else None


def list_raters(db: sqlite_utils.Database) -> list[RaterRow]:
    rows = db.execute("SELECT id, name, kind, model, prompt_version, params FROM raters ORDER BY id").fetchall()
    return [_rater_row(r) for r in rows]


def _rater_row(row: tuple) -> RaterRow:
    """A RaterRow from (id, name, kind, model, prompt_version, params as JSON)."""
    rater_id, name, kind, model, prompt_version, params = row
    return RaterRow(rater_id, name, kind, model, prompt_version, params=json.loads(params))


@dataclass(frozen=True)
class LabelWrite:
    """All of one rater's labels for one segment under one taxonomy version."""

    segment_id: int
    rater_id: int
    taxonomy_id: int
    values: dict[int, int]  # mode id -> 0/1; every mode of the taxonomy when status is "done"
    status: str = "done"  # done | skipped | unsure
    rationales: dict[int, str] | None = None
    evidence: dict[int, str] | None = None
    duration_ms: int | None = None
    sample: int = 0


def _current_values(db: sqlite_utils.Database, w: LabelWrite) -> dict[int, tuple]:
    rows = db.execute(
        "SELECT mode_id, value, rationale, evidence FROM labels"
        " WHERE segment_id = ? AND rater_id = ? AND taxonomy_id = ? AND sample = ?",
        [w.segment_id, w.rater_id, w.taxonomy_id, w.sample],
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def _latest_status(db: sqlite_utils.Database, w: LabelWrite) -> str | None:
    row = db.execute(
        "SELECT status FROM submissions WHERE segment_id = ? AND rater_id = ? AND taxonomy_id = ?"
        " ORDER BY id DESC LIMIT 1", [w.segment_id, w.rater_id, w.taxonomy_id]).fetchone()
    return row[0] if row else None


def write_labels(db: sqlite_utils.Database, w: LabelWrite) -> int:
    """Write a submission and its labels in one transaction; return the number of label rows changed.

    Identical re-submissions change nothing and add no submission row, so imports are idempotent.
    A changed label keeps its first `created_at` and gets a new `updated_at`; the submission rows
    keep the history of every change with its time.
    """
    rationales, evidence = w.rationales or {}, w.evidence or {}
    with write(db):
        current = _current_values(db, w)
        wanted = {m: (int(v), rationales.get(m), evidence.get(m)) for m, v in w.values.items()}
        changed = {m: t for m, t in wanted.items() if current.get(m) != t}
        if not changed and _latest_status(db, w) == w.status:
            return 0
        stamp = now()
        db.conn.executemany(
            "INSERT INTO labels (segment_id, rater_id, mode_id, taxonomy_id, sample, value, rationale, evidence,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (segment_id, rater_id, mode_id, sample) DO UPDATE SET value = excluded.value,"
            " rationale = excluded.rationale, evidence = excluded.evidence, stale = 0,"
            " updated_at = excluded.updated_at",
            [(w.segment_id, w.rater_id, m, w.taxonomy_id, w.sample, *t, stamp, stamp) for m, t in changed.items()],
        )
        db.execute(
            "INSERT INTO submissions (segment_id, rater_id, taxonomy_id, status, labels, duration_ms, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [w.segment_id, w.rater_id, w.taxonomy_id, w.status,
             json.dumps({str(m): v for m, v in w.values.items()}, sort_keys=True), w.duration_ms, stamp],
        )
    return len(changed)

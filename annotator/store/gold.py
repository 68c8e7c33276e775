"""Gold labels (with provenance) and the dev/test split of the gold set."""

from __future__ import annotations

import sqlite_utils

from annotator.store.db import now, write

PROVENANCES = ("unanimous", "majority", "adjudicated")
# Gold row `g` is stale when a person's label on its segment changed or arrived after the gold was set
# (a fourth rater now disagrees with "unanimous"): until it is rebuilt or adjudicated again.
STALE_SQL = ("EXISTS (SELECT 1 FROM labels l JOIN raters r ON r.id = l.rater_id WHERE l.segment_id = g.segment_id"
             " AND l.taxonomy_id = g.taxonomy_id AND r.kind = 'human' AND l.updated_at > g.created_at)")


def adjudicated_cells(db: sqlite_utils.Database, taxonomy_id: int) -> set[tuple[int, int]]:
    """(segment, mode id) cells whose gold a person set: automatic building never overwrites them."""
    rows = db.execute("SELECT segment_id, mode_id FROM gold WHERE taxonomy_id = ? AND provenance = 'adjudicated'",
                      [taxonomy_id]).fetchall()
    return {(r[0], r[1]) for r in rows}


def replace_automatic_gold(db: sqlite_utils.Database, taxonomy_id: int,
                           rows: list[tuple[int, int, int, str]]) -> int:
    """Replace all unanimous/majority gold of a taxonomy with `rows` of (segment, mode, value, provenance)."""
    stamp = now()
    with write(db):
        db.execute("DELETE FROM gold WHERE taxonomy_id = ? AND provenance != 'adjudicated'", [taxonomy_id])
        db.conn.executemany(
            "INSERT OR IGNORE INTO gold (segment_id, mode_id, taxonomy_id, value, provenance, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", [(s, m, taxonomy_id, v, p, stamp) for s, m, v, p in rows])
    return len(rows)


def set_adjudicated_gold(db: sqlite_utils.Database, segment_id: int, taxonomy_id: int, values: dict[int, int],
                         *, adjudicator: str, note: str | None) -> None:
    """A reviewer's decision for one segment: replaces any gold of its modes, in one transaction."""
    stamp = now()
    with write(db):
        db.conn.executemany(
            "INSERT INTO gold (segment_id, mode_id, taxonomy_id, value, provenance, adjudicator, note, created_at)"
            " VALUES (?, ?, ?, ?, 'adjudicated', ?, ?, ?) ON CONFLICT (segment_id, mode_id) DO UPDATE SET"
            " value = excluded.value, provenance = 'adjudicated', adjudicator = excluded.adjudicator,"
            " note = excluded.note, created_at = excluded.created_at",
            [(segment_id, mode_id, taxonomy_id, int(v), adjudicator, note, stamp) for mode_id, v in values.items()])


def gold_of_segment(db: sqlite_utils.Database, segment_id: int, taxonomy_id: int) -> dict[str, dict]:
    """code -> {value, provenance, adjudicator, note, created_at, stale} for one segment."""
    rows = db.execute(
        f"SELECT m.code, g.value, g.provenance, g.adjudicator, g.note, g.created_at, {STALE_SQL} FROM gold g"
        " JOIN modes m ON m.id = g.mode_id WHERE g.segment_id = ? AND g.taxonomy_id = ?",
        [segment_id, taxonomy_id]).fetchall()
    keys = ("value", "provenance", "adjudicator", "note", "created_at", "stale")
    return {r[0]: {**dict(zip(keys, r[1:])), "stale": bool(r[6])} for r in rows}


def stale_gold_segments(db: sqlite_utils.Database, taxonomy_id: int) -> list[int]:
    """Segments whose gold predates a person's newer label (see STALE_SQL), in id order."""
    return [r[0] for r in db.execute(
        f"SELECT DISTINCT g.segment_id FROM gold g WHERE g.taxonomy_id = ? AND {STALE_SQL} ORDER BY g.segment_id",
        [taxonomy_id])]


def gold_counts(db: sqlite_utils.Database, taxonomy_id: int) -> dict[str, int]:
    """Gold labels by provenance, plus the number of segments with any gold."""
    counts = dict(db.execute("SELECT provenance, COUNT(*) FROM gold WHERE taxonomy_id = ? GROUP BY provenance",
                             [taxonomy_id]).fetchall())
    counts["segments"] = db.execute("SELECT COUNT(DISTINCT segment_id) FROM gold WHERE taxonomy_id = ?",
                                    [taxonomy_id]).fetchone()[0]
    counts["stale_segments"] = len(stale_gold_segments(db, taxonomy_id))
    return counts


def segment_labelled_by_anyone(db: sqlite_utils.Database, segment_id: int, taxonomy_id: int) -> bool:
    row = db.execute("SELECT 1 FROM labels WHERE segment_id = ? AND taxonomy_id = ? LIMIT 1",
                     [segment_id, taxonomy_id]).fetchone()
    return row is not None


def gold_segments_with_hashes(db: sqlite_utils.Database, taxonomy_id: int) -> list[tuple[int, str]]:
    """(segment id, content hash) of every segment that has gold, in id order."""
    return db.execute(
        "SELECT DISTINCT g.segment_id, s.content_hash FROM gold g JOIN segments s ON s.id = g.segment_id"
        " WHERE g.taxonomy_id = ? ORDER BY g.segment_id", [taxonomy_id]).fetchall()


def get_split(db: sqlite_utils.Database, taxonomy_id: int) -> dict[int, str]:
    """segment id -> 'dev' | 'test'."""
    return dict(db.execute("SELECT segment_id, split FROM gold_splits WHERE taxonomy_id = ?", [taxonomy_id]))


def save_split(db: sqlite_utils.Database, taxonomy_id: int, assignment: dict[int, str], seed: int) -> None:
    """Record splits for segments that have none yet; an existing assignment never changes."""
    with write(db):
        db.conn.executemany(
            "INSERT OR IGNORE INTO gold_splits (segment_id, taxonomy_id, split, seed) VALUES (?, ?, ?, ?)",
            [(s, taxonomy_id, split, seed) for s, split in assignment.items()])


def hashes_of_test_split(db: sqlite_utils.Database, taxonomy_id: int) -> dict[str, int]:
    """content hash -> segment id for the test split (to catch test examples leaking into prompts)."""
    rows = db.execute(
        "SELECT s.content_hash, s.id FROM gold_splits g JOIN segments s ON s.id = g.segment_id"
        " WHERE g.taxonomy_id = ? AND g.split = 'test'", [taxonomy_id]).fetchall()
    return {h: s for h, s in rows}

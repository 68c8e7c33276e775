"""What the Annotate page reads about one segment: its neighbours, labels on it, submission history."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from annotator.store.traces import _SEGMENT_SELECT, SegmentRow


def segment_at(db: sqlite_utils.Database, trace_id: int, scheme: str, idx: int) -> SegmentRow | None:
    """The segment at `idx` of a trace under a scheme (its neighbours are idx - 1 and idx + 1)."""
    row = db.execute(_SEGMENT_SELECT + " WHERE s.trace_id = ? AND s.scheme = ? AND s.idx = ?",
                     [trace_id, scheme, idx]).fetchone()
    return SegmentRow(*row) if row else None


def segment_count(db: sqlite_utils.Database, trace_id: int, scheme: str) -> int:
    """How many segments a trace has under a scheme (one index range scan)."""
    row = db.execute("SELECT COUNT(*) FROM segments WHERE trace_id = ? AND scheme = ?", [trace_id, scheme]).fetchone()
    return row[0]


@dataclass(frozen=True)
class RaterLabels:
    rater: str
    kind: str
    values: dict[str, int]  # mode code -> 0/1
    rationales: dict[str, str]
    status: str | None  # latest submission status, None if the labels came without one


def labels_for_segment(db: sqlite_utils.Database, segment_id: int, taxonomy_id: int, *,
                       rater_id: int | None = None, exclude_rater_id: int | None = None) -> list[RaterLabels]:
    """Labels on one segment under one taxonomy version, per rater (sample 0).

    Pass `rater_id` for one rater's own labels, or `exclude_rater_id` for everyone else's. Callers
    showing other raters' labels decide first whether the viewer may see them (the blind rule).
    """
    sql = ("SELECT r.id, r.name, r.kind, m.code, l.value, l.rationale FROM labels l"
           " JOIN raters r ON r.id = l.rater_id JOIN modes m ON m.id = l.mode_id"
           # '+': keep the (taxonomy, ...) index out; by segment is narrower
           " WHERE l.segment_id = ? AND +l.taxonomy_id = ? AND l.sample = 0")
    args: list = [segment_id, taxonomy_id]
    if rater_id is not None:
        sql, args = sql + " AND l.rater_id = ?", args + [rater_id]
    if exclude_rater_id is not None:
        sql, args = sql + " AND l.rater_id != ?", args + [exclude_rater_id]
    by_rater: dict[int, RaterLabels] = {}
    for rid, name, kind, code, value, rationale in db.execute(sql + " ORDER BY r.name, m.position", args):
        status = _latest_status(db, segment_id, rid, taxonomy_id)
        entry = by_rater.setdefault(rid, RaterLabels(name, kind, {}, {}, status))
        entry.values[code] = value
        if rationale:
            entry.rationales[code] = rationale
    return list(by_rater.values())


def _latest_status(db: sqlite_utils.Database, segment_id: int, rater_id: int, taxonomy_id: int) -> str | None:
    row = db.execute("SELECT status FROM submissions WHERE segment_id = ? AND rater_id = ? AND taxonomy_id = ?"
                     " ORDER BY id DESC LIMIT 1", [segment_id, rater_id, taxonomy_id]).fetchone()
    return row[0] if row else None


def submission_history(db: sqlite_utils.Database, segment_id: int, rater_id: int) -> list[tuple[str, str]]:
    """(time, status) of each of her submissions for the segment, oldest first."""
    return [tuple(r) for r in db.execute(
        "SELECT created_at, status FROM submissions WHERE segment_id = ? AND rater_id = ? ORDER BY id",
        [segment_id, rater_id]).fetchall()]

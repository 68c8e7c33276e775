"""What the baseline judge reads (segment texts with their trace body, the segments to label) and writes
(its labels, many segments per transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import sqlite_utils

from annotator.store.db import in_chunks, write
from annotator.store.labels import LabelWrite, write_labels


@dataclass(frozen=True)
class SegmentText:
    id: int
    content_hash: str
    trace_hash: str  # the content hash of its trace: segments of one trace body share it
    text: str


def segment_texts(db: sqlite_utils.Database, segment_ids: Sequence[int]) -> Iterator[SegmentText]:
    """The given segments with their text, in the order given, `IN_CHUNK` at a time (memory stays bounded)."""
    ids = [int(i) for i in segment_ids]
    for chunk, marks in in_chunks(ids):
        rows = db.execute(
            "SELECT s.id, s.content_hash, t.content_hash, substr(t.text, s.start + 1, s.\"end\" - s.start)"
            f" FROM segments s JOIN traces t ON t.id = s.trace_id WHERE s.id IN ({marks})", chunk)
        found = {row[0]: SegmentText(*row) for row in rows}
        yield from (found[i] for i in chunk if i in found)


def segments_to_label(db: sqlite_utils.Database, taxonomy_id: int) -> list[int]:
    """Every queued segment and every segment with gold under the taxonomy, in id order."""
    rows = db.execute("SELECT id FROM segments WHERE queued = 1 UNION"
                      " SELECT segment_id FROM gold WHERE taxonomy_id = ? ORDER BY 1", [taxonomy_id])
    return [r[0] for r in rows]


def write_label_batch(db: sqlite_utils.Database, writes: Iterable[LabelWrite]) -> int:
    """Several segments' labels in one transaction; the number of label rows changed (0 on a rerun)."""
    with write(db):
        return sum(write_labels(db, w) for w in writes)


def gold_by_segment(db: sqlite_utils.Database, taxonomy_id: int) -> dict[int, dict[str, int]]:
    """segment id -> {mode code: gold value} under the taxonomy, segments in id order."""
    rows = db.execute("SELECT g.segment_id, m.code, g.value FROM gold g JOIN modes m ON m.id = g.mode_id"
                      " WHERE g.taxonomy_id = ? ORDER BY g.segment_id, m.position", [taxonomy_id])
    out: dict[int, dict[str, int]] = {}
    for segment_id, code, value in rows:
        out.setdefault(segment_id, {})[code] = value
    return out

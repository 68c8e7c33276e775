"""A segment's place in its trace and the segments on either side, for the Annotate and Review pages."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from annotator import store


@dataclass(frozen=True)
class Neighbours:
    """Where a segment stands among the segments of its trace under its scheme."""

    before: store.SegmentRow | None  # the segment just before it (idx - 1), if any
    after: store.SegmentRow | None
    position: int  # 1-based
    total: int


def around(db: sqlite_utils.Database, segment: store.SegmentRow) -> Neighbours:
    """The segment's neighbours and its place (turn 7 of 31)."""
    trace_id, scheme, idx = segment.trace_id, segment.scheme, segment.idx
    return Neighbours(
        before=store.segment_at(db, trace_id, scheme, idx - 1) if idx > 0 else None,
        after=store.segment_at(db, trace_id, scheme, idx + 1),
        position=idx + 1,
        total=store.segment_count(db, trace_id, scheme),
    )

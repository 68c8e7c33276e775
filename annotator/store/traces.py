"""Traces, their tags and segments. Segment text is never copied: it is a slice of the trace text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlite_utils

from annotator.store.db import inserted_id, now


def content_hash(text: str) -> str:
    """SHA-256 of UTF-8 text: identifies a trace or segment body across imports and databases."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


@dataclass(frozen=True)
class SegmentInput:
    scheme: str  # "trace" | "turn" | "window:N"
    idx: int
    kind: str
    start: int
    end: int
    speaker: str | None = None
    queued: bool = True  # shown to annotators in the Annotate queue
    recipient: str | None = None
    meta: Mapping[str, str] | None = field(default=None, compare=False)  # stored as JSON text


@dataclass
class TraceInput:
    external_id: str
    text: str
    source: str
    format: str
    framework: str | None = None
    benchmark: str | None = None
    llm: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    segments: list[SegmentInput] = field(default_factory=list)


def insert_trace(db: sqlite_utils.Database, trace: TraceInput) -> tuple[int, bool]:
    """Insert a trace with its tags and segments unless the same (id, content) exists.

    Returns (trace id, whether anything was added). Segments of a scheme the trace does not have
    yet are added to an existing trace. Runs in the caller's transaction.
    """
    digest = content_hash(trace.text)
    row = db.execute(
        "SELECT id FROM traces WHERE external_id = ? AND content_hash = ?", [trace.external_id, digest]
    ).fetchone()
    added = row is None
    if added:
        trace_id = inserted_id(db.execute(
            "INSERT INTO traces (external_id, source, format, framework, benchmark, llm, content_hash, text,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [trace.external_id, trace.source, trace.format, trace.framework, trace.benchmark, trace.llm,
             digest, trace.text, now()],
        ))
    else:
        trace_id = row[0]
    db.conn.executemany(
        "INSERT OR IGNORE INTO trace_tags (trace_id, key, value) VALUES (?, ?, ?)",
        [(trace_id, k, str(v)) for k, v in trace.tags.items()],
    )
    cur = db.conn.executemany(
        'INSERT OR IGNORE INTO segments (trace_id, scheme, idx, kind, start, "end", speaker, content_hash,'
        " queued, recipient, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(trace_id, s.scheme, s.idx, s.kind, s.start, s.end, s.speaker,
          content_hash(trace.text[s.start:s.end]), int(s.queued), s.recipient, _meta_json(s.meta))
         for s in trace.segments],
    )
    return trace_id, added or cur.rowcount > 0


def _meta_json(meta: Mapping[str, str] | None) -> str | None:
    return json.dumps(dict(meta), ensure_ascii=False, sort_keys=True) if meta else None


def trace_segment_id(db: sqlite_utils.Database, trace_id: int) -> int:
    """The segment that covers the whole trace (where trace-level labels live)."""
    row = db.execute(
        "SELECT id FROM segments WHERE trace_id = ? AND scheme = 'trace' AND idx = 0", [trace_id]
    ).fetchone()
    if row is None:
        raise LookupError(f"trace {trace_id} has no whole-trace segment")
    return row[0]


@dataclass(frozen=True)
class SegmentRow:
    id: int
    trace_id: int
    trace_external_id: str
    scheme: str
    idx: int
    kind: str
    start: int
    end: int
    speaker: str | None
    content_hash: str
    text: str
    recipient: str | None = None
    meta_json: str | None = None  # the turn's metadata (Turn.meta) as a JSON object, or None

    @property
    def meta(self) -> dict[str, str]:
        return json.loads(self.meta_json) if self.meta_json else {}


_SEGMENT_SELECT = (
    'SELECT s.id, s.trace_id, t.external_id, s.scheme, s.idx, s.kind, s.start, s."end", s.speaker,'
    ' s.content_hash, substr(t.text, s.start + 1, s."end" - s.start), s.recipient, s.meta'
    " FROM segments s JOIN traces t ON t.id = s.trace_id"
)


def get_segment(db: sqlite_utils.Database, segment_id: int) -> SegmentRow | None:
    """One segment with its text (sliced from the trace in SQL, so the trace is not copied)."""
    row = db.execute(_SEGMENT_SELECT + " WHERE s.id = ?", [segment_id]).fetchone()
    return SegmentRow(*row) if row else None


def segments_of_trace(db: sqlite_utils.Database, trace_id: int, scheme: str) -> list[SegmentRow]:
    rows = db.execute(_SEGMENT_SELECT + " WHERE s.trace_id = ? AND s.scheme = ? ORDER BY s.idx",
                      [trace_id, scheme]).fetchall()
    return [SegmentRow(*r) for r in rows]


def iter_segments(db: sqlite_utils.Database, *, queued_only: bool = False, with_text: bool = True):
    """All segments in id order, as SegmentRow (text empty when `with_text` is False)."""
    select = _SEGMENT_SELECT if with_text else _SEGMENT_SELECT.replace(
        ', substr(t.text, s.start + 1, s."end" - s.start)', ", ''")
    where = " WHERE s.queued = 1" if queued_only else ""
    for row in db.execute(select + where + " ORDER BY s.id"):
        yield SegmentRow(*row)


@dataclass(frozen=True)
class TraceRow:
    id: int
    external_id: str
    source: str
    format: str
    framework: str | None
    benchmark: str | None
    llm: str | None
    n_chars: int
    tags: dict[str, str]


def get_trace(db: sqlite_utils.Database, trace_id: int) -> TraceRow | None:
    """Trace metadata and tags (not its text)."""
    row = db.execute(
        "SELECT id, external_id, source, format, framework, benchmark, llm, length(text) FROM traces"
        " WHERE id = ?", [trace_id]).fetchone()
    if row is None:
        return None
    tags = dict(db.execute("SELECT key, value FROM trace_tags WHERE trace_id = ? ORDER BY key", [trace_id]))
    trace_id, external_id, source, fmt, framework, benchmark, llm, n_chars = row
    return TraceRow(trace_id, external_id, source, fmt, framework, benchmark, llm, n_chars, tags=tags)


def latest_trace_id(db: sqlite_utils.Database, external_id: str) -> int | None:
    """The newest trace stored under an external id (re-imports of changed content add new ones)."""
    row = db.execute("SELECT id FROM traces WHERE external_id = ? ORDER BY id DESC LIMIT 1", [external_id]).fetchone()
    return row[0] if row else None


def trace_text(db: sqlite_utils.Database, trace_id: int) -> str:
    row = db.execute("SELECT text FROM traces WHERE id = ?", [trace_id]).fetchone()
    return row[0] if row else ""


def record_import(db: sqlite_utils.Database, *, path: str, sha256: str, fmt: str, scheme: str,
                  traces_added: int, labels_added: int) -> None:
    """Log an import (part of the import's transaction)."""
    db.execute(
        "INSERT INTO imports (path, sha256, format, scheme, traces_added, labels_added, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", [path, sha256, fmt, scheme, traces_added, labels_added, now()])

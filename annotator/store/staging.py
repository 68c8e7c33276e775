"""Spans received live (`annotator collect`), staged until their trace is complete. See schema m007."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from annotator.store.db import write

OPEN, ASSEMBLED, SKIPPED, FAILED = "open", "assembled", "skipped", "failed"


@dataclass(frozen=True)
class StagedItem:
    trace_key: str  # the OTLP trace id
    span_id: str  # a span's id; a log record's key is its span id, its time and its position in the request
    item: str  # JSON of the decoded span or log record
    is_root_span: bool = False


def stage(db: sqlite_utils.Database, items: list[StagedItem], *, now: float) -> int:
    """Write received items in one transaction (committed before the sender is answered). Returns new items.

    The same span received twice (an exporter's retry) is kept once. A span for a trace already assembled is
    kept and counted as late; the trace is not built again.
    """
    added = 0
    with write(db):
        for item in items:
            cur = db.execute("INSERT OR IGNORE INTO staged_spans (trace_key, span_id, item, received_at)"
                             " VALUES (?, ?, ?, ?)", [item.trace_key, item.span_id, item.item, now])
            if not cur.rowcount:
                continue
            added += 1
            db.execute(
                "INSERT INTO staged_traces (trace_key, first_seen, last_seen, root_ended) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (trace_key) DO UPDATE SET last_seen = excluded.last_seen,"
                " root_ended = max(root_ended, excluded.root_ended),"
                " late_spans = late_spans + (state != 'open')",
                [item.trace_key, now, now, int(item.is_root_span)])
    return added


def complete_traces(db: sqlite_utils.Database, *, now: float, quiet_s: float, settle_s: float) -> list[str]:
    """Open traces that are complete: no new span for quiet_s, or the root span ended and settle_s passed."""
    rows = db.execute(
        "SELECT trace_key FROM staged_traces WHERE state = 'open' AND"
        " (last_seen <= ? OR (root_ended = 1 AND last_seen <= ?)) ORDER BY first_seen",
        [now - quiet_s, now - settle_s]).fetchall()
    return [row[0] for row in rows]


def staged_items(db: sqlite_utils.Database, trace_key: str) -> list[str]:
    return [row[0] for row in db.execute(
        "SELECT item FROM staged_spans WHERE trace_key = ? ORDER BY rowid", [trace_key])]


def close_trace(db: sqlite_utils.Database, trace_key: str, state: str, *, trace_id: int | None = None,
                error: str | None = None) -> None:
    """Mark a staged trace done (in the caller's transaction, with the trace it became)."""
    db.execute("UPDATE staged_traces SET state = ?, trace_id = ?, error = ? WHERE trace_key = ?",
               [state, trace_id, error, trace_key])


def staging_summary(db: sqlite_utils.Database) -> dict[str, int]:
    """How many staged traces are in each state, how many spans are staged, and how many came late."""
    summary = {state: 0 for state in (OPEN, ASSEMBLED, SKIPPED, FAILED)}
    summary.update(dict(db.execute("SELECT state, count(*) FROM staged_traces GROUP BY state").fetchall()))
    summary["spans"] = db.execute("SELECT count(*) FROM staged_spans").fetchone()[0]
    summary["late_spans"] = db.execute("SELECT coalesce(sum(late_spans), 0) FROM staged_traces").fetchone()[0]
    return summary


def failed_traces(db: sqlite_utils.Database, limit: int = 20) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in db.execute(
        "SELECT trace_key, error FROM staged_traces WHERE state = 'failed' ORDER BY last_seen DESC LIMIT ?",
        [limit])]

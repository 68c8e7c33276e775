"""Judge runs and calls: the call cache, segment selection, progress and the run list.

A judge call row is written together with the judge's labels in one transaction, so a run that is
killed keeps every finished segment and redoes none of them: the next run finds their cache keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlite_utils

from annotator.store.db import in_chunks, inserted_id, now, write
from annotator.store.labels import LabelWrite, write_labels
from annotator.store.taxonomies import StoreError

SELECTIONS = ("all", "gold", "unlabelled")
ACTIVE = ("planning", "running")


@dataclass(frozen=True)
class JudgeSegment:
    """A segment chosen for judging, without its text (read when its call starts)."""

    id: int
    trace_id: int
    content_hash: str
    scheme: str
    idx: int
    kind: str
    start: int
    end: int
    speaker: str | None


_SEGMENT_COLUMNS = 'SELECT s.id, s.trace_id, s.content_hash, s.scheme, s.idx, s.kind, s.start, s."end", s.speaker'
_SELECTION_SQL = {
    "all": _SEGMENT_COLUMNS + " FROM segments s WHERE s.queued = 1",
    "gold": _SEGMENT_COLUMNS + " FROM segments s WHERE s.id IN (SELECT DISTINCT segment_id FROM gold)",
    "unlabelled": _SEGMENT_COLUMNS + " FROM segments s WHERE s.queued = 1"
                  " AND NOT EXISTS (SELECT 1 FROM submissions sub JOIN raters r ON r.id = sub.rater_id"
                  " WHERE sub.segment_id = s.id AND sub.status = 'done' AND r.kind = 'human')",
}


def select_judge_segments(db: sqlite_utils.Database, selection: str, *, limit: int | None = None) -> list[JudgeSegment]:
    """Segments to judge, in id order.

    all: queued segments; gold: segments with gold labels; unlabelled: queued segments without a
    'done' submission from any human rater.
    """
    if selection not in _SELECTION_SQL:
        raise StoreError(f"--segments {selection!r}: expected one of {', '.join(SELECTIONS)}")
    sql, args = _SELECTION_SQL[selection] + " ORDER BY s.id", []
    if limit is not None:
        sql, args = sql + " LIMIT ?", [int(limit)]
    return [JudgeSegment(*row) for row in db.execute(sql, args)]


def judge_segments_by_id(db: sqlite_utils.Database, segment_ids: Iterable[int]) -> list[JudgeSegment]:
    """The given segments (unknown ids are an error), in the order given."""
    ids = list(dict.fromkeys(int(i) for i in segment_ids))
    found: dict[int, JudgeSegment] = {}
    for chunk, marks in in_chunks(ids):
        for row in db.execute(_SEGMENT_COLUMNS + f" FROM segments s WHERE s.id IN ({marks})", chunk):
            found[row[0]] = JudgeSegment(*row)
    missing = [i for i in ids if i not in found]
    if missing:
        raise StoreError(f"no segment with id {missing[0]}")
    return [found[i] for i in ids]


def whole_trace_segments(db: sqlite_utils.Database, external_ids: Iterable[str]) -> dict[str, list[int]]:
    """External trace id -> ids of its whole-trace segments (one per stored version of the trace)."""
    wanted = list(dict.fromkeys(str(e) for e in external_ids))
    out: dict[str, list[int]] = {}
    for chunk, marks in in_chunks(wanted):
        rows = db.execute(
            "SELECT t.external_id, s.id FROM segments s JOIN traces t ON t.id = s.trace_id"
            f" WHERE s.scheme = 'trace' AND s.idx = 0 AND t.external_id IN ({marks}) ORDER BY s.id", chunk)
        for external_id, segment_id in rows:
            out.setdefault(external_id, []).append(segment_id)
    return out


def cached_judgements(db: sqlite_utils.Database, keys: Sequence[str]) -> dict[str, str]:
    """Cache key -> parsed judgement (JSON text) of the latest successful call with that key."""
    out: dict[str, str] = {}
    for chunk, marks in in_chunks(list(dict.fromkeys(keys))):
        rows = db.execute(
            f"SELECT cache_key, parsed FROM judge_calls WHERE parsed IS NOT NULL AND cache_key IN ({marks})"
            " ORDER BY id", chunk)
        out.update(dict(rows))
    return out


def create_judge_run(db: sqlite_utils.Database, *, rater_id: int, taxonomy_id: int, model: str, prompt_path: str,
                     prompt_version: str, params: dict, selection: str, status: str = "planning") -> int:
    stamp = now()
    with write(db):
        return inserted_id(db.execute(
            "INSERT INTO judge_runs (rater_id, taxonomy_id, model, prompt_path, prompt_version, params, selection,"
            " status, started_at, updated_at, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [rater_id, taxonomy_id, model, prompt_path, prompt_version, json.dumps(params, sort_keys=True),
             selection, status, stamp, stamp, os.getpid()],
        ))


def start_judge_run(db: sqlite_utils.Database, run_id: int, *, total: int, cached: int) -> None:
    """The plan is made: record its size, how many results came from the cache, and the process running it
    (a batch run resumed by another process is that process's now)."""
    with write(db):
        db.execute("UPDATE judge_runs SET status = 'running', total = ?, cached = ?, updated_at = ?, pid = ?"
                   " WHERE id = ?", [total, cached, now(), os.getpid(), run_id])


def finish_judge_run(db: sqlite_utils.Database, run_id: int, status: str, *, error: str | None = None) -> None:
    stamp = now()
    with write(db):
        db.execute("UPDATE judge_runs SET status = ?, error = ?, finished_at = ?, updated_at = ? WHERE id = ?",
                   [status, error, stamp, stamp, run_id])


@dataclass
class JudgeCallWrite:
    """One segment-sample's outcome: a success has `parsed`, a failure `error` (with the raw answer)."""

    run_id: int
    segment_id: int
    sample: int
    cache_key: str
    request: str
    raw_response: str | None = None
    parsed: str | None = None
    error: str | None = None
    attempts: int = 1
    attempt_errors: list[str] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None
    latency_ms: float | None = None
    truncated: bool = False
    served_model: str | None = None  # the response's `model` field: which model answered (a proxy may fall back)


def record_judge_call(db: sqlite_utils.Database, call: JudgeCallWrite, labels: LabelWrite | None = None) -> int:
    """Store a call and (on success) its labels in one transaction; return the call id."""
    stamp = now()
    with write(db):
        call_id = inserted_id(db.execute(
            "INSERT INTO judge_calls (run_id, segment_id, sample, cache_key, request, raw_response, parsed, error,"
            " attempts, attempt_errors, prompt_tokens, completion_tokens, cost, latency_ms, truncated, served_model,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [call.run_id, call.segment_id, call.sample, call.cache_key, call.request, call.raw_response,
             call.parsed, call.error, call.attempts, json.dumps(call.attempt_errors), call.prompt_tokens,
             call.completion_tokens, call.cost, call.latency_ms, int(call.truncated), call.served_model, stamp],
        ))
        if labels is not None:
            write_labels(db, labels)
    return call_id


_RUN_COLUMNS = ("id", "rater", "model", "prompt_path", "prompt_version", "taxonomy", "params", "selection", "status",
                "total", "cached", "pid", "started_at", "updated_at", "finished_at", "error")
_RUN_SELECT = (
    "SELECT r.id, ra.name, r.model, r.prompt_path, r.prompt_version, t.name || '@' || t.version, r.params,"
    " r.selection, r.status, r.total, r.cached, r.pid, r.started_at, r.updated_at, r.finished_at, r.error"
    " FROM judge_runs r JOIN raters ra ON ra.id = r.rater_id JOIN taxonomies t ON t.id = r.taxonomy_id"
)
_CALL_TOTALS = (
    "SELECT run_id, SUM(parsed IS NOT NULL), SUM(error IS NOT NULL), COUNT(DISTINCT CASE WHEN parsed IS NOT NULL"
    " THEN segment_id END), SUM(attempts), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
    " SUM(cost), COUNT(cost), SUM(truncated), MAX(created_at) FROM judge_calls"
)


def _run_dict(row: tuple, totals: tuple | None) -> dict:
    run = dict(zip(_RUN_COLUMNS, row))
    run["params"] = json.loads(run["params"])
    done, failed, segments, attempts, p_tok, c_tok, cost, n_cost, truncated, last = (totals or (None,) * 11)[1:]
    run["updated_at"] = max(filter(None, (run["updated_at"], last)), default=None)  # last call or state change
    run.update(done=done or 0, failed=failed or 0, segments_done=segments or 0, attempts=attempts or 0,
               prompt_tokens=p_tok or 0, completion_tokens=c_tok or 0,
               cost=cost if n_cost else None, truncated=truncated or 0)
    return run


def get_judge_run(db: sqlite_utils.Database, run_id: int) -> dict | None:
    """A run with its call totals (done, failed, tokens, cost), or None."""
    row = db.execute(_RUN_SELECT + " WHERE r.id = ?", [run_id]).fetchone()
    if row is None:
        return None
    totals = db.execute(_CALL_TOTALS + " WHERE run_id = ?", [run_id]).fetchone()
    return _run_dict(row, totals)


def list_judge_runs(db: sqlite_utils.Database) -> list[dict]:
    """Every run, newest first, with its call totals."""
    totals = {r[0]: r for r in db.execute(_CALL_TOTALS + " GROUP BY run_id")}
    return [_run_dict(row, totals.get(row[0])) for row in db.execute(_RUN_SELECT + " ORDER BY r.id DESC")]


def judge_run_latencies(db: sqlite_utils.Database, run_id: int) -> list[float]:
    """Latency (ms) of every successful call of a run."""
    rows = db.execute("SELECT latency_ms FROM judge_calls WHERE run_id = ? AND parsed IS NOT NULL"
                      " AND latency_ms IS NOT NULL ORDER BY latency_ms", [run_id])
    return [r[0] for r in rows]


def judge_run_served_models(db: sqlite_utils.Database, run_id: int) -> dict[str, int]:
    """The models that answered a run's calls (the response's `model` field) -> calls each, most first."""
    rows = db.execute("SELECT served_model, COUNT(*) AS n FROM judge_calls WHERE run_id = ? AND served_model IS NOT"
                      " NULL GROUP BY served_model ORDER BY n DESC, served_model", [run_id])
    return dict(rows.fetchall())


def rater_served_models(db: sqlite_utils.Database, rater: str) -> dict[str, int]:
    """The models that answered the successful calls of every run of a judge rater -> calls each, most first."""
    rows = db.execute(
        "SELECT c.served_model, COUNT(*) AS n FROM judge_calls c JOIN judge_runs r ON r.id = c.run_id"
        " JOIN raters ra ON ra.id = r.rater_id WHERE ra.name = ? AND c.parsed IS NOT NULL"
        " AND c.served_model IS NOT NULL GROUP BY c.served_model ORDER BY n DESC, c.served_model", [rater])
    return dict(rows.fetchall())


def judge_run_errors(db: sqlite_utils.Database, run_id: int, *, limit: int = 20) -> list[dict]:
    """The failed calls of a run (segment, sample, error), first ones first."""
    rows = db.execute("SELECT segment_id, sample, error, attempts FROM judge_calls WHERE run_id = ?"
                      " AND error IS NOT NULL ORDER BY id LIMIT ?", [run_id, limit])
    return [{"segment_id": r[0], "sample": r[1], "error": r[2], "attempts": r[3]} for r in rows]


def judge_has_samples(db: sqlite_utils.Database, rater_id: int, taxonomy_id: int) -> bool:
    """Whether the rater was asked more than once for some segment (`--samples K`): one indexed probe,
    so a report need not read every label of every judge to find out."""
    return db.execute("SELECT 1 FROM labels WHERE taxonomy_id = ? AND rater_id = ? AND sample > 0 LIMIT 1",
                      [taxonomy_id, rater_id]).fetchone() is not None


def judge_sample_labels(db: sqlite_utils.Database, rater_id: int,
                        taxonomy_id: int) -> dict[int, dict[int, dict[str, int]]]:
    """A rater's labels by segment, then sample, then mode code: {segment: {sample: {code: 0/1}}}."""
    rows = db.execute(
        "SELECT l.segment_id, l.sample, m.code, l.value FROM labels l JOIN modes m ON m.id = l.mode_id"
        " WHERE l.rater_id = ? AND l.taxonomy_id = ? ORDER BY l.segment_id, l.sample, m.position",
        [rater_id, taxonomy_id])
    out: dict[int, dict[int, dict[str, int]]] = {}
    for segment_id, sample, code, value in rows:
        out.setdefault(segment_id, {}).setdefault(sample, {})[code] = value
    return out


def save_prompt(db: sqlite_utils.Database, *, version: str, name: str, path: str, text: str) -> None:
    """Keep the text of a prompt version (first writer wins: the version is a hash of the text)."""
    with write(db):
        db.execute("INSERT OR IGNORE INTO prompts (version, name, path, text, created_at) VALUES (?, ?, ?, ?, ?)",
                   [version, name, path, text, now()])


def get_prompt(db: sqlite_utils.Database, version: str) -> dict | None:
    row = db.execute("SELECT version, name, path, text, created_at FROM prompts WHERE version = ?",
                     [version]).fetchone()
    return dict(zip(("version", "name", "path", "text", "created_at"), row)) if row else None


def judge_evidence(db: sqlite_utils.Database, rater: str, mode_id: int) -> dict[int, str]:
    """segment id -> the evidence a judge quoted for one mode (first sample)."""
    rows = db.execute(
        "SELECT l.segment_id, l.evidence FROM labels l JOIN raters r ON r.id = l.rater_id"
        " WHERE r.name = ? AND l.mode_id = ? AND l.sample = 0", [rater, mode_id]).fetchall()
    return {s: e for s, e in rows}

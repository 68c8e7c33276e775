"""Localisation labels: which agent made the decisive error, at which turn, per (trace, rater).

A rater's answer for a trace is written whole (all its failures, or "no decisive error") and replaces
the previous one; "not answered" is the absence of an answer row, never an empty answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from annotator.store.db import now, write

STATUSES = ("localised", "no_error")
PROVENANCES = ("imported", "adjudicated")


@dataclass(frozen=True)
class Failure:
    """One failure of an answer. ``step`` is the turn's index (segment idx under the 'turn' scheme)."""

    step: int
    agent: str
    mode: str | None = None
    note: str | None = None
    is_root_cause: bool = False


@dataclass(frozen=True)
class Answer:
    """A rater's localisation of one trace: failures (one root cause), or none for "no decisive error"."""

    trace_id: int
    rater: str
    rater_kind: str
    status: str  # localised | no_error
    failures: tuple[Failure, ...]
    note: str | None = None
    provenance: str | None = None  # gold answers: imported | adjudicated
    source: str | None = None  # gold answers: the rater they came from

    @property
    def root_cause(self) -> Failure | None:
        return next((f for f in self.failures if f.is_root_cause), None)


def write_answer(db: sqlite_utils.Database, trace_id: int, rater_id: int, failures: Iterable[Failure], *,
                 note: str | None = None, provenance: str | None = None, source: str | None = None) -> bool:
    """Replace the rater's answer for the trace; no failures means "no decisive error".

    Returns whether anything changed (writing the same answer again is a no-op, so imports stay idempotent).
    The caller checks the failures (one root cause, steps in range); the schema checks the rest.
    """
    failures = tuple(failures)
    status = "localised" if failures else "no_error"
    with write(db):
        current = _stored(db, trace_id, rater_id)
        wanted = (status, note, provenance, source, _rows(failures))
        if current == wanted:
            return False
        stamp = now()
        db.execute("DELETE FROM localisations WHERE trace_id = ? AND rater_id = ?", [trace_id, rater_id])
        db.execute(
            "INSERT INTO localisation_answers (trace_id, rater_id, status, note, provenance, source, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trace_id, rater_id) DO UPDATE SET"
            " status = excluded.status, note = excluded.note, provenance = excluded.provenance,"
            " source = excluded.source, updated_at = excluded.updated_at",
            [trace_id, rater_id, status, note, provenance, source, stamp, stamp])
        db.conn.executemany(
            "INSERT INTO localisations (trace_id, rater_id, position, step, agent, mode, note, is_root_cause)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(trace_id, rater_id, i, *row) for i, row in enumerate(_rows(failures))])
    return True


def _rows(failures: tuple[Failure, ...]) -> tuple[tuple, ...]:
    return tuple((f.step, f.agent, f.mode, f.note, int(f.is_root_cause)) for f in failures)


def _stored(db: sqlite_utils.Database, trace_id: int, rater_id: int) -> tuple | None:
    head = db.execute("SELECT status, note, provenance, source FROM localisation_answers"
                      " WHERE trace_id = ? AND rater_id = ?", [trace_id, rater_id]).fetchone()
    if head is None:
        return None
    rows = db.execute("SELECT step, agent, mode, note, is_root_cause FROM localisations"
                      " WHERE trace_id = ? AND rater_id = ? ORDER BY position", [trace_id, rater_id]).fetchall()
    return (*head, tuple(tuple(r) for r in rows))


def delete_answer(db: sqlite_utils.Database, trace_id: int, rater_id: int) -> None:
    with write(db):
        db.execute("DELETE FROM localisations WHERE trace_id = ? AND rater_id = ?", [trace_id, rater_id])
        db.execute("DELETE FROM localisation_answers WHERE trace_id = ? AND rater_id = ?", [trace_id, rater_id])


def load_answers(db: sqlite_utils.Database, *, raters: list[str] | None = None,
                 trace_ids: Iterable[int] | None = None) -> list[Answer]:
    """Every stored answer (optionally of some raters, on some traces), ordered by trace and rater id."""
    where: list[str] = []
    args: list[object] = []
    if raters is not None:
        where.append(f"r.name IN ({', '.join('?' * len(raters))})")
        args += list(raters)
    if trace_ids is not None:
        wanted = sorted(set(trace_ids))
        where.append(f"a.trace_id IN ({', '.join('?' * len(wanted))})")
        args += wanted
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    rows = db.execute("SELECT a.trace_id, r.id, r.name, r.kind, a.status, a.note, a.provenance, a.source"
                      " FROM localisation_answers a JOIN raters r ON r.id = a.rater_id" + clause
                      + " ORDER BY a.trace_id, r.id", args).fetchall()
    failures = _failures_by_answer(db, clause, args)
    return [Answer(trace_id, name, kind, status, tuple(failures.get((trace_id, rater_id), ())), note, provenance,
                   source) for trace_id, rater_id, name, kind, status, note, provenance, source in rows]


def _failures_by_answer(db: sqlite_utils.Database, clause: str, args: list) -> dict[tuple[int, int], list[Failure]]:
    out: dict[tuple[int, int], list[Failure]] = {}
    for trace_id, rater_id, step, agent, mode, note, root in db.execute(
            "SELECT l.trace_id, l.rater_id, l.step, l.agent, l.mode, l.note, l.is_root_cause FROM localisations l"
            " JOIN localisation_answers a ON a.trace_id = l.trace_id AND a.rater_id = l.rater_id"
            " JOIN raters r ON r.id = l.rater_id" + clause + " ORDER BY l.trace_id, l.rater_id, l.position", args):
        out.setdefault((trace_id, rater_id), []).append(Failure(step, agent, mode, note, bool(root)))
    return out


def turn_speakers(db: sqlite_utils.Database, trace_id: int) -> list[str | None]:
    """The speaker of each turn of the trace (index = step), from its 'turn' segments; [] if it has none."""
    rows = db.execute("SELECT speaker FROM segments WHERE trace_id = ? AND scheme = 'turn' ORDER BY idx",
                      [trace_id]).fetchall()
    return [r[0] for r in rows]


def localised_trace_ids(db: sqlite_utils.Database, rater_id: int) -> set[int]:
    return {r[0] for r in db.execute("SELECT trace_id FROM localisation_answers WHERE rater_id = ?", [rater_id])}


def traces_with_tags(db: sqlite_utils.Database, tags: dict[str, str]) -> set[int]:
    """Ids of the traces that carry every tag K=V given."""
    sql = "SELECT id FROM traces"
    where: list[str] = []
    args: list[object] = []
    for key, value in tags.items():
        where.append("id IN (SELECT trace_id FROM trace_tags WHERE key = ? AND value = ?)")
        args += [key, value]
    if where:
        sql += " WHERE " + " AND ".join(where)
    return {r[0] for r in db.execute(sql, args)}


@dataclass(frozen=True)
class LocalisationCall:
    rater_id: int
    trace_id: int
    cache_key: str
    request: str | None
    raw_response: str | None
    parsed: str | None  # JSON {"step", "agent", "reason"} when the answer was valid
    error: str | None
    attempts: int
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    latency_ms: float | None


def record_localisation_call(db: sqlite_utils.Database, call: LocalisationCall) -> None:
    with write(db):
        db.execute(
            "INSERT INTO localisation_calls (rater_id, trace_id, cache_key, request, raw_response, parsed, error,"
            " attempts, prompt_tokens, completion_tokens, cost, latency_ms, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [call.rater_id, call.trace_id, call.cache_key, call.request, call.raw_response, call.parsed, call.error,
             call.attempts, call.prompt_tokens, call.completion_tokens, call.cost, call.latency_ms, now()])


def cached_localisation(db: sqlite_utils.Database, cache_key: str) -> dict | None:
    """The parsed answer of the latest successful call with this key, else None (never called, or failed)."""
    row = db.execute("SELECT parsed FROM localisation_calls WHERE cache_key = ? AND parsed IS NOT NULL"
                     " ORDER BY id DESC LIMIT 1", [cache_key]).fetchone()
    return json.loads(row[0]) if row else None


def localisation_call_errors(db: sqlite_utils.Database, rater_id: int) -> list[tuple[int, str]]:
    """(trace id, error) of the rater's calls that failed and were not answered since."""
    rows = db.execute(
        "SELECT c.trace_id, c.error FROM localisation_calls c WHERE c.rater_id = ? AND c.parsed IS NULL"
        " AND c.id = (SELECT MAX(id) FROM localisation_calls d WHERE d.rater_id = c.rater_id"
        " AND d.trace_id = c.trace_id) ORDER BY c.trace_id", [rater_id]).fetchall()
    return [(r[0], r[1]) for r in rows]


def traces_with_turns(db: sqlite_utils.Database) -> list[int]:
    """Ids of the traces that have 'turn' segments (whose steps can be localised), in id order."""
    return [r[0] for r in db.execute("SELECT DISTINCT trace_id FROM segments WHERE scheme = 'turn' ORDER BY trace_id")]

"""Localisation labels: where the decisive error of a trace is (turn and agent), or that there is none.

Pages and commands call these; the acting user's role is checked here. A person writes only her own
answer; gold answers come from a reviewer (adjudicated) or from promoting a rater (imported).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlite_utils

from annotator import store
from annotator.core.errors import NotFoundError, RefusedError
from annotator.store.users import User

GOLD = "gold"
_WRITERS = ("annotator", "reviewer", "admin")
_GOLD_ROLES = ("reviewer", "admin")


class LocaliseError(RefusedError):
    """A localisation the service refuses; the message says what to change."""


@dataclass(frozen=True)
class PromoteResult:
    rater: str
    written: int  # answers added or changed under gold
    kept_adjudicated: int  # traces whose adjudicated gold answer was left alone


def check_failures(speakers: list[str | None], failures: list[store.Failure]) -> list[store.Failure]:
    """Failures as they will be stored: steps are turns of the trace, agents speak in it, one root cause.

    A single failure is its own root cause; several need exactly one marked.
    """
    if not speakers:
        raise LocaliseError("the trace has no turns (import it with --segment turn to localise its steps)")
    spoken = {s for s in speakers if s}
    for failure in failures:
        if not 0 <= failure.step < len(speakers):
            raise LocaliseError(f"step {failure.step} is not a turn of the trace (0 to {len(speakers) - 1})")
        if not failure.agent.strip():
            raise LocaliseError(f"step {failure.step}: say which agent made the error")
        if spoken and failure.agent not in spoken:
            raise LocaliseError(f"step {failure.step}: agent {failure.agent!r} never speaks in the trace")
    if len(failures) == 1:
        return [replace(failures[0], is_root_cause=True)]
    roots = sum(f.is_root_cause for f in failures)
    if failures and roots != 1:
        raise LocaliseError(f"mark exactly one failure as the root cause ({roots} marked)")
    return list(failures)


def save_answer(db: sqlite_utils.Database, user: User, trace_id: int, failures: list[store.Failure], *,
                note: str | None = None) -> bool:
    """Her answer for the trace (no failures: "no decisive error"), replacing her previous one."""
    if user.role not in _WRITERS or not user.active:
        raise LocaliseError(f"user {user.name!r} may not label")
    checked = check_failures(store.turn_speakers(db, _trace(db, trace_id)), failures)
    return store.write_answer(db, trace_id, user.rater_id, checked, note=note)


def clear_answer(db: sqlite_utils.Database, user: User, trace_id: int) -> None:
    """Withdraw her answer: the trace is "not localised" by her again."""
    store.delete_answer(db, _trace(db, trace_id), user.rater_id)


def answer_of(db: sqlite_utils.Database, rater_id: int, trace_id: int) -> store.Answer | None:
    name = store.rater_name(db, rater_id)
    found = store.load_answers(db, raters=[name], trace_ids=[trace_id]) if name else []
    return found[0] if found else None


def adjudicate(db: sqlite_utils.Database, user: User, trace_id: int, failures: list[store.Failure], *,
               note: str | None = None) -> bool:
    """A reviewer's gold answer for the trace."""
    if user.role not in _GOLD_ROLES:
        raise LocaliseError(f"user {user.name!r} ({user.role}) may not set gold; a reviewer or admin may")
    checked = check_failures(store.turn_speakers(db, _trace(db, trace_id)), failures)
    gold_id = store.ensure_rater(db, GOLD, "gold")
    return store.write_answer(db, trace_id, gold_id, checked, note=note, provenance="adjudicated", source=user.name)


def promote_to_gold(db: sqlite_utils.Database, rater: str) -> PromoteResult:
    """Copy a rater's localisations into gold (provenance "imported", source the rater's name).

    Adjudicated gold answers are never overwritten. All or nothing.
    """
    source = store.get_rater(db, rater)
    if source is None:
        raise NotFoundError(f"no rater named {rater!r} (see 'annotator stats')")
    if source.kind == "gold":
        raise LocaliseError(f"{rater!r} is gold already")
    answers = store.load_answers(db, raters=[rater])
    if not answers:
        raise LocaliseError(f"rater {rater!r} has no localisations to promote")
    written = kept = 0
    with store.write(db):
        gold_id = store.ensure_rater(db, GOLD, "gold")
        adjudicated = {a.trace_id for a in store.load_answers(db, raters=[GOLD]) if a.provenance == "adjudicated"}
        for answer in answers:
            if answer.trace_id in adjudicated:
                kept += 1
                continue
            written += store.write_answer(db, answer.trace_id, gold_id, answer.failures, note=answer.note,
                                          provenance="imported", source=rater)
    return PromoteResult(rater, written, kept)


def _trace(db: sqlite_utils.Database, trace_id: int) -> int:
    if store.get_trace(db, trace_id) is None:
        raise NotFoundError(f"no trace with id {trace_id}")
    return trace_id

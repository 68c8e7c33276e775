"""Localisation beside the mode checklist: where is the decisive error of this trace (turn and agent)?

The turn being read is the step: a turn segment is its own step; on a whole-trace segment she picks the
turn. "Decisive error here" (key L) records it, "No decisive error" is an explicit answer, and several
failures are allowed with one marked as the root cause. Each click writes through the localise service
at once (the answer belongs to the trace, not to the segment's submission).
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from annotator import store
from annotator.app import state
from annotator.app.viewmodels.text import md_literal
from annotator.core.errors import UserError
from annotator.services import localise
from annotator.services.annotate import SegmentView
from annotator.store.users import User

NO_MODE = "(no mode)"


def _k(seg_id: int, name: str) -> str:
    return f"ann_{seg_id}_loc_{name}"


def _save(user: User, trace_id: int, failures: list[store.Failure], seg_id: int) -> None:
    """Write her answer; a refusal is shown on the next run (callbacks cannot draw)."""
    try:
        with state.open_db() as db:
            localise.save_answer(db, user, trace_id, failures)
    except UserError as exc:
        st.session_state[_k(seg_id, "error")] = str(exc)


def _mark(view: SegmentView, user: User, speakers: list[str | None], current: list[store.Failure]) -> None:
    seg_id = view.segment.id
    step = _current_step(view)
    mode = st.session_state.get(_k(seg_id, "mode"))
    failure = store.Failure(step, speakers[step] or "(unknown)", None if mode in (None, NO_MODE) else mode,
                            is_root_cause=not current)
    kept = [f for f in current if f.step != step]
    if failure.step in {f.step for f in current}:  # the same turn again: replaces it, keeps its root flag
        failure = replace(failure, is_root_cause=any(f.is_root_cause for f in current if f.step == step))
    failures = sorted(kept + [failure], key=lambda f: f.step)
    if not any(f.is_root_cause for f in failures):
        failures[0] = replace(failures[0], is_root_cause=True)
    _save(user, view.trace.id, failures, seg_id)


def _set_root(view: SegmentView, user: User, current: list[store.Failure], step: int) -> None:
    _save(user, view.trace.id, [replace(f, is_root_cause=f.step == step) for f in current], view.segment.id)


def _remove(view: SegmentView, user: User, current: list[store.Failure], step: int) -> None:
    rest = [f for f in current if f.step != step]
    if rest and not any(f.is_root_cause for f in rest):
        rest[0] = replace(rest[0], is_root_cause=True)
    if rest:
        _save(user, view.trace.id, rest, view.segment.id)
    else:
        with state.open_db() as db:
            localise.clear_answer(db, user, view.trace.id)


def _current_step(view: SegmentView) -> int:
    seg = view.segment
    if seg.scheme == "turn":
        return seg.idx
    return int(st.session_state.get(_k(seg.id, "step")) or 0)


def _show_answer(view: SegmentView, user: User, answer: store.Answer | None) -> None:
    if answer is None:
        st.caption("Not localised yet.")
        return
    if answer.status == "no_error":
        st.markdown(":green-badge[:material/check: No decisive error]")
        return
    failures = list(answer.failures)
    for failure in failures:
        label = f"step {failure.step} · {md_literal(failure.agent, limit=40)}"
        if failure.mode:
            label += f" · {md_literal(failure.mode, limit=20)}"
        left, mid, right = st.columns([5, 2, 1], vertical_alignment="center")
        left.markdown((":red-badge[root cause] " if failure.is_root_cause else "") + label)
        mid.button("Root cause", key=_k(view.segment.id, f"root_{failure.step}"), type="tertiary",
                   disabled=failure.is_root_cause, on_click=_set_root, args=(view, user, failures, failure.step))
        right.button("", key=_k(view.segment.id, f"del_{failure.step}"), icon=":material/close:", type="tertiary",
                     help="Remove this failure", on_click=_remove, args=(view, user, failures, failure.step))


def _speaker_text(speaker: str | None) -> str:
    return md_literal(speaker, limit=40) if speaker else "an unnamed speaker"


def show(view: SegmentView, user: User) -> None:
    """The localisation panel; nothing when the trace has no turns to point at."""
    seg = view.segment
    with state.open_db() as db:
        speakers = store.turn_speakers(db, view.trace.id)
        answer = localise.answer_of(db, user.rater_id, view.trace.id) if speakers else None
    if not speakers:
        return
    current = list(answer.failures) if answer else []
    with st.container(border=True, key=_k(seg.id, "panel")):
        st.markdown("**Decisive error** · which agent, at which turn?")
        error = st.session_state.pop(_k(seg.id, "error"), None)
        if error:
            st.error(md_literal(error))
        if seg.scheme != "turn":
            st.selectbox("Turn", range(len(speakers)), key=_k(seg.id, "step"),
                         format_func=lambda i: f"step {i} · {speakers[i] or 'no speaker'}")
        step = _current_step(view)
        codes = [NO_MODE, *view.taxonomy.taxonomy.codes]
        st.selectbox("Mode of the error (optional)", codes, key=_k(seg.id, "mode"))
        left, right = st.columns(2)
        left.button(f"Decisive error here (step {step})", key=_k(seg.id, "here"), icon=":material/my_location:",
                    width="stretch", on_click=_mark, args=(view, user, speakers, current),
                    help=f"Step {step}, said by {_speaker_text(speakers[step])} (key L)")  # tooltips are Markdown
        right.button("No decisive error", key=_k(seg.id, "none"), icon=":material/block:", width="stretch",
                     on_click=_save, args=(user, view.trace.id, [], seg.id),
                     help="An explicit answer: this trace has no decisive error.")
        _show_answer(view, user, answer)

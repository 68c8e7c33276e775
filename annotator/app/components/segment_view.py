"""The segment under annotation: trace metadata, neighbouring segments, and the turns as plain text.

Untrusted text only ever reaches st.text (no Markdown, no HTML, no maths). Long turns and long
segments are folded so a 2 MB line cannot stall the page; "show more" reveals ten times as much.
"""

from __future__ import annotations

import streamlit as st

from annotator.app.viewmodels.text import (
    TURN_PREVIEW_CHARS,
    TURNS_PREVIEW,
    count_label,
    fold,
    md_literal,
    next_limit,
    plain,
    plain_body,
    turns_of,
)
from annotator.services.annotate import SegmentView

SEGMENT_PANE_PX = 640


def _more_button(state_key: str, hidden: int, what: str = "characters") -> None:
    """A "show more" button that raises the limit stored under `state_key`."""
    def grow() -> None:
        st.session_state[state_key] = next_limit(st.session_state[state_key])

    st.button(f"Show more ({hidden:,} more {what})", key=f"{state_key}_btn", on_click=grow, type="tertiary",
              icon=":material/unfold_more:")


def show_text(text: str, state_key: str, *, limit: int = TURN_PREVIEW_CHARS) -> None:
    """Plain text with line breaks kept, folded at `limit` characters with a "show more" button."""
    st.session_state.setdefault(state_key, limit)
    shown, hidden = fold(text, st.session_state[state_key])
    st.text(plain_body(shown) if shown.strip() else "(empty)", width="stretch")
    if hidden:
        _more_button(state_key, hidden)


def _speaker_badge(speaker: str | None) -> None:
    if speaker:
        # st.markdown, not st.badge: st.badge escapes square brackets itself, and shows md_literal's escapes
        st.markdown(f":blue-badge[:material/person: {md_literal(speaker, limit=40)}]")
    else:
        st.badge("no speaker", color="gray")


def show_turns(turns: list[tuple[str | None, str]], key: str) -> None:
    """Each turn in a bordered box: its speaker as a small badge, its text as plain text."""
    turns_key = f"{key}_turns"
    st.session_state.setdefault(turns_key, TURNS_PREVIEW)
    for i, (speaker, body) in enumerate(turns[: st.session_state[turns_key]]):
        with st.container(border=True, key=f"{key}_turn_{i}"):
            _speaker_badge(speaker)
            show_text(body, f"{key}_t{i}")
    hidden = len(turns) - st.session_state[turns_key]
    if hidden > 0:
        _more_button(turns_key, hidden, "turns")


@st.cache_data(max_entries=64, show_spinner=False)
def _turns(content_hash: str, _text: str, kind: str, speaker: str | None) -> list[tuple[str | None, str]]:
    """Turns of a segment, split once per segment body (20 ms for a 265,000-character trace)."""
    return turns_of(_text, kind=kind, speaker=speaker)


def metadata_line(trace, seg) -> str:
    """Trace id, framework, benchmark, model, tags and the segment's place, on one plain-text line."""
    parts = [f"trace {plain(trace.external_id)}"]
    parts += [plain(value) for value in (trace.framework, trace.benchmark, trace.llm) if value]
    parts += [f"{plain(k)}={plain(v)}" for k, v in trace.tags.items()]
    parts.append(f"{trace.n_chars:,} characters")
    where = "whole trace" if seg.kind == "trace" else f"{seg.kind} {seg.idx} ({seg.scheme})"
    parts.append(f"segment: {where}, {len(seg.text):,} characters")
    return "  ·  ".join(parts)


def _neighbour(label: str, segment, key: str) -> None:
    speaker = f" · {md_literal(segment.speaker, limit=40)}" if segment.speaker else ""
    with st.expander(f"{label} · {segment.kind} {segment.idx}{speaker}", expanded=False, icon=":material/unfold_less:"):
        show_text(segment.text, key)


def show_body(seg, key: str, *, height: int = SEGMENT_PANE_PX) -> None:
    """The segment's turns in a pane that scrolls on its own (so the panel beside it stays in view)."""
    turns = _turns(seg.content_hash, seg.text, seg.kind, seg.speaker)
    st.caption(f"This segment: {count_label(len(turns), 'turn')}")
    with st.container(height=height, key=f"{key}_pane"):
        show_turns(turns, key)


def show(view: SegmentView) -> None:
    seg = view.segment
    key = f"seg_{seg.id}"
    st.text(metadata_line(view.trace, seg), width="stretch")
    if view.before is not None:
        _neighbour("Previous segment", view.before, f"{key}_before")
    show_body(seg, key)
    if view.after is not None:
        _neighbour("Next segment", view.after, f"{key}_after")

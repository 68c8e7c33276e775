"""The segment under annotation: trace metadata, neighbouring segments, and the turns as plain text.

Untrusted text only ever reaches st.text and st.code (no Markdown, no HTML, no maths): code, JSON, tool
calls, log lines and Markdown fences in monospace (st.code), the prose around them as st.text. Long turns and long
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
    text_blocks,
    turns_of,
)
from annotator.services.annotate import SegmentView
from annotator.services.neighbours import Neighbours

SEGMENT_PANE_PX = 640  # the Review page's pane; the Annotate page sizes its panes to the window
READING_PANE = "annotate_reading"  # container keys: Streamlit gives each the class st-key-<key>
CHECKLIST_PANE = "annotate_checklist"
CONTEXT_TOGGLE = "annotate_context"  # show the neighbouring turns (key T); kept from one segment to the next
PANE_TOP_REM = 15  # what lies above the panes: the app's top bar and the Annotate header (about 225 px)

# Static CSS (no data in it): the reading pane and the checklist each fill the window below the header and
# scroll on their own, so the checklist stays in view however long the trace is, and a short turn leaves
# no empty box.
# The selector doubles the class: Streamlit's own (emotion) rule for the block has the same specificity and
# comes later, so a single class loses to it.
_PANE_CSS = f"""<style>
.st-key-{READING_PANE}.st-key-{READING_PANE}, .st-key-{CHECKLIST_PANE}.st-key-{CHECKLIST_PANE} {{
  max-height: calc(100vh - {PANE_TOP_REM}rem); overflow-y: auto; overflow-x: hidden; padding-right: .5rem;
}}
</style>"""


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
    if not shown.strip():
        st.text("(empty)")
    for kind, body, language in text_blocks(shown):
        if kind == "code":  # st.code shows text in a <pre>: monospace, highlighted at most, never interpreted
            st.code(plain_body(body), language=language, wrap_lines=True, width="stretch")
        else:
            st.text(plain_body(body), width="stretch")
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
    where = "whole trace" if seg.kind == "trace" else f"{plain(seg.scheme)} scheme"  # its place: place_line
    parts.append(f"segment: {where}, {len(seg.text):,} characters")
    return "  ·  ".join(parts)


def place_line(seg, neighbours: Neighbours) -> str:
    """Markdown: "**turn 7 of 31** · Planner → Coder" (names as literal text)."""
    where = "whole trace" if seg.kind == "trace" else f"{seg.kind} {neighbours.position} of {neighbours.total}"
    who = md_literal(seg.speaker, limit=60) if seg.speaker else "no speaker"
    if seg.recipient:
        who += f" → {md_literal(seg.recipient, limit=60)}"
    return f"**{where}** · {who}"


def _neighbour(label: str, segment, neighbours: Neighbours, key: str) -> None:
    """A neighbouring segment, in a muted box above or below the one being labelled."""
    with st.container(border=True, key=f"{key}_box"):
        st.caption(f"{label}: {segment.kind} {segment.idx + 1} of {neighbours.total} · "
                   + (md_literal(segment.speaker, limit=60) if segment.speaker else "no speaker")
                   + (f" → {md_literal(segment.recipient, limit=60)}" if segment.recipient else ""))
        show_text(segment.text, key)


def show_context_toggle(neighbours: Neighbours, toggle_key: str) -> bool:
    """The switch that shows the neighbouring segments (key T); its state outlives the segment."""
    if neighbours.before is None and neighbours.after is None:
        return False
    return st.toggle("Neighbouring turns (T)", key=toggle_key,
                     help="The segments just before and after this one in the trace, for context.")


def show_with_neighbours(seg, neighbours: Neighbours, key: str, *, toggle_key: str,
                         height: int | None = SEGMENT_PANE_PX) -> None:
    """The segment's place in its trace, the context switch, and the segment between its neighbours."""
    place, switch = st.columns([3, 2], vertical_alignment="center")
    place.markdown(place_line(seg, neighbours))
    with switch:
        open_ = show_context_toggle(neighbours, toggle_key)
    if open_ and neighbours.before is not None:
        _neighbour("Before", neighbours.before, neighbours, f"{key}_before")
    show_body(seg, key, height=height)
    if open_ and neighbours.after is not None:
        _neighbour("After", neighbours.after, neighbours, f"{key}_after")


def fit_panes_to_window() -> None:
    """Size the Annotate page's reading pane and checklist to the window (see _PANE_CSS)."""
    st.html(_PANE_CSS)


def show_body(seg, key: str, *, height: int | None = SEGMENT_PANE_PX) -> None:
    """The segment's turns; in a pane of `height` pixels that scrolls on its own, or (None) as they come,
    inside a pane the page sizes itself."""
    turns = _turns(seg.content_hash, seg.text, seg.kind, seg.speaker)
    st.caption(f"This segment: {count_label(len(turns), 'turn')}")
    with st.container(height=height or "content", key=f"{key}_pane"):
        show_turns(turns, key)


def show(view: SegmentView) -> None:
    seg = view.segment
    key = f"seg_{seg.id}"
    st.text(metadata_line(view.trace, seg), width="stretch")
    show_with_neighbours(seg, view.neighbours, key, toggle_key=CONTEXT_TOGGLE, height=None)

"""The Annotate header: her workload (labelled, skipped, to go), the segment's place in her list, and
previous / next. Sign-out is in the sidebar, with her name (auth.show_account), on every page."""

from __future__ import annotations

import streamlit as st

from annotator.app import state
from annotator.services.annotate import SegmentView, Workload

STATUS_BADGES = {
    "pending": ("to label", "blue"),
    "done": ("labelled", "green"),
    "unsure": ("labelled, unsure", "orange"),
    "skipped": ("skipped", "gray"),
}


def _go(segment_id: int | None) -> None:
    if segment_id is None:
        st.session_state.pop(state.CURRENT_SEGMENT, None)
    else:
        st.session_state[state.CURRENT_SEGMENT] = segment_id


def workload_line(work: Workload) -> str:
    """"3 labelled (1 unsure) · 1 skipped · 8 to go (1 in your list, up to 7 more from the queue)"."""
    unsure = f" ({work.unsure} unsure)" if work.unsure else ""
    line = f"{work.labelled} labelled{unsure} · {work.skipped} skipped · {work.remaining} to go"
    if work.in_queue:
        line += f" ({work.in_list} in your list, up to {work.in_queue} more from the queue)"
    return line


def show_progress(work: Workload) -> None:
    fraction = work.labelled / work.total if work.total else 0.0
    st.progress(fraction, text=workload_line(work))


def show(view: SegmentView) -> None:
    place, work = view.place, view.workload
    title, nav = st.columns([5, 4], vertical_alignment="center")
    with title:
        label, color = STATUS_BADGES[view.status]
        # her place in her list, out of everything she will see if nobody else takes the queued segments
        st.markdown(f"### Segment {place.position} of {view.progress.assigned + work.in_queue} &nbsp; "
                    f":{color}-badge[{label}]")
        show_progress(work)
    with nav:
        prev_col, next_col, todo_col = st.columns(3)
        prev_col.button("Previous", key="nav_prev", icon=":material/arrow_back:", width="stretch",
                        on_click=_go, args=(place.previous_id,), disabled=place.previous_id is None,
                        help="Previous segment in your list (K or ←)")
        next_col.button("Next", key="nav_next", icon=":material/arrow_forward:", width="stretch",
                        on_click=_go, args=(place.next_id,), disabled=place.next_id is None,
                        help="Next segment in your list (J or →)")
        todo_col.button("To do", key="nav_todo", icon=":material/pending_actions:", width="stretch",
                        on_click=_go, args=(None,), disabled=view.status == "pending",
                        help="Back to your next unlabelled segment")

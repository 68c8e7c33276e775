"""The Annotate header: progress (done / assigned), the segment's place in her list, previous / next,
and sign-out."""

from __future__ import annotations

import streamlit as st

from annotator.app import auth, state
from annotator.services.annotate import SegmentView

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


def show_progress(done: int, assigned: int) -> None:
    fraction = done / assigned if assigned else 0.0
    st.progress(fraction, text=f"{done} / {assigned} done")


def show(view: SegmentView) -> None:
    place, progress = view.place, view.progress
    title, nav, account = st.columns([5, 4, 1.2], vertical_alignment="center")
    with title:
        label, color = STATUS_BADGES[view.status]
        st.markdown(f"### Segment {place.position} of {progress.assigned} &nbsp; :{color}-badge[{label}]")
        show_progress(progress.done, progress.assigned)
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
    with account:
        if st.button("Sign out", key="header_sign_out", icon=":material/logout:"):
            auth.sign_out(message="Signed out.")
            st.rerun()

"""Review (reviewer, admin): the segments where raters disagree, most contested first; every rater's
labels side by side; gold decided per mode and saved with the reviewer's name (see components/)."""

import streamlit as st

from annotator import store
from annotator.app import auth, state
from annotator.app.components import review_panels as panels
from annotator.app.components import segment_view
from annotator.app.viewmodels.text import md_literal
from annotator.services import annotate, neighbours, review

REVIEW_CONTEXT_TOGGLE = "review_context"  # show the neighbouring turns (key T)

user = auth.require("reviewer")
st.title("Review")
if flash := st.session_state.pop("rev_flash", None):
    st.toast(flash, icon=":material/check_circle:")

with state.open_db() as db:
    settings = store.get_settings(db)
    if not settings.reveal:
        panels.explain_reveal(user)
        st.stop()
    stored = annotate.labelling_taxonomy(db, settings)
    everything = review.contested_segments(db, stored)
    filter_col, judges_col = st.columns([3, 2], vertical_alignment="bottom")
    with filter_col:
        code = panels.mode_filter(stored)
    include_judges = judges_col.toggle("Show the judges' labels too", key="rev_judges",
                                       help="For context only: gold is decided from people's labels.")
    rows = review.with_mode(everything, code)
    current = panels.current_segment(rows)
    names = "names shown" if settings.reveal_names == "names" else "names hidden"
    st.caption(f"{md_literal(stored.taxonomy.ref)} · disagreement among people · {names}")
    panels.show_queue(rows, current)
    view = review.load_review(db, current, stored, names=settings.reveal_names,
                              include_judges=include_judges) if current is not None else None
    context = neighbours.around(db, view.segment) if view is not None else None

if current is None:
    st.success("No contested segments: the raters agree everywhere (or nobody has labelled yet)."
               if not everything else "No contested segment disputes this mode.")
elif view is None:
    st.error(f"There is no segment {current}.")
else:
    text_col, gold_col = st.columns([3, 5], gap="medium")  # the labels table needs the room
    with text_col:
        st.text(segment_view.metadata_line(view.trace, view.segment), width="stretch")
        segment_view.show_with_neighbours(view.segment, context, f"rev_seg_{view.segment.id}",
                                          toggle_key=REVIEW_CONTEXT_TOGGLE)
    with gold_col:
        panels.show_labels(view)
        panels.show_gold_form(view, user, review.next_open(rows, after=current))
panels.show_build_gold(stored)

"""Annotate: the next segment of her list beside the mode checklist (see components/)."""

import streamlit as st

from annotator.app import auth, keys, state
from annotator.app.components import header, label_panel, localise_panel, segment_view
from annotator.services import annotate

user = auth.require("annotator")
with state.open_db() as db:
    view = annotate.load_view(db, user, st.session_state.get(state.CURRENT_SEGMENT))
    in_pool = view is not None or annotate.in_pool(db, user)

flash = st.session_state.pop("ann_flash", None)
if flash:
    st.toast(flash, icon=":material/check_circle:")

with st.sidebar, st.expander("Keyboard shortcuts", expanded=True, icon=":material/keyboard:"):
    keys.show_cheat_sheet()

if view is None:
    st.session_state.pop(state.CURRENT_SEGMENT, None)
    st.title("Annotate")
    if in_pool:
        st.success("Nothing left to label for you right now. Thank you!")
    else:
        st.info("You are not in the annotator pool. Ask your lead to add you on the Data page.")
    st.stop()

st.session_state[state.CURRENT_SEGMENT] = view.segment.id
header.show(view)
segment_view.fit_panes_to_window()
left, right = st.columns([3, 2], gap="large")
with left, st.container(key=segment_view.READING_PANE):
    segment_view.show(view)
    localise_panel.show(view, user)  # under the turn being read: the decisive error is set from it
with right, st.container(key=segment_view.CHECKLIST_PANE):
    label_panel.show(view, user)

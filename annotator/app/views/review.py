"""Review (adjudication): placeholder until the review issue lands."""

import streamlit as st

from annotator.app import auth

auth.require("reviewer")
st.title("Review")
st.info("Adjudication of disagreements into gold labels arrives with a later issue. "
        "Until then, `annotator gold build` builds gold labels by majority or unanimity.",
        icon=":material/construction:")

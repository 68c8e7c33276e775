"""Judge lab: placeholder until the judge-lab issue lands."""

import streamlit as st

from annotator.app import auth

auth.require("admin")
st.title("Judge lab")
st.info("Running and comparing LLM-judge prompt versions from the browser arrives with a later issue. "
        "Until then, use `annotator judge run` and `annotator judge compare`.", icon=":material/construction:")

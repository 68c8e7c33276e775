"""Streamlit entry point (placeholder until the web app lands): shows what the database holds."""

import streamlit as st

from annotator import store

st.set_page_config(page_title="annotator", layout="wide")
st.title("annotator")
st.caption("The annotation app is under construction; the database is ready.")
summary = store.database_stats(store.connect())
st.write(f"{summary['traces']} traces, {summary['segments']} segments, {summary['labels']} labels")

"""Judge lab (admin): start an LLM-judge run and watch it, compare judges against gold mode by mode,
read a judge's errors on one mode, and diff two prompt versions (see components/judge_panels.py)."""

import streamlit as st

from annotator import judge
from annotator.app import auth, state
from annotator.app.components import judge_panels as panels
from annotator.services import annotate

auth.require("admin")
st.title("Judge lab")
with state.open_db() as db:
    taxonomy = annotate.labelling_taxonomy(db).taxonomy.ref
    runs = judge.list_runs(db)

runs_tab, compare_tab, diff_tab = st.tabs(["Runs", "Compare", "Prompt diff"])
with runs_tab:
    watched = panels.watched_run(runs)
    status = next((r["status"] for r in runs if r["run_id"] == watched), None)
    panels.show_progress(watched, active=status in ("planning", "running"))
    panels.show_runs(runs)
    panels.show_start(taxonomy)
with compare_tab, state.open_db() as db:
    panels.show_compare_form(db, taxonomy, runs)
    compared = panels.show_comparison()
    if compared and compared["raters"]:
        panels.show_errors(db, compared)
with diff_tab:
    panels.show_diff(runs)

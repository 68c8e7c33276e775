"""Data (admin): import uploads, assignment settings, and what the database holds."""

import streamlit as st

from annotator.app import auth, state
from annotator.app.components import data_panels, queue_strategy_panel

auth.require("admin")
st.title("Data")
with state.open_db() as db:
    snapshot = data_panels.load(db)
upload_tab, queue_tab, stats_tab, audit_tab = st.tabs(["Import", "Assignment", "Database", "Audit log"])
with upload_tab:
    data_panels.show_import()
with queue_tab:
    data_panels.show_settings(snapshot)
    queue_strategy_panel.show()
with stats_tab:
    data_panels.show_stats(snapshot)
with audit_tab:
    data_panels.show_audit(snapshot)

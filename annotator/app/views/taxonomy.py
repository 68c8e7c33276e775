"""Taxonomy: the stored versions, read-only (editing arrives with a later issue)."""

import streamlit as st

from annotator import store
from annotator.app import auth, state

auth.require("admin")
st.title("Taxonomy")
st.info("Editing and refining the taxonomy from the browser arrives with a later issue. "
        "Until then, use `annotator init --taxonomy PATH` and `annotator taxonomy show`.",
        icon=":material/construction:")
with state.open_db() as db:
    versions = store.list_taxonomies(db)
st.dataframe([{"taxonomy": f"{t.name}@{t.version}", "modes": t.modes, "draft": t.is_draft, "labels": t.labels}
              for t in versions], hide_index=True)

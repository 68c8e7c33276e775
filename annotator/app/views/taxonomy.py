"""Taxonomy (reviewers view, admins refine): the versions, the modes of a version with definitions,
the ambiguous modes, and the editor that makes a refined version (see components/)."""

import streamlit as st

from annotator.app import auth, state
from annotator.app.components import taxonomy_edit
from annotator.app.components import taxonomy_panels as panels
from annotator.services import annotate

user = auth.require("reviewer")
st.title("Taxonomy")
versions_tab, modes_tab, ambiguous_tab, refine_tab = st.tabs(
    ["Versions", "Modes", "Ambiguous modes", "Refine"])
with state.open_db() as db:
    labelling = annotate.labelling_taxonomy(db).taxonomy.ref
    with versions_tab:
        panels.show_versions(db)
    with modes_tab:
        panels.show_modes(db, labelling)
    with ambiguous_tab:
        panels.show_ambiguous(db, labelling)
    with refine_tab:
        if user.role == "admin":
            taxonomy_edit.show(db)
        else:
            st.info("Only an admin can refine the taxonomy. The Versions, Modes and Ambiguous modes tabs show "
                    "what a refinement would start from.", icon=":material/lock:")

"""The Agreement page's localisation figures: rater pairs, Who&When's accuracies against references,
step offsets and per-mode rows, from the same service as `annotator localise report`.

Tables are built by the report's own table builder and shown as dataframes (plain text cells).
"""

from __future__ import annotations

import streamlit as st

from annotator import store
from annotator.app import state
from annotator.app.components.agreement_panels import Filters
from annotator.app.viewmodels.text import md_literal
from annotator.core.report.localisation import localisation_tables
from annotator.core.report.model import Localisation
from annotator.services.localisation_report import localisation_for


@st.cache_data(max_entries=16, show_spinner="Computing localisation agreement…")
def _section(db_file: str, data_version: tuple, filters: Filters, k: int) -> Localisation | None:
    """The localisation section for these filters; `data_version` is part of the cache key only."""
    db = store.open_existing(db_file, migrate=False)
    try:
        return localisation_for(db, raters=list(filters.raters) if filters.raters else None,
                                tags=dict(filters.tags) if filters.tags else None, k=k,
                                bootstrap=filters.bootstrap, seed=filters.seed)
    finally:
        db.conn.close()


def has_localisations(db) -> bool:
    return bool(store.load_answers(db))


def show(filters: Filters) -> None:
    k = st.number_input("Near agreement: steps within ± k turns", min_value=0, max_value=100, value=3, step=1,
                        key="loc_k")
    with state.open_db() as db:
        version = store.data_version(db)
    section = _section(state.db_path(), version, filters, int(k))
    if section is None:
        st.info("No localisations for this selection yet: import Who&When or AgentRx, or mark decisive errors "
                "on the Annotate page.", icon=":material/info:")
        return
    for title, note, header, rows, _ in localisation_tables(section):
        st.subheader(md_literal(title))
        st.caption(md_literal(note))
        st.dataframe([dict(zip(header, row)) for row in rows], hide_index=True, width="stretch")

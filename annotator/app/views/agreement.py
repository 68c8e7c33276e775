"""Agreement (reviewer, admin): per-mode kappa with intervals and flags, pair matrix, co-confusion,
annotator progress, and the report for download."""

import streamlit as st

from annotator.app import auth, state
from annotator.app.components import agreement_panels as panels
from annotator.app.components import localisation_panels, uncertain_panels
from annotator.app.viewmodels.text import md_literal
from annotator.core.errors import UserError
from annotator.core.report.fmt import taxonomy_ref
from annotator.core.report.model import Report
from annotator.services.report import NoLabelsError

auth.require("reviewer")
st.title("Agreement")
with state.open_db() as db:
    filters = panels.show_filters(db)
    report: Report | None
    try:
        report = panels.compute(filters)
    except NoLabelsError as exc:
        st.info(md_literal(f"Nothing to compare yet: {exc}."), icon=":material/info:")
        report = None
    except UserError as exc:
        st.error(md_literal(f"Could not compute agreement: {exc}"))
        report = None
    if report is not None:
        st.caption(f"{md_literal(taxonomy_ref(report))} · {report['level']} level · {len(report['raters'])} raters · "
                   f"bootstrap {report['params']['bootstrap']} · resampling {report['params']['resample']}s "
                   f"({md_literal(report['params']['resample_reason'])})")
        panels.show_downloads(report)
        kappa_tab, pairs_tab, confusion_tab, localisation_tab, progress_tab = st.tabs(
            ["Kappa per mode", "Rater pairs", "Co-confusion", "Localisation", "Annotator progress"])
        with kappa_tab:
            panels.show_kappa(report)
            uncertain_panels.show(filters)
        with pairs_tab:
            panels.show_matrix(report)
        with confusion_tab:
            panels.show_co_confusion(report)
        with localisation_tab:
            localisation_panels.show(filters)
        with progress_tab:
            panels.show_progress(db)
    else:
        if localisation_panels.has_localisations(db):
            localisation_panels.show(filters)
        panels.show_progress(db)

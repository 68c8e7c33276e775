"""Agreement page: the people's agreement where the judge is unsure (the segments the judge-uncertain queue
strategy put first) beside the rest, per mode, with intervals on both subsets; n/a where undefined.

Cached per filter choice, state of the data and applied strategy, like the page's report.
"""

from __future__ import annotations

import streamlit as st

from annotator import store
from annotator.app import state
from annotator.core.report.fmt import fmt_signed, fmt_with_ci
from annotator.services.uncertain_agreement import UncertainAgreement, uncertain_agreement


@st.cache_data(max_entries=8, show_spinner="Comparing agreement where the judge is unsure…")
def _comparison(db_file: str, version: tuple, taxonomy: str, tags: tuple | None, bootstrap: int, seed: int,
                include_unsure: bool) -> UncertainAgreement | None:
    """`version` (data and applied strategy) is part of the cache key only."""
    db = store.connect(db_file, migrate=False)
    try:
        return uncertain_agreement(db, taxonomy=taxonomy, tags=dict(tags) if tags else None, bootstrap=bootstrap,
                                   seed=seed, include_unsure=include_unsure)
    finally:
        db.conn.close()


def rows(comparison: UncertainAgreement) -> list[dict[str, str]]:
    """One row per mode: the people's mean kappa [95% interval] on each subset, and the difference."""
    return [{"mode": m.code, "name": m.name,
             "where the judge is unsure": fmt_with_ci(m.uncertain.mean_kappa, m.uncertain.ci_low, m.uncertain.ci_high),
             "the rest": fmt_with_ci(m.rest.mean_kappa, m.rest.ci_low, m.rest.ci_high),
             "difference": fmt_signed(m.difference)} for m in comparison.modes]


def show(filters) -> None:
    """The comparison for the page's filters (taxonomy, traces, bootstrap, unsure); nothing without a strategy."""
    with state.open_db() as db:
        version = (store.data_version(db), store.get_strategy(db).get("applied_at"))
    comparison = _comparison(state.db_path(), version, filters.taxonomy, filters.tags, filters.bootstrap,
                             filters.seed, filters.include_unsure)
    if comparison is None:
        return
    st.subheader("Where the judge is unsure, and the rest")
    st.caption(f"Segment level. People's mean pairwise kappa per mode with 95% intervals, on the "
               f"{comparison.uncertain_segments} labelled segments the queue puts first because the judge is "
               f"unsure there, and on the other "
               f"{comparison.rest_segments}. Part of that choice reads the people's own labels (where the judge "
               "differs from their majority), so this describes where people struggle; it is no test. "
               "n/a: undefined (fewer than two people, or no variation).")
    st.dataframe(rows(comparison), hide_index=True, width="stretch")

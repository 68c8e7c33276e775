"""Panels of the Agreement page: filters, the report's figures, annotator progress, downloads.

The figures come from the agreement engine (`annotator.services.report.report_for`); a report is cached per
filter choice and per state of the data (store.data_version), so a page rerun recomputes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from annotator import store
from annotator.app import state
from annotator.app.viewmodels import report_views
from annotator.app.viewmodels import team as team_rows
from annotator.app.viewmodels.text import md_literal
from annotator.core.report import render
from annotator.core.report.fmt import TRACE_COVERAGE_NOTE, pairs_note
from annotator.core.report.model import Report
from annotator.services.report import report_for

MODE_PX = 265  # the longest MAST mode name in full
FORMATS = (("json", "application/json"), ("csv", "text/csv"), ("md", "text/markdown"), ("html", "text/html"))


@dataclass(frozen=True)
class Filters:
    taxonomy: str
    raters: tuple[str, ...] | None
    level: str
    tags: tuple[tuple[str, str], ...] | None
    bootstrap: int
    seed: int = 0
    include_unsure: bool = False  # labels submitted as unsure: left out by default, as in `annotator report`
    pairs: str = "auto"  # list every rater pair: auto up to 20 raters, or all (`annotator report --pairs`)


@st.cache_data(max_entries=16, show_spinner="Computing agreement…")
def _report(db_file: str, data_version: tuple, filters: Filters) -> Report:
    """The report for these filters; `data_version` is part of the cache key only."""
    db = store.open_existing(db_file, migrate=False)
    try:
        return report_for(db, taxonomy=filters.taxonomy, raters=list(filters.raters) if filters.raters else None,
                          level=filters.level, tags=dict(filters.tags) if filters.tags else None,
                          bootstrap=filters.bootstrap, seed=filters.seed, include_unsure=filters.include_unsure,
                          pairs=filters.pairs)
    finally:
        db.conn.close()


def compute(filters: Filters) -> Report:
    with state.open_db() as db:
        version = store.data_version(db)
    return _report(state.db_path(), version, filters)


def show_filters(db) -> Filters:
    """The filter bar (a form: nothing is computed until Apply)."""
    taxonomies = [f"{t.name}@{t.version}" for t in store.list_taxonomies(db)]
    try:  # the version annotators label with, by default
        default_ref = store.get_taxonomy(db, store.get_settings(db).taxonomy).taxonomy.ref
    except store.StoreError:
        default_ref = None
    raters = [r.name for r in store.list_raters(db)]
    tags = [f"{k}={v}" for k, v in store.trace_tag_values(db)]
    with st.form("agreement_filters", border=True):
        c1, c2, c3, c4, c5 = st.columns([2, 4, 1.4, 2, 1.2])
        taxonomy = c1.selectbox("Taxonomy version", taxonomies,
                                index=taxonomies.index(default_ref) if default_ref in taxonomies else 0)
        chosen = c2.multiselect("Raters", raters, placeholder="All raters with labels")
        level = c3.radio("Level", ["segment", "trace"], horizontal=True)
        tag = c4.selectbox("Traces", ["all traces", *tags])
        bootstrap = c5.number_input("Bootstrap", min_value=0, max_value=20_000, value=1000, step=100,
                                    help="Resamples for the 95% intervals (0: none)")
        unsure = st.checkbox("Count labels marked unsure", value=False,
                             help="Unsure is not a label: by default those labels are left out (--unsure include)")
        every_pair = st.checkbox("List every rater pair", value=False,
                                 help="By default the pairs are listed up to 20 raters: their number grows with the "
                                      "square of the raters (--pairs all)")
        st.form_submit_button("Apply", type="primary", icon=":material/refresh:")
    tag_filter = None if tag == "all traces" else (tuple(tag.split("=", 1)),)
    return Filters(taxonomy=taxonomy, raters=tuple(chosen) or None, level=level, tags=tag_filter,
                   bootstrap=int(bootstrap), include_unsure=bool(unsure), pairs="all" if every_pair else "auto")


def show_kappa(report: Report) -> None:
    """People first: their mean kappa per mode, each judge against them and the alt-test verdict; every rater
    pair (judges and gold included) on demand."""
    people = report_views.people_rows(report)
    st.subheader("Agreement among people, and each judge against them")
    if people.empty:
        st.info("No mode under these filters.")
        return
    st.caption("Judges and gold are not people: they are left out of the people's figures. Points: the people's "
               "mean pairwise kappa, and each judge's mean kappa against the people; bars: 95% intervals.")
    if people["kappa"].notna().any():
        st.altair_chart(report_views.kappa_chart(people, color_title="who"), width="stretch")
    else:
        st.info("No pair of people has a defined kappa under these filters (the people's figures need two or "
                "more people with labels in common).")
    _show_judges(report)
    st.markdown("**Every mode: the people's figures and flags**")
    st.dataframe(report_views.mode_summary(report), hide_index=True, width="stretch", column_config={
        "mode": st.column_config.TextColumn("mode", pinned=True, width=MODE_PX),
        "flags": st.column_config.ListColumn("flags", width=360, help=report_views.flags_help())})
    if omitted := pairs_note(report):
        st.caption(md_literal(omitted))
    elif st.toggle("Show every rater pair (judges and gold included)", key="agreement_all_pairs"):
        _show_pairs(report)


def _show_judges(report: Report) -> None:
    table = report_views.judge_table(report)
    if table.empty:
        return
    st.markdown("**On which modes can the judge replace an annotator?**")
    for judge, codes in report_views.replaceable(report):
        verdict = ", ".join(md_literal(code) for code in codes) if codes else "none"
        st.markdown(f"- {md_literal(judge)}: {verdict}")
    epsilon = report["params"]["alt_test_epsilon"]
    st.caption(f"Alternative annotator test (Calderon, Reichart and Dror 2025), epsilon {epsilon:g}: leave one "
               "annotator out, compare who agrees better with the rest, the judge or that annotator; the judge can "
               "replace an annotator when it wins against at least half of them. Needs three or more people with "
               "30 or more units each. The difference from the people has a paired interval.")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "mode": st.column_config.TextColumn("mode", pinned=True, width=MODE_PX),
        "people's kappa [95% CI]": st.column_config.TextColumn("people's kappa", width=135,
                                                               help="The people's mean pairwise kappa [95% CI]"),
        "judge": st.column_config.TextColumn("judge", width=180),
        "judge vs people [95% CI]": st.column_config.TextColumn(
            "judge vs people", width=135, help="The judge's mean kappa against each person [95% CI]"),
        "judge minus people [95% CI]": st.column_config.TextColumn(
            "judge minus people", width=150, help="Judge vs people minus the people's own kappa [paired 95% CI]"),
        "can replace an annotator?": st.column_config.TextColumn("can replace an annotator?", width="large")})


def _show_pairs(report: Report) -> None:
    rows = report_views.kappa_rows(report)
    if rows.empty:
        st.info("No pair of raters has labels in common under these filters.")
        return
    every = list(dict.fromkeys(rows["pair"]))
    chosen = st.multiselect("Pairs to draw", every, default=report_views.people_pairs(report)[:3] or every[:3],
                            key="agreement_pairs", help="The pairs of people first; add judges or gold as needed. "
                            "A few pairs at a time stay readable.")
    drawn = rows[rows["pair"].isin(chosen)]
    undefined = int(drawn["kappa"].isna().sum())
    st.caption("Points: kappa of each rater pair; bars: its 95% interval; triangles: flagged pairs."
               + (f" {undefined} pair(s) have undefined kappa (n/a) and are not drawn." if undefined else ""))
    if not drawn.empty:
        st.altair_chart(report_views.kappa_chart(drawn), width="stretch")
    with st.expander("Per-pair figures", icon=":material/table:"):
        st.dataframe(report_views.readable(rows.drop(columns=["order", "kappa_text"])), hide_index=True,
                     width="stretch", column_config={"flags": st.column_config.TextColumn(
                         "flags", width="large", help=report_views.flags_help())})


def show_matrix(report: Report) -> None:
    st.subheader("Rater pairs (pooled kappa)")
    matrix = report_views.pair_matrix(report)
    if matrix.empty:
        st.caption(md_literal(pairs_note(report) or "No pooled figures."))
        return
    st.altair_chart(report_views.matrix_chart(matrix), width="stretch")
    coverage = report.get("trace_coverage")
    if coverage:
        st.subheader("Trace coverage per pair")
        st.caption(TRACE_COVERAGE_NOTE)
        st.dataframe(coverage, hide_index=True, column_config={
            "traces": "traces both labelled", "full": "in full by both", "partial": "in part by one or both"})


def show_co_confusion(report: Report) -> None:
    st.subheader("Co-confusion between modes")
    pairs = report_views.co_confusion(report)
    if pairs.empty:
        st.caption("No co-confusion: raters never traded one mode for another on the same segment.")
        return
    st.altair_chart(report_views.co_confusion_chart(pairs), width="stretch")
    st.dataframe(report_views.readable(pairs), hide_index=True, width="stretch")


def show_progress(db) -> None:
    st.subheader("Annotator progress")
    team = team_rows.annotator_rows(store.team_progress(db))
    if not team:
        st.caption("No annotators yet: add them with `annotator users add NAME`.")
        return
    st.dataframe(team, hide_index=True, width="stretch", column_config={
        "done": st.column_config.ProgressColumn("done", min_value=0, max_value=max(1, max(r["assigned"] for r in team)),
                                                format="%d")})


def show_downloads(report: Report) -> None:
    cols = st.columns(len(FORMATS))
    for col, (fmt, mime) in zip(cols, FORMATS):
        col.download_button(f"Report .{fmt}", data=lambda fmt=fmt: render(report, fmt), file_name=f"agreement.{fmt}",
                            mime=mime,
                            key=f"agreement_download_{fmt}", on_click="ignore", icon=":material/download:",
                            width="stretch")

"""Panels of the Taxonomy page: the stored versions, the modes of one version, the ambiguous modes (by
human-human agreement, with co-confusion partners and example segments), and the before/after view of
a refinement. The editor is in taxonomy_edit.py. Session keys start with `tx_`.
"""

from __future__ import annotations

import streamlit as st

from annotator import store
from annotator.app.components import agreement_panels
from annotator.app.components.segment_view import show_text
from annotator.app.viewmodels import taxonomy_page as page_model
from annotator.app.viewmodels.text import md_literal, plain, plain_body
from annotator.core.report.model import Report
from annotator.core.report.modes import AmbiguousMode
from annotator.services import taxonomy_agreement
from annotator.services.report import NoLabelsError

CREATED = "tx_created"  # NAME@VERSION made by the last refinement in this session


def human_report(db, ref: str) -> Report:
    """Agreement among people only (a judge's labels would blur which definitions people read alike): the
    service's people_report, cached per data version like the Agreement page.

    Point estimates are enough here, so no bootstrap (the CLI's default for these figures too).
    """
    humans = taxonomy_agreement.people_raters(db)
    return agreement_panels.compute(agreement_panels.Filters(taxonomy=ref, raters=humans, level="segment",
                                                             tags=None, bootstrap=0))


def refs(db) -> list[str]:
    return [f"{t.name}@{t.version}" for t in store.list_taxonomies(db)]


def _pick_version(label: str, key: str, options: list[str], default: str | None) -> str:
    index = options.index(default) if default in options else 0
    return st.selectbox(label, options, index=index, key=key, width=320, format_func=plain)


def show_versions(db) -> None:
    summaries = store.list_taxonomies(db)
    counts = {t.id: store.gold_counts(db, t.id) for t in summaries}
    st.dataframe(page_model.version_rows(summaries, counts), hide_index=True, width="stretch")
    st.caption("A version never changes once stored; a refinement makes a new one with the old as its parent.")
    refined = [f"{t.name}@{t.version}" for t in summaries if t.parent]
    if not refined:
        return
    st.subheader("Before and after a refinement")
    chosen = _pick_version("Refined version", "tx_compare", refined, st.session_state.get(CREATED))
    show_before_after(db, chosen)


def show_before_after(db, ref: str) -> None:
    """Mean pairwise kappa (people) per mode of `ref` beside that of the modes it came from."""
    new = store.get_taxonomy(db, ref)
    old = store.get_taxonomy(db, new.taxonomy.parent)
    try:
        rows = taxonomy_agreement.refinement_comparison(db, old.taxonomy.ref, ref,
                                                        report_of=lambda r: human_report(db, r))
    except NoLabelsError as exc:
        st.info(md_literal(f"No agreement to compare yet: {exc}."))
        return
    st.caption(f"{md_literal(old.taxonomy.ref)} → {md_literal(new.taxonomy.ref)}: mean pairwise kappa among people. "
               "Labels carried over by a merge are the OR of the old ones; an edited definition keeps its "
               "labels (marked stale) until people label again.")
    st.dataframe(page_model.comparison_rows(rows), hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3)


def show_modes(db, default: str) -> None:
    """The modes of one version, grouped by category, with their definitions (as plain text)."""
    ref = _pick_version("Version", "tx_modes_version", refs(db), default)
    tax = store.get_taxonomy(db, ref).taxonomy
    st.caption(f"{len(tax.modes)} modes" + (f" · refined from {md_literal(tax.parent)}" if tax.parent else "")
               + (" · draft" if tax.is_draft else ""))
    for category, modes in tax.categories():
        st.subheader(md_literal(category))
        for mode in modes:
            with st.container(border=True):
                st.markdown(f"**{md_literal(mode.code)} {md_literal(mode.name)}**")
                st.text(plain_body(mode.definition))
                if mode.aliases:
                    st.caption("Also called: " + ", ".join(md_literal(a) for a in mode.aliases))


def show_ambiguous(db, default: str) -> None:
    """Modes ranked by human-human kappa, with the modes they are confused with and example segments."""
    ref = _pick_version("Version", "tx_amb_version", refs(db), default)
    try:
        rows = taxonomy_agreement.ambiguous(db, ref, report_of=lambda r: human_report(db, r))
    except NoLabelsError as exc:
        st.info(md_literal(f"Nothing to rank yet: {exc}."), icon=":material/info:")
        return
    st.caption("Least agreement first. Co-confusion: on the same segment one person marks this mode (not the "
               "other) and another person marks the other (not this). A mode confused with the same partner "
               "again and again usually needs a sharper definition, or a merge.")
    st.dataframe(page_model.ambiguity_rows(rows), hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3)
    _show_closer_look(db, ref, rows)


def _show_closer_look(db, ref: str, rows: list[AmbiguousMode]) -> None:
    stored = store.get_taxonomy(db, ref)
    by_code = {m.code: m for m in stored.taxonomy.modes}
    names = {r["code"]: plain(f"{r['code']} {r['name']}") for r in rows}
    code = st.selectbox("Look closer at", list(names), key="tx_amb_mode", format_func=names.get, width=420)
    row = next(r for r in rows if r["code"] == code)
    partners = [p["mode"] for p in row["confused_with"][:2]]
    cols = st.columns(1 + len(partners))
    for col, other in zip(cols, [code, *partners]):
        with col.container(border=True):
            st.markdown(f"**{md_literal(other)} {md_literal(by_code[other].name)}**")
            st.text(plain_body(by_code[other].definition))
    examples = list(dict.fromkeys([*row["contested_examples"],
                                   *(e for p in row["confused_with"][:2] for e in p["examples"])]))[:5]
    for segment_id in examples:
        _example(db, stored, int(segment_id), code)


def _example(db, stored, segment_id: int, code: str) -> None:
    segment = store.get_segment(db, segment_id)
    if segment is None:
        return
    people = [r for r in store.labels_for_segment(db, segment_id, stored.id) if r.kind == "human"]
    marked = sum(r.values.get(code, 0) for r in people)
    title = (f"segment {segment_id} · trace {md_literal(segment.trace_external_id, limit=60)} · "
             f"{marked} of {len(people)} mark {md_literal(code)}")
    with st.expander(title, icon=":material/description:"):
        show_text(segment.text, f"tx_ex_{segment_id}")

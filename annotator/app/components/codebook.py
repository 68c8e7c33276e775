"""The codebook dialog (button or key C beside the mode filter): every mode's definition and note, and
the modes people most often confuse it with; searchable. Runs as a dialog: searching reruns only it."""

from __future__ import annotations

import streamlit as st

from annotator import store
from annotator.app import state
from annotator.app.viewmodels.text import md_literal, mode_matches, plain_body
from annotator.services import codebook

SEARCH = "annotate_codebook_search"  # the keyboard script applies it as she types, like the mode filter


def _partners(entry: codebook.Entry, names: dict[str, str]) -> str:
    """Markdown: "Most often confused with: 1.2 Disobey role specification (3 times, 20 %) · ..."."""
    if entry.confused_with is None:
        return "Most often confused with: not enough labels yet (no two people have labelled the same segment)."
    if not entry.confused_with:
        return "Most often confused with: none so far (people never traded it for another mode)."
    parts = [f"{md_literal(p.code)} {md_literal(names.get(p.code, ''), limit=50)} ({p.count} time"
             f"{'' if p.count == 1 else 's'}, {p.rate:.0%})" for p in entry.confused_with]
    return "Most often confused with: " + " · ".join(parts)


def _show_entry(entry: codebook.Entry, names: dict[str, str]) -> None:
    mode = entry.mode
    with st.container(border=True, key=f"annotate_codebook_{mode.code.replace('.', '_')}"):
        st.markdown(f"**{md_literal(mode.code)} {md_literal(mode.name)}**")
        st.text(plain_body(mode.definition), width="stretch")
        if mode.note:
            st.caption("Note: " + md_literal(mode.note, multiline=True))
        if mode.aliases:
            st.caption("Also called: " + md_literal(", ".join(mode.aliases)))
        st.caption(_partners(entry, names))


@st.dialog("Codebook", width="large", icon=":material/menu_book:")
def _dialog(ref: str) -> None:
    with state.open_db() as db:
        entries = codebook.codebook(db, store.get_taxonomy(db, ref))
    names = {e.mode.code: e.mode.name for e in entries}
    query = st.text_input("Search the codebook", key=SEARCH, placeholder="Search codes, names, definitions",
                          icon=":material/search:", label_visibility="collapsed")
    shown = [e for e in entries if mode_matches(e.mode, query)]
    if not shown:
        st.caption("No mode matches the search.")
    category = None
    for entry in shown:
        if entry.mode.category != category:
            category = entry.mode.category
            st.markdown(f"#### {md_literal(category)}")
        _show_entry(entry, names)


def open_dialog(stored: store.StoredTaxonomy) -> None:
    _dialog(stored.taxonomy.ref)

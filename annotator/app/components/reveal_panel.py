"""After the reveal: the other raters' answers on one segment, one card per rater with the modes she ticked
as chips and her reason under each. Names follow the lead's rule (services.naming applied them already).

Every rater name, code, mode name and reason is untrusted text, shown through md_literal or st.text.
"""

from __future__ import annotations

import streamlit as st

from annotator import store
from annotator.app.viewmodels.text import md_literal, plain_body

STATUS_WORDS = {"done": "submitted", "unsure": "submitted, unsure"}


def _status(rater: store.RaterLabels) -> str:
    kind = "judge" if rater.kind == "judge" else "person"
    status = STATUS_WORDS.get(rater.status or "", rater.status)
    return kind + (f" · {status}" if status else "")


def _card(rater: store.RaterLabels, modes: list) -> None:
    ticked = [m for m in modes if rater.values.get(m.code)]
    with st.container(border=True):
        st.markdown(f"**{md_literal(rater.rater)}** :gray[{md_literal(_status(rater))}]")
        if not rater.values:
            st.caption("No labels under this taxonomy version.")
        elif not ticked:
            st.markdown(":green-badge[:material/check: No failure]")
        for mode in ticked:
            st.markdown(f":orange-badge[:material/check: {md_literal(mode.code)} {md_literal(mode.name, limit=60)}]",
                        help=md_literal(mode.definition, multiline=True))
            if why := rater.rationales.get(mode.code):
                st.text(plain_body(why))


def show(others: list[store.RaterLabels], taxonomy: store.StoredTaxonomy, *, mine: dict | None = None) -> None:
    """One card per other rater; `mine` (code -> 0/1) marks the modes she ticked too, to compare at a glance."""
    if not others:
        st.caption("No other rater has labelled this segment yet.")
        return
    modes = taxonomy.taxonomy.modes
    if mine is not None:
        agree = sum(all(o.values.get(m.code) == mine.get(m.code) for m in modes if m.code in o.values)
                    for o in others if o.values)
        st.caption(f"{agree} of {len(others)} gave exactly your answer.")
    for rater in others:
        _card(rater, modes)

"""The mode checklist beside the segment: chips, filter, modes by category, No failure, Unsure,
rationales, Submit and Skip, the codebook button (a dialog), and (after the reveal) other raters' labels.

It runs as a fragment: ticking a mode reruns only this panel, without touching the database. Submit
and Skip write through the annotate service and then rerun the whole page for the next segment.
Ticks live in a plain dict per segment (`ann_<id>_ticks`), the source of truth for Submit.
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from annotator.app import state
from annotator.app.components import codebook, reveal_panel
from annotator.app.viewmodels.text import md_literal, mode_matches
from annotator.services import annotate
from annotator.services.annotate import AnnotateError, Choice, SegmentView
from annotator.store.users import User


def _k(seg_id: int, name: str) -> str:
    return f"ann_{seg_id}_{name}"


def _init_drafts(view: SegmentView) -> tuple[dict, dict]:
    """Her ticks and rationales for this segment: the saved ones, or what she ticked before leaving."""
    seg_id = view.segment.id
    ss = st.session_state
    if _k(seg_id, "ticks") not in ss:
        saved = view.mine.values if view.mine and view.status in ("done", "unsure") else {}
        ss[_k(seg_id, "ticks")] = {code: bool(v) for code, v in saved.items() if v}
        ss[_k(seg_id, "rationales")] = dict(view.mine.rationales) if view.mine else {}
        ss.setdefault(_k(seg_id, "none"), bool(saved) and not any(saved.values()))
        ss.setdefault(_k(seg_id, "unsure"), view.status == "unsure")
        ss[_k(seg_id, "opened")] = time.monotonic()
    return ss[_k(seg_id, "ticks")], ss[_k(seg_id, "rationales")]


def _on_mode(seg_id: int, widget_key: str, code: str) -> None:
    ticked = st.session_state[widget_key]
    st.session_state[_k(seg_id, "ticks")][code] = ticked
    if ticked:
        st.session_state[_k(seg_id, "none")] = False


def _on_rationale(seg_id: int, widget_key: str, code: str) -> None:
    st.session_state[_k(seg_id, "rationales")][code] = st.session_state[widget_key]


def _on_none(seg_id: int, mode_keys: list[str]) -> None:
    if st.session_state[_k(seg_id, "none")]:
        st.session_state[_k(seg_id, "ticks")].clear()
        for key in mode_keys:
            st.session_state[key] = False


def _mode_keys(view: SegmentView) -> list[tuple[str, object, str]]:
    """(category, mode, widget key) for every mode; the key carries category and mode positions,
    which the keyboard script uses (1 then 3 = first category, third mode)."""
    out = []
    for c, (category, modes) in enumerate(view.taxonomy.taxonomy.categories(), start=1):
        for m, mode in enumerate(modes, start=1):
            out.append((category, mode, _k(view.segment.id, f"m_{c}_{m}")))
    return out


def _show_mode(seg_id: int, mode, key: str, ticks: dict, rationales: dict) -> None:
    st.session_state.setdefault(key, bool(ticks.get(mode.code)))
    st.checkbox(f"{md_literal(mode.code)}  {md_literal(mode.name)}", key=key,
                help=md_literal(mode.definition, multiline=True),
                on_change=_on_mode, args=(seg_id, key, mode.code))
    if ticks.get(mode.code):
        st.session_state.setdefault(f"{key}_why", rationales.get(mode.code, ""))
        st.text_input(f"Why {md_literal(mode.code)}? (optional)", key=f"{key}_why", max_chars=annotate.RATIONALE_MAX,
                      placeholder=f"Why {mode.code}? (optional, short)", label_visibility="collapsed",
                      on_change=_on_rationale, args=(seg_id, f"{key}_why", mode.code))


def _show_group(seg_id: int, entries: list, ticks: dict, rationales: dict) -> None:
    shown_category = None
    for category, mode, key in entries:
        if category != shown_category:
            st.markdown(f"**{md_literal(category)}**")
            shown_category = category
        _show_mode(seg_id, mode, key, ticks, rationales)


def _show_modes(view: SegmentView, ticks: dict, rationales: dict, query: str) -> None:
    """Modes matching the filter, by category; the others folded below, never removed: a checkbox
    that leaves the page loses its state, and quick filter changes then lost ticks."""
    seg_id = view.segment.id
    entries = _mode_keys(view)
    matching = [e for e in entries if mode_matches(e[1], query)]
    others = [e for e in entries if not mode_matches(e[1], query)]
    if matching:
        _show_group(seg_id, matching, ticks, rationales)
    else:
        st.caption("No mode matches the filter.")
    if others:
        with st.expander(f"Other modes ({len(others)})", expanded=False):
            _show_group(seg_id, others, ticks, rationales)


def _show_chips(view: SegmentView, ticks: dict) -> None:
    ticked = [m for m in view.taxonomy.taxonomy.modes if ticks.get(m.code)]
    if error := st.session_state.pop(_k(view.segment.id, "error"), None):
        st.error(md_literal(error), icon=":material/error:")
    elif st.session_state.get(_k(view.segment.id, "none")):
        st.markdown(":green-badge[:material/check: No failure]")
    elif ticked:
        st.markdown(" ".join(f":orange-badge[{md_literal(m.code)} {md_literal(m.name, limit=60)}]" for m in ticked))
    elif st.session_state.get(_k(view.segment.id, "unsure")):
        st.markdown(":orange-badge[:material/help: Unsure, nothing ticked]")
    else:
        st.caption("Nothing ticked yet: tick the modes you see, No failure, or Unsure.")


def _submit(view: SegmentView, user: User, skip: bool) -> None:
    seg_id = view.segment.id
    ss = st.session_state
    ticks = ss[_k(seg_id, "ticks")]
    modes = frozenset(code for code, on in ticks.items() if on)
    elapsed = int((time.monotonic() - ss.get(_k(seg_id, "opened"), time.monotonic())) * 1000)
    with state.open_db() as db:
        if skip:
            annotate.skip(db, user, seg_id, duration_ms=elapsed)
        else:
            annotate.submit(db, user, seg_id, Choice(modes, no_failure=bool(ss.get(_k(seg_id, "none"))),
                                                     unsure=bool(ss.get(_k(seg_id, "unsure"))),
                                                     rationales=ss[_k(seg_id, "rationales")]), duration_ms=elapsed)


def _forget(seg_id: int) -> None:
    """Drop this segment's drafts once they are saved (the database has them now)."""
    prefix = f"ann_{seg_id}_"
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def _show_actions(view: SegmentView, user: User) -> None:
    seg_id = view.segment.id
    if view.full:
        st.warning("You skipped this segment and it has gone to other annotators since (each segment gets k "
                   "annotators): it can no longer take your labels. Go on with your next segment.",
                   icon=":material/group:")
        return
    submitted = view.status in ("done", "unsure")
    left, right = st.columns(2)
    clicked_submit = left.button("Update labels" if submitted else "Submit", key=_k(seg_id, "submit"),
                                 type="primary", icon=":material/check:", width="stretch")
    clicked_skip = right.button("Skip", key=_k(seg_id, "skip"), icon=":material/skip_next:", width="stretch",
                                disabled=submitted, help="Can't judge this one? Skip it; it goes to someone else.")
    if not (clicked_submit or clicked_skip):
        return
    try:
        _submit(view, user, skip=clicked_skip)
    except AnnotateError as exc:
        st.session_state[_k(seg_id, "error")] = str(exc)  # shown in place of the chips (drawn after this)
        return
    except Exception as exc:  # a fragment's error never reaches main.py: a database locked too long is told here
        problem = state.database_problem(exc)
        if problem is None:
            raise
        logging.getLogger("annotator.app").warning("Annotate, segment %d: %s", seg_id, problem)
        st.session_state[_k(seg_id, "error")] = str(problem)  # the answer stays on the page: Submit again
        return
    _forget(seg_id)
    st.session_state.pop(state.CURRENT_SEGMENT, None)
    st.session_state["ann_flash"] = "Skipped." if clicked_skip else ("Labels updated." if submitted else "Saved.")
    st.rerun()


def _show_others(view: SegmentView) -> None:
    if view.others is None:
        st.caption(":material/visibility_off: Other raters' labels stay hidden until you have submitted "
                   "this segment and your lead opens the reveal phase.")
        return
    with st.expander(f"Other raters' labels ({len(view.others)})", expanded=True, icon=":material/visibility:"):
        reveal_panel.show(view.others, view.taxonomy, mine=view.mine.values if view.mine else None)


def _show_history(view: SegmentView) -> None:
    if view.history:
        last_time, last_status = view.history[-1]
        times = "once" if len(view.history) == 1 else f"{len(view.history)} times"
        st.caption(f"You submitted this segment {times}; last: {last_status}, {last_time[:19].replace('T', ' ')} UTC.")


@st.fragment
def _panel(view: SegmentView, user: User) -> None:
    seg_id = view.segment.id
    ticks, rationales = _init_drafts(view)
    chips = st.container()
    _show_actions(view, user)  # at the top, so Submit stays in view; it reads the drafts, not the widgets
    none_col, unsure_col = st.columns(2)
    none_col.checkbox("No failure", key=_k(seg_id, "none"), on_change=_on_none,
                      args=(seg_id, [key for _, _, key in _mode_keys(view)]),
                      help="None of these modes occurs in this segment.")
    unsure_col.checkbox("Unsure", key=_k(seg_id, "unsure"), help="My best guess; flag it for review.")
    filter_col, book_col = st.columns([3, 2], vertical_alignment="center")
    query = filter_col.text_input("Filter modes", key=_k(seg_id, "filter"), placeholder="Filter modes  ( / )",
                                  label_visibility="collapsed", icon=":material/search:")
    if book_col.button("Codebook", key=_k(seg_id, "codebook"), icon=":material/menu_book:", width="stretch",
                       help="Every mode: its definition, notes and the modes it is most often confused with (C)"):
        codebook.open_dialog(view.taxonomy)
    with st.container(border=True, key=_k(seg_id, "modes")):
        _show_modes(view, ticks, rationales, query)
    with chips:
        _show_chips(view, ticks)
    _show_history(view)
    _show_others(view)


def show(view: SegmentView, user: User) -> None:
    _panel(view, user)

"""Panels of the Review page: the contested-segment queue, the raters' labels side by side, and the gold
form. Session keys start with `rev_`; a segment's widgets carry its id (`rev_<segment>_...`).

Gold is written only in callbacks (Save gold, Build gold), each one call of annotator.services.gold.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotator import store
from annotator.app import auth, state
from annotator.app.viewmodels.text import md_literal, plain, plain_body
from annotator.core.errors import UserError
from annotator.services import admin, gold, review
from annotator.store.users import User

CURRENT = "rev_current"  # segment id on screen
PICK = "rev_pick"  # the segment selectbox
MODE = "rev_mode"  # the mode filter
ALL_MODES = "all modes"
CHOICES = ("present", "absent")
DISPUTED_STYLE = "background-color: #fff1e0"
MODE_PX, RATER_PX, GOLD_PX = 250, 64, 200  # the labels table: full mode names, narrow ✓/– columns, whole gold


def _k(segment_id: int, name: str) -> str:
    return f"rev_{segment_id}_{name}"


def _mode_key(segment_id: int, code: str) -> str:
    return _k(segment_id, "m_" + code.replace(".", "_"))


def mode_filter(stored: store.StoredTaxonomy) -> str | None:
    options = [ALL_MODES, *stored.taxonomy.codes]
    names = {m.code: plain(f"{m.code} {m.name}") for m in stored.taxonomy.modes}
    chosen = st.selectbox("Disputed mode", options, key=MODE, format_func=lambda c: names.get(c, plain(c)),
                          on_change=_forget_current)
    return None if chosen == ALL_MODES else chosen


def _forget_current() -> None:
    """A new filter starts at its first open segment."""
    st.session_state.pop(CURRENT, None)


def _go(segment_id: int | None) -> None:
    if segment_id is not None:
        st.session_state[CURRENT] = segment_id


def _open_typed() -> None:
    number = st.session_state.get("rev_open")
    _go(int(number) if number else None)


def _picked() -> None:
    st.session_state[CURRENT] = st.session_state[PICK]


def _option_label(row: review.Contested | None, segment_id: int) -> str:
    if row is None:
        return f"segment {segment_id} (not in this list)"
    shown = plain(", ".join(row.disputed_modes[:4])) + (" …" if len(row.disputed_modes) > 4 else "")
    mark = '✓ ' if row.adjudicated else '⚠ stale · ' if row.stale else ''
    return f"{mark}segment {segment_id} · {len(row.disputed_modes)} disputed: {shown}"


def current_segment(rows: list[review.Contested]) -> int | None:
    """The segment to show: the one chosen before, else the first one not yet adjudicated."""
    chosen = st.session_state.get(CURRENT)
    if chosen is None and rows:
        chosen = review.next_open(rows) or rows[0].segment_id
        st.session_state[CURRENT] = chosen
    return chosen


def show_queue(rows: list[review.Contested], current: int | None) -> None:
    """Progress, the segment picker (most contested first), previous / next, and open-by-number."""
    done = sum(r.adjudicated for r in rows)
    st.progress(done / len(rows) if rows else 1.0, text=f"{done} adjudicated / {len(rows)} contested")
    by_id = {r.segment_id: r for r in rows}
    options = list(by_id)
    if current is not None and current not in by_id:
        options.insert(0, current)  # opened by number, or outside the mode filter
    if current is not None:
        st.session_state[PICK] = current  # before the widget exists in this run: allowed
    pick, prev_col, next_col, open_col = st.columns([5, 1.5, 1.3, 2], vertical_alignment="bottom")
    pick.selectbox("Segment (most contested first)", options, key=PICK, on_change=_picked,
                   format_func=lambda s: _option_label(by_id.get(s), s), placeholder="No contested segments")
    position = options.index(current) if current in options else -1
    prev_col.button("Previous", key="rev_prev", icon=":material/arrow_back:", width="stretch",
                    on_click=_go, args=(options[position - 1] if position > 0 else None,), disabled=position <= 0)
    next_col.button("Next", key="rev_next", icon=":material/arrow_forward:", width="stretch",
                    on_click=_go, args=(options[position + 1] if 0 <= position < len(options) - 1 else None,),
                    disabled=not 0 <= position < len(options) - 1)
    with open_col.popover("Open segment #", icon=":material/search:", width="stretch"):
        number = st.number_input("Segment id", min_value=1, step=1, value=None, key="rev_open")
        st.button("Open", key="rev_open_go", on_click=_open_typed, disabled=number is None)


def show_labels(view: review.SegmentReview) -> None:
    """Every rater's labels and rationales side by side, one row per mode (plain text cells); the
    disputed modes highlighted."""
    table = pd.DataFrame(review.label_rows(view))
    disputed = {f"{m.code} {m.name}" for m in view.taxonomy.taxonomy.modes if m.code in view.disputed}
    styled = table.style.apply(lambda row: [DISPUTED_STYLE if row["mode"] in disputed else ""] * len(row), axis=1)
    raters = {review.column_name(c): st.column_config.TextColumn(review.column_name(c), width=RATER_PX)
              for c in view.raters}
    st.dataframe(styled, hide_index=True, width="stretch", row_height=32, height=32 * (len(table) + 1) + 3,
                 column_config={"mode": st.column_config.TextColumn("mode", pinned=True, width=MODE_PX), **raters,
                                "gold now": st.column_config.TextColumn("gold now", width=GOLD_PX)})
    st.caption("✓ present · – absent · blank: not labelled. Highlighted: the modes the raters dispute. "
               "The raters' reasons are under each mode of the gold form.")
    notes = {(e["adjudicator"], e["note"], e["created_at"]) for e in view.gold.values()
             if e["provenance"] == "adjudicated"}
    for who, note, when in sorted(notes, key=lambda n: n[2] or ""):
        st.caption(f"Adjudicated by {md_literal(who)} on {(when or '')[:10]}" + (": " if note else ""))
        if note:
            st.text(plain_body(note))


def _init_choices(view: review.SegmentReview) -> None:
    for code, value in view.suggestion.items():
        key = _mode_key(view.segment.id, code)
        if key not in st.session_state:
            st.session_state[key] = None if value is None else CHOICES[1 - value]


def _mode_radio(view: review.SegmentReview, mode) -> None:
    """One mode of the gold form: its name and how the raters split, beside the present/absent choice."""
    people = [r for r in view.raters if r.kind == "human" and mode.code in r.values]
    yes = sum(r.values[mode.code] for r in people)
    hint = f"{yes} of {len(people)} present" if people else "nobody labelled it"
    if entry := view.gold.get(mode.code):
        who = f" by {entry['adjudicator']}" if entry.get("adjudicator") else ""
        hint += f" · gold: {'present' if entry['value'] else 'absent'} ({entry['provenance']}{who})"
    elif view.suggestion[mode.code] is None and people:
        hint += " · a tie: choose"
    name_col, choice_col = st.columns([3, 2], vertical_alignment="center")
    name_col.markdown(f"{md_literal(mode.code)} {md_literal(mode.name)}",
                      help=md_literal(mode.definition, multiline=True))
    name_col.caption(md_literal(hint))
    for who, why in review.reasons(view, mode.code):
        name_col.text(plain_body(f"{who}: {why}"))
    choice_col.radio(f"Gold for {md_literal(mode.code)}", CHOICES, horizontal=True, label_visibility="collapsed",
                     key=_mode_key(view.segment.id, mode.code))


def _save(segment_id: int, codes: list[str], ref: str, adjudicator: str, next_id: int | None) -> None:
    """Save gold for every mode of the segment in one transaction, then go to the next open segment."""
    ss = st.session_state
    undecided = [c for c in codes if ss.get(_mode_key(segment_id, c)) not in CHOICES]
    if undecided:
        ss["rev_error"] = f"Nothing saved: choose present or absent for {', '.join(undecided)}."
        return
    values = {c: int(ss[_mode_key(segment_id, c)] == "present") for c in codes}
    note = (ss.get(_k(segment_id, "note")) or "").strip() or None
    try:
        with state.open_db() as db:
            gold.adjudicate(db, segment_id, values, adjudicator=adjudicator, taxonomy=ref, note=note,
                            actor=auth.acting_user())
    except UserError as exc:  # the segment lost its labels, or the taxonomy changed meanwhile
        ss["rev_error"] = f"Nothing saved: {exc}."
        return
    ss["rev_flash"] = f"Gold saved for segment {segment_id}."
    _go(next_id)


def _last_note(view: review.SegmentReview) -> str:
    notes = sorted((e["created_at"] or "", e["note"]) for e in view.gold.values() if e.get("note"))
    return notes[-1][1] if notes else ""


def show_gold_form(view: review.SegmentReview, user: User, next_id: int | None) -> None:
    """Per mode a present/absent choice, prefilled from the current gold or the raters' majority."""
    seg = view.segment.id
    if error := st.session_state.pop("rev_error", None):
        st.error(md_literal(error))  # it quotes codes and the store's message
    if not view.labelled:
        st.warning(f"No person has labelled segment {seg} under {md_literal(view.taxonomy.taxonomy.ref)}: "
                   "there is nothing to adjudicate.", icon=":material/block:")
        return
    if view.stale_gold:
        st.warning("Stale gold: a person labelled this segment (or changed labels) after its gold was set. "
                   "Save the gold again here, or rebuild gold, to bring it up to date.", icon=":material/update:")
    _init_choices(view)
    st.session_state.setdefault(_k(seg, "note"), _last_note(view))
    modes = view.taxonomy.taxonomy.modes
    with st.form(_k(seg, "form"), border=True):
        st.markdown("**Gold labels**")
        for mode in (m for m in modes if m.code in view.disputed):
            _mode_radio(view, mode)
        agreed = [m for m in modes if m.code not in view.disputed]
        with st.expander(f"Modes the raters agree on ({len(agreed)})", icon=":material/done_all:"):
            for mode in agreed:
                _mode_radio(view, mode)
        st.text_area("Note (why)", key=_k(seg, "note"), height=68, max_chars=2000,
                     placeholder="e.g. the loop is visible in turn 4")
        st.form_submit_button("Save gold", type="primary", icon=":material/gavel:", on_click=_save,
                              args=(seg, [m.code for m in modes], view.taxonomy.taxonomy.ref, user.name, next_id))


def _build(ref: str, strategy: str) -> None:
    try:
        with state.open_db() as db:
            built = gold.build_gold(db, taxonomy=ref, strategy=strategy, actor=auth.acting_user())
    except UserError as exc:
        st.session_state["rev_built"] = ("error", f"No gold built: {exc}.")
        return
    st.session_state["rev_built"] = ("success", (
        f"{built.written} gold labels on {built.segments} segments ({strategy}); {built.kept_adjudicated} "
        f"adjudicated labels kept; {len(built.undecided)} (segment, mode) cells left for review."))


def show_build_gold(stored: store.StoredTaxonomy) -> None:
    """Automatic gold (unanimous or majority) for every segment nobody adjudicated."""
    if built := st.session_state.pop("rev_built", None):
        (st.error if built[0] == "error" else st.success)(md_literal(built[1]))
    with st.expander("Build gold for the rest (majority or unanimous)", icon=":material/auto_mode:"):
        st.caption("Fills gold from the people's labels wherever they agree, for every segment nobody "
                   "adjudicated. Adjudicated labels are never overwritten; ties stay open for review.")
        left, right = st.columns([2, 1], vertical_alignment="bottom")
        strategy = left.radio("Strategy", ("majority", "unanimous"), horizontal=True, key="rev_strategy")
        right.button("Build gold", key="rev_build", icon=":material/auto_mode:", on_click=_build,
                     args=(stored.taxonomy.ref, strategy))


def _open_reveal() -> None:
    with state.open_db() as db:
        admin.change_settings(db, auth.acting_user(), reveal=True)


def explain_reveal(user: User) -> None:
    """Why the page is closed before the reveal phase, and (for the lead) the switch to open it."""
    st.info("Reviewing shows every rater's labels side by side, so it opens with the reveal phase: until "
            "then annotators label blind. The lead opens it on the Data page (Assignment).",
            icon=":material/visibility_off:")
    if user.role == "admin":
        st.button("Open the reveal phase now", key="rev_open_reveal", on_click=_open_reveal,
                  icon=":material/visibility:")

"""Data page, Assignment tab: the order segments are handed out in (default, or where the judge is unsure first).

Owns its session keys (prefix ``queue_strategy_``). The service checks the role and writes the order; this
panel only shows the choice, the strategy in use, and the next segments in hand-out order (to admins only:
the order may come from the judge, so annotators never see it).
"""

from __future__ import annotations

import streamlit as st

from annotator import store
from annotator.app import auth, state
from annotator.app.viewmodels.text import md_literal
from annotator.core.errors import UserError
from annotator.services import queue_strategy

MESSAGE = "queue_strategy_message"  # (kind, text) of the last Apply, shown after the rerun
CHOICES = {queue_strategy.DEFAULT_STRATEGY: "Default: by segment id",
           queue_strategy.JUDGE_UNCERTAIN: "Where the judge is unsure, first"}


def _apply(name: str, judge: str | None, samples: int, below_kappa: float) -> None:
    try:
        with state.open_db() as db:
            result = queue_strategy.apply_strategy(db, auth.acting_user(), name, judge=judge,
                                                   samples=samples or None, below_kappa=below_kappa)
    except UserError as exc:
        st.session_state[MESSAGE] = ("error", str(exc))
        return
    if name == queue_strategy.DEFAULT_STRATEGY:
        st.session_state[MESSAGE] = ("success", "Segments are handed out in the default order.")
    else:
        st.session_state[MESSAGE] = ("success", f"{len(result.uncertain)} segments where the judge is unsure come "
                                                f"first ({result.with_room} of them can still take an annotator).")


def _describe(current: dict) -> str:
    if current["name"] != queue_strategy.JUDGE_UNCERTAIN:
        return "In use: the default order (segments closest to k annotators first, then by id)."
    samples = current.get("samples") or "all"
    return (f"In use: where the judge is unsure, first: judge {current.get('judge')}, samples {samples}, people "
            f"kappa below {current.get('below_kappa')}; {current['ranked_segments']} segments first; applied "
            f"{str(current.get('applied_at', ''))[:16].replace('T', ' ')} UTC. Apply again after a judge run or new "
            "labels to refresh the order.")


def show() -> None:
    """The strategy form and the next segments in hand-out order."""
    with state.open_db() as db:
        current = queue_strategy.current_strategy(db)
        judges = [r.name for r in store.list_raters(db) if r.kind == "judge"]
        order = queue_strategy.hand_out_order(db, limit=10)
    st.subheader("Order of the queue")
    if message := st.session_state.pop(MESSAGE, None):
        (st.error if message[0] == "error" else st.success)(md_literal(message[1]))
    st.caption(md_literal(_describe(current)))
    with st.form("queue_strategy_form"):
        names = list(CHOICES)
        name = st.radio("Hand out", names, format_func=CHOICES.__getitem__, horizontal=True,
                        index=names.index(current["name"]) if current["name"] in names else 0,
                        key="queue_strategy_name")
        judge_col, samples_col, kappa_col = st.columns(3)
        judge = judge_col.selectbox("Judge", judges, index=_judge_index(judges, current),
                                    placeholder="no judge yet", key="queue_strategy_judge")
        samples = samples_col.number_input("Samples to compare (0: all)", min_value=0, max_value=1000, step=1,
                                           value=int(current.get("samples") or 0), key="queue_strategy_samples")
        below = kappa_col.number_input("Low agreement: people kappa below", min_value=-1.0, max_value=1.0,
                                       step=0.05, key="queue_strategy_below",
                                       value=float(current.get("below_kappa", queue_strategy.DEFAULT_BELOW_KAPPA)))
        st.caption("First: segments where the judge's samples disagree with each other, or where the judge differs "
                   "from the people's majority on a mode whose people kappa is below the threshold (or n/a). "
                   "Annotators never see the judge's answer.")
        if st.form_submit_button("Apply order", type="primary"):
            _apply(name, judge, int(samples), float(below))
            st.rerun()
    _show_order(order)


def _judge_index(judges: list[str], current: dict) -> int | None:
    if not judges:
        return None
    return judges.index(current["judge"]) if current.get("judge") in judges else len(judges) - 1


def _show_order(order: list[dict]) -> None:
    with st.expander("Next segments a new annotator would get", icon=":material/format_list_numbered:"):
        if not order:
            st.text("No segment has room for another annotator.")
            return
        st.dataframe([{**row, "first": row["rank"] < 0} for row in order], hide_index=True, width="stretch")

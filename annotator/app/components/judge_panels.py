"""Panels of the Judge lab: the runs, starting one (with a dry run first), watching and stopping it,
comparing judges against gold or a rater, their errors on one mode, and the diff of two prompts.
Session keys start with `jl_`.

A run executes in a background thread of the server (annotator.judge.start_run_thread) with its own
database connection; this page only reads its progress from the database, polling in a fragment while
it runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from annotator import judge, store
from annotator.app import auth, state
from annotator.app.components.segment_view import show_text
from annotator.app.viewmodels import judge_forms, report_views
from annotator.app.viewmodels.text import md_literal, plain, plain_body
from annotator.core.errors import UserError
from annotator.services import judgelab

ACTIVE_RUN = "jl_active_run"  # the run this session started (or is watching)
COMPARED = "jl_compare"  # (choices, result or error) of the last comparison
POLL_S = 1.0
ERRORS_SHOWN = 50
ERROR_TEXT_PX = 360  # a segment's text scrolls inside its error, so the list stays short


def show_runs(runs: list[dict]) -> None:
    st.subheader("Runs")
    if not runs:
        st.caption("No judge runs yet: start one below, or with `annotator judge run`.")
        return
    st.dataframe(judge_forms.run_rows(runs), hide_index=True, width="stretch")


def _form_options(taxonomy: str) -> judge.JudgeOptions:
    ss = st.session_state
    return judge_forms.run_options(model=ss["jl_model"], api_base=ss["jl_api_base"], prompt=Path(ss["jl_prompt"]),
                                   segments=ss["jl_segments"], limit=ss["jl_limit"], concurrency=ss["jl_concurrency"],
                                   samples=ss["jl_samples"], taxonomy=taxonomy, temperature=ss.get("jl_temperature"),
                                   input_price=ss.get("jl_input_price"), output_price=ss.get("jl_output_price"))


def _dry_run(taxonomy: str) -> None:
    try:
        options = _form_options(taxonomy)
        with state.open_db() as db:
            estimate = judge.dry_run(db, options)
    except UserError as exc:
        st.session_state["jl_message"] = ("error", f"Dry run failed: {exc}")
        return
    st.session_state["jl_message"] = ("info", "\n\n".join([f"Dry run of {estimate.rater}:",
                                                            *judge_forms.estimate_lines(estimate)]))


def _start(taxonomy: str) -> None:
    try:
        options = _form_options(taxonomy)
        run_id = judge.start_run_thread(state.db_path(), options, actor=auth.acting_user())
    except UserError as exc:
        st.session_state["jl_message"] = ("error", f"Not started: {exc}")
        return
    st.session_state[ACTIVE_RUN] = run_id
    st.session_state["jl_message"] = ("success", f"Run {run_id} started.")


def show_start(taxonomy: str) -> None:
    """The run form. Keys are read from the server's environment, so there is no key field."""
    st.subheader("Start a run")
    prompts = [str(p) for p in judge_forms.prompt_files()]
    with st.form("jl_start", border=True):
        model_col, base_col = st.columns(2)
        model_col.text_input("Model (litellm name)", key="jl_model", placeholder="openai/gpt-4o-mini")
        base_col.text_input("API base (optional)", key="jl_api_base", placeholder="http://127.0.0.1:8000/v1")
        prompt_col, seg_col = st.columns(2)
        prompt_col.selectbox("Prompt", prompts, key="jl_prompt", format_func=judge_forms.prompt_label)
        seg_col.radio("Segments", ("all", "gold", "unlabelled"), key="jl_segments", horizontal=True,
                      help="all: the queued segments; gold: segments with gold labels; unlabelled: queued "
                           "segments no person has finished")
        limit_col, conc_col, samples_col = st.columns(3)
        limit_col.number_input("Limit (0: none)", min_value=0, value=0, step=10, key="jl_limit")
        conc_col.number_input("Concurrency", min_value=1, max_value=64, value=8, key="jl_concurrency")
        samples_col.number_input("Samples per segment", min_value=1, max_value=20, value=1, key="jl_samples",
                                 help="More than 1 measures the judge's agreement with itself")
        temp_col, in_col, out_col = st.columns(3)
        temp_col.number_input("Temperature", min_value=0.0, max_value=2.0, value=None, step=0.1, key="jl_temperature",
                              placeholder="the prompt's", help="Empty: the prompt's front matter decides")
        in_col.number_input("Input price, USD per 1M tokens", min_value=0.0, value=None, step=0.1,
                            key="jl_input_price", placeholder="litellm's price list",
                            help="For models litellm does not know; give both prices or neither")
        out_col.number_input("Output price, USD per 1M tokens", min_value=0.0, value=None, step=0.1,
                             key="jl_output_price", placeholder="litellm's price list",
                             help="For models litellm does not know; give both prices or neither")
        dry_col, start_col, _ = st.columns([1, 1, 3])
        dry_col.form_submit_button("Dry run", icon=":material/calculate:", on_click=_dry_run, args=(taxonomy,),
                                   width="stretch")
        start_col.form_submit_button("Start", type="primary", icon=":material/play_arrow:", on_click=_start,
                                     args=(taxonomy,), width="stretch")
    found = judge_forms.keys_present(os.environ)
    st.caption("API keys come only from the server's environment, never from this page. "
               + (f"Set there: {', '.join(found)}." if found else "No provider key variable is set there "
                                                                  "(fine for local servers)."))
    if message := st.session_state.pop("jl_message", None):
        kind, text = message
        # the text quotes the model name typed in the form and the error it caused
        {"error": st.error, "info": st.info, "success": st.success}[kind](md_literal(text, multiline=True))


def _stop(run_id: int) -> None:
    if not judge.stop_run(run_id):
        st.session_state["jl_message"] = ("error", f"Run {run_id} is not running in this server; "
                                                   "a run started from the command line stops with Ctrl-C.")


def watched_run(runs: list[dict]) -> int | None:
    """The run to watch: the one this session started, else the newest one still running."""
    if st.session_state.get(ACTIVE_RUN) is not None:
        return st.session_state[ACTIVE_RUN]
    return next((r["run_id"] for r in runs if r["status"] in judge_forms.ACTIVE), None)


def show_progress(run_id: int | None, *, active: bool) -> None:
    """Progress of a run; polls every second (a fragment rerun) while the run is active."""
    if run_id is None:
        return
    st.fragment(run_every=POLL_S if active else None)(_progress)(run_id, active)


def _progress(run_id: int, was_active: bool) -> None:
    with state.open_db() as db:
        progress = judge.run_progress(db, run_id)
    active = progress["status"] in judge_forms.ACTIVE
    with st.container(border=True, key="jl_progress"):
        st.markdown(f"**Run {run_id}**")
        st.text(plain(progress["rater"]))
        st.progress(judge_forms.answered_fraction(progress), text=judge_forms.progress_text(progress))
        if progress["status"] == "done" and progress["failed"]:
            st.warning(f"{progress['failed']:,} calls failed after retries: start the same run again to retry "
                       "only those.", icon=":material/warning:")
        if progress["error"]:
            st.error("The run failed:" if progress["status"] == "failed" else "The run ended with an error:",
                     icon=":material/error:")
            st.text(plain_body(progress["error"]))  # it may quote a provider's answer: plain text only
        for error in progress["recent_errors"][:3]:
            st.text(plain_body(f"segment {error.get('segment_id')}: {error.get('error')}"))
        if active:
            st.button("Stop", key=f"jl_stop_{run_id}", icon=":material/stop:", on_click=_stop, args=(run_id,))
    if was_active and not active:
        st.rerun()  # the whole page: the runs table shows the finished run, and polling stops


def _compare(taxonomy: str) -> None:
    """Run the comparison with the form's values (read here: a form's values arrive with its submit)."""
    ss = st.session_state
    choices = {"raters": list(ss["jl_raters"]), "against": ss["jl_against"],
               "split": "test" if ss.get("jl_use_test") else ss["jl_split_choice"], "taxonomy": taxonomy,
               "bootstrap": int(ss["jl_bootstrap"])}
    try:
        with state.open_db() as db:
            result = judgelab.compare_judges(db, choices["raters"], against=choices["against"],
                                             split=choices["split"], taxonomy=taxonomy,
                                             bootstrap=choices["bootstrap"])
    except UserError as exc:
        ss[COMPARED] = (choices, str(exc))
        return
    ss[COMPARED] = (choices, result)


def _split_gold(taxonomy: str) -> None:
    from annotator.services.gold import split_gold

    with state.open_db() as db:
        sizes = split_gold(db, taxonomy=taxonomy, actor=auth.acting_user())
    st.session_state["jl_split_made"] = f"Split made: {sizes['dev']} dev and {sizes['test']} test segments."


def show_compare_form(db, taxonomy: str, runs: list[dict]) -> None:
    """Judges (the newest two with labels chosen; failed runs marked), the reference (gold or a person), the
    split (dev by default; test behind a toggle)."""
    raters = store.list_raters(db)
    judges = [r.name for r in raters if r.kind == "judge"]
    empty = judge_forms.judges_without_labels(runs)
    people = [r.name for r in raters if r.kind == "human"]
    if not judges:
        st.caption("No judge raters yet: start a run first.")
        return
    stored = store.get_taxonomy(db, taxonomy)
    if not store.get_split(db, stored.id):
        st.caption("The gold set has no dev/test split yet: the dev split needs one.")
        st.button("Split gold into dev and test (30% test)", key="jl_split", on_click=_split_gold, args=(taxonomy,))
    if made := st.session_state.pop("jl_split_made", None):
        st.success(made)
    use_test = st.toggle("Use the test split", key="jl_use_test",
                         help="Tune prompts on dev. Every look at test makes it a little less of a test.")
    if use_test:
        st.warning("Test split: look rarely, and do not tune the prompt on what you see here.",
                   icon=":material/warning:")
    with st.form("jl_compare_form", border=True):
        st.multiselect("Judges (in order: the change is from the previous one)", judges,
                       default=[j for j in judges if j not in empty][-2:], key="jl_raters",
                       format_func=lambda j: plain(f"{j} (failed run: no labels)" if j in empty else j))
        against_col, split_col, boot_col = st.columns([2, 2, 1])
        against_col.selectbox("Against", ["gold", *people], key="jl_against")
        if use_test:
            split_col.text_input("Split", value="test", disabled=True, key="jl_split_test")
        else:
            split_col.radio("Split", ("dev", "all"), horizontal=True, key="jl_split_choice")
        boot_col.number_input("Bootstrap", min_value=0, max_value=5000, value=500, step=100, key="jl_bootstrap")
        st.form_submit_button("Compare", type="primary", icon=":material/compare_arrows:", on_click=_compare,
                              args=(taxonomy,))


def show_comparison() -> dict | None:
    """The last comparison: leakage warnings, kappa per mode and judge (chart and table), pooled figures."""
    if COMPARED not in st.session_state:
        return None
    choices, result = st.session_state[COMPARED]
    if isinstance(result, str):
        st.error(md_literal(f"Could not compare: {result}"))
        return None
    for line in judge_forms.leakage_lines(result):
        st.warning(line, icon=":material/report:")
    st.caption(f"{md_literal(result['taxonomy'])} · against {md_literal(result['against'])} · "
               f"{result['split']} split · "
               f"{result['segments']} segments · bootstrap {result['params']['bootstrap']} · resampling "
               f"{result['params']['resample']}s ({md_literal(result['params']['resample_reason'])})")
    rows = judge_forms.chart_rows(result)
    if rows["kappa"].notna().any():
        st.altair_chart(report_views.kappa_chart(rows, color_title="judge against the reference"), width="stretch")
    st.dataframe(judge_forms.overall_rows(result), hide_index=True, width="stretch")
    table = judge_forms.compare_rows(result)
    st.dataframe(table, hide_index=True, width="stretch", height=35 * (min(len(table), 28) + 1) + 3,
                 column_config={"mode": st.column_config.TextColumn(pinned=True)})
    return {**choices, "modes": [(m["code"], m["name"]) for m in result["modes"]]}


def show_errors(db, compared: dict) -> None:
    """One judge's false positives and negatives on one mode, with the segment text and its evidence."""
    st.subheader("Where a judge is wrong")
    judge_col, mode_col = st.columns(2)
    rater = judge_col.selectbox("Judge", compared["raters"], key="jl_err_judge")
    names = dict(compared["modes"])
    code = mode_col.selectbox("Mode", list(names), key="jl_err_mode", format_func=lambda c: plain(f"{c} {names[c]}"))
    try:
        errors = judgelab.judge_errors(db, rater, code, against=compared["against"], split=compared["split"],
                                       taxonomy=compared["taxonomy"], limit=ERRORS_SHOWN)
    except UserError as exc:
        st.error(md_literal(exc))
        return
    fp = sum(e["error"] == "false positive" for e in errors)
    st.caption(f"{fp} false positives, {len(errors) - fp} false negatives"
               + (f" (the first {ERRORS_SHOWN})" if len(errors) >= ERRORS_SHOWN else ""))
    for error in errors:
        title = f"{error['error']} · segment {error['segment_id']} · trace {md_literal(error['trace_id'], limit=60)}"
        with st.expander(title, icon=":material/error_outline:"):
            st.caption("The judge's evidence" if error["evidence"] else "No evidence: the judge said absent.")
            if error["evidence"]:
                st.text(plain_body(error["evidence"]))
            with st.container(height=ERROR_TEXT_PX):
                show_text(error["text"], f"jl_err_{rater}_{code}_{error['segment_id']}")


def show_diff(runs: list[dict]) -> None:
    """The unified diff of two prompt versions that runs used (their text is stored with the run)."""
    versions = judge_forms.prompt_versions(runs)
    if len(versions) < 2:
        st.caption("Runs have used one prompt version so far; edit a prompt in prompts/ and run it to compare.")
        return
    keys = list(versions)
    old_col, new_col = st.columns(2)
    old = old_col.selectbox("From", keys, index=len(keys) - 2, key="jl_diff_a", format_func=versions.get)
    new = new_col.selectbox("To", keys, index=len(keys) - 1, key="jl_diff_b", format_func=versions.get)
    with state.open_db() as db:
        diff = judgelab.prompt_diff(db, old, new)
    if diff:
        st.code(diff, language="diff")
    else:
        st.caption("The two versions are identical.")

"""The Judge lab page through AppTest: runs started from the page against a local OpenAI-compatible
server (progress, stop), and judges compared against gold (kappa, P/R/F1, errors, prompt diff, leakage)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from app_helpers import add_other_labels, add_trace, button, make_app_db, shown, signed_in, texts
from helpers import wait_until
from judge_helpers import MAST_CODES

from annotator import store
from annotator.app.viewmodels import judge_forms
from annotator.judge import JudgeOptions, run_judge, run_progress
from annotator.judge.prompt import DEFAULT_PROMPT
from annotator.services.gold import build_gold

# turn segments 2, 3, 5, 6, 8, 9 are queued
pytestmark = pytest.mark.app_db(traces=3, turns=2, k=2)


def _fill_run_form(at, server, **values) -> None:
    at.text_input(key="jl_model").input(values.get("model", "openai/test-model"))
    at.text_input(key="jl_api_base").input(server.base_url)
    at.number_input(key="jl_concurrency").set_value(values.get("concurrency", 2))


def _wait_for(at, db, run_id: int, statuses: tuple[str, ...], timeout: float = 90) -> dict:
    """Rerun the page (as the polling fragment would) until the run reaches one of `statuses`."""
    def rerun_and_read() -> dict:
        at.run()
        assert not at.exception, at.exception
        return run_progress(db, run_id)

    return wait_until(rerun_and_read, until=lambda progress: progress["status"] in statuses, timeout=timeout,
                      what=f"run {run_id} {' or '.join(statuses)}", interval=0.2)


def test_start_a_run_from_the_page_and_watch_it_finish(app_tokens, app_db, llm_server):
    at = signed_in(app_tokens["lead"], "views/judge_lab.py")
    _fill_run_form(at, llm_server)
    button(at, "Start").click().run()
    assert not at.exception and "started" in shown(at.success[0].value)
    run_id = at.session_state["jl_active_run"]
    assert any(f"Run {run_id}" in shown(m.value) for m in at.markdown)  # the progress panel
    progress = _wait_for(at, app_db, run_id, ("done", "error"))
    assert progress["status"] == "done" and progress["finished"] == progress["total"] == 6
    at.run()
    assert any("done: 6 / 6 done" in str(p.proto) for p in at.get("progress"))
    runs = at.dataframe[0].value
    assert list(runs["status"]) == ["done"] and runs["rater"][0].startswith("judge:openai/test-model@")
    assert not [b for b in at.button if b.label == "Stop"]
    assert app_db.execute("SELECT COUNT(DISTINCT segment_id) FROM labels l JOIN raters r ON r.id = l.rater_id"
                      " WHERE r.kind = 'judge'").fetchone() == (6,)
    assert llm_server.count == 6


def test_dry_run_calls_nothing(app_tokens, app_db, llm_server):
    at = signed_in(app_tokens["lead"], "views/judge_lab.py")
    _fill_run_form(at, llm_server)
    at.radio(key="jl_segments").set_value("all")
    at.number_input(key="jl_limit").set_value(4)
    button(at, "Dry run").click().run()
    assert not at.exception and "4 calls to make" in shown(at.info[0].value)
    assert llm_server.count == 0 and not store.list_judge_runs(app_db)


def test_bad_run_input_is_refused_and_no_key_is_asked_for(app_tokens, app_db):
    at = signed_in(app_tokens["lead"], "views/judge_lab.py")
    button(at, "Start").click().run()
    assert "Not started: give a model" in shown(at.error[0].value) and not store.list_judge_runs(app_db)
    fields = [(t.label.lower(), t.proto.type) for t in at.text_input]
    assert not [f for f in fields if "key" in f[0] or f[1] == 1]  # no key field, no password field
    assert "API keys come only from the server's environment" in texts(at)
    with pytest.raises(ValueError, match="choose a prompt from prompts/"):
        judge_forms.run_options(model="m", api_base="", prompt=Path("/etc/passwd.md"), segments="all", limit=0,
                                concurrency=1, samples=1, taxonomy="mast")


def test_stop_a_running_run(tmp_path, monkeypatch, llm_server):
    path = tmp_path / "slow.db"
    monkeypatch.setenv("ANNOTATOR_DB", str(path))
    tokens = make_app_db(path, traces=0)
    db = store.connect(path)
    add_trace(db, "slow", [("Agent", f"step {i} [[scenario:hang]]") for i in range(6)])
    at = signed_in(tokens["lead"], "views/judge_lab.py")
    _fill_run_form(at, llm_server, concurrency=1)
    button(at, "Start").click().run()
    run_id = at.session_state["jl_active_run"]
    button(at, "Stop").click().run()
    progress = _wait_for(at, db, run_id, ("stopped", "done", "error"))
    assert progress["status"] == "stopped" and progress["finished"] < 6
    db.conn.close()


# --------------------------------------------------------------------------------------------------
# Comparing judges

def _answer(present: set[str]) -> str:
    return json.dumps({"modes": {c: {"present": c in present, "evidence": "step 1" if c in present else ""}
                                 for c in MAST_CODES}, "summary": ""})


def _prompt(tmp_path: Path, name: str, *, extra: str = "", examples: str = "") -> Path:
    """A variant of the default prompt (any change makes a new prompt version)."""
    text = DEFAULT_PROMPT.read_text(encoding="utf-8")
    front_end = text.index("\n---", 3)
    text = text[:front_end] + examples + text[front_end:] + extra
    path = tmp_path / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def _two_judges(db, tmp_path) -> tuple[str, str]:
    """Gold: 1.1 on segments 2, 5, 8 (two people agree). Split: 2, 3 test; 5, 6, 8, 9 dev.
    Judge v1 marks 1.1 on 2, 5, 6 (dev: FP on 6, FN on 8); v2 on 2, 5, 8 and its prompt shows
    segment 2 as a few-shot example (a test segment: leakage)."""
    for seg in (2, 3, 5, 6, 8, 9):
        for person in ("annotator_1", "annotator_2"):
            add_other_labels(db, seg, person, {"1.1"} if seg in (2, 5, 8) else set())
    build_gold(db)
    store.save_split(db, store.get_taxonomy(db, "mast").id, {2: "test", 3: "test", 5: "dev", 6: "dev", 8: "dev",
                                                               9: "dev"}, seed=0)
    leaked = json.dumps(store.get_segment(db, 2).text)
    prompts = [_prompt(tmp_path, "v1", extra="\nBe careful.\n"),
               _prompt(tmp_path, "v2", examples=f"\nexamples:\n  - text: {leaked}\n    labels: {{'1.1': 1}}")]
    raters = []
    for prompt, marked in zip(prompts, ({2, 5, 6}, {2, 5, 8})):
        mocks = {seg: _answer({"1.1"} if seg in marked else set()) for seg in (2, 3, 5, 6, 8, 9)}
        result = run_judge(db, JudgeOptions(model="openai/mock-model", prompt_path=prompt, mock_responses=mocks))
        assert result.status == "done", result.error
        raters.append(result.rater)
    return raters[0], raters[1]


def test_compare_two_runs_against_gold_on_dev(app_tokens, app_db, tmp_path):
    v1, v2 = _two_judges(app_db, tmp_path)
    at = signed_in(app_tokens["lead"], "views/judge_lab.py")
    assert at.multiselect(key="jl_raters").value == [v1, v2] and at.radio(key="jl_split_choice").value == "dev"
    at.number_input(key="jl_bootstrap").set_value(50)
    button(at, "Compare").click().run()
    assert not at.exception and not at.error
    assert any("dev split · 4 segments" in shown(c.value) for c in at.caption)
    assert any(v2 in shown(w.value) and "test-split" in shown(w.value) for w in at.warning)  # leakage
    rows = next(d.value for d in at.dataframe if "kappa [95% CI]" in d.value.columns)
    one = rows[rows["mode"].str.startswith("1.1 ")].set_index("judge")
    assert one.loc[v1, "kappa [95% CI]"].startswith("0.00") and one.loc[v2, "kappa [95% CI]"].startswith("1.00")
    assert one.loc[v2, "change [95% CI]"].startswith("+1.00 [") and one.loc[v1, "change [95% CI]"] == ""
    assert one.loc[v1, "precision [95% CI]"].startswith("0.50 [") and one.loc[v1, "recall [95% CI]"].startswith("0.50 [")
    assert at.get("vega_lite_chart")
    at.selectbox(key="jl_err_judge").set_value(v1)
    at.selectbox(key="jl_err_mode").set_value("1.1").run()
    titles = [e.label for e in at.expander]
    assert "false positive · segment 6 · trace trace\\-1" in titles
    assert "false negative · segment 8 · trace trace\\-2" in titles
    assert any(t.value == "step 1" for t in at.text)  # the judge's evidence for its false positive


def test_the_test_split_is_behind_a_toggle(app_tokens, app_db, tmp_path):
    _two_judges(app_db, tmp_path)
    at = signed_in(app_tokens["lead"], "views/judge_lab.py")
    assert not at.warning
    at.toggle(key="jl_use_test").set_value(True).run()
    assert "Test split: look rarely" in shown(at.warning[0].value)
    at.number_input(key="jl_bootstrap").set_value(0)
    button(at, "Compare").click().run()
    assert any("test split · 2 segments" in shown(c.value) for c in at.caption)


def test_prompt_diff_of_two_versions(app_tokens, app_db, tmp_path):
    _two_judges(app_db, tmp_path)
    at = signed_in(app_tokens["lead"], "views/judge_lab.py")
    [code] = at.code
    assert code.language == "diff" and "-Be careful." in code.value and "+examples:" in code.value


def test_compare_without_gold_is_a_clear_message(app_tokens, app_db):
    add_other_labels(app_db, 2, "judge:m@v", {"1.1"}, kind="judge")
    at = signed_in(app_tokens["lead"], "views/judge_lab.py")
    at.radio(key="jl_split_choice").set_value("all")
    button(at, "Compare").click().run()
    assert "Could not compare: no gold labels" in shown(at.error[0].value)


def test_judge_form_helpers():
    from annotator.judge import Estimate

    options = judge_forms.run_options(model=" openai/x ", api_base=" ", prompt=DEFAULT_PROMPT, segments="gold",
                                      limit=0, concurrency=3, samples=2, taxonomy="mast")
    assert (options.model, options.api_base, options.limit, options.segments) == ("openai/x", None, None, "gold")
    with pytest.raises(ValueError, match="concurrency"):
        judge_forms.run_options(model="m", api_base="", prompt=DEFAULT_PROMPT, segments="all", limit=0,
                                concurrency=0, samples=1, taxonomy="mast")
    lines = judge_forms.estimate_lines(Estimate("judge:x@1", total=10, cached=4, calls=6, prompt_tokens=1200,
                                                completion_tokens=300, truncated=1, cost=None, input_limit=1000))
    assert lines[0].startswith("6 calls to make, 4 answers cached") and "cost n/a (price unknown)" in lines[1]
    assert "1 segments are longer" in lines[2]
    assert judge_forms.keys_present({"OPENAI_API_KEY": "sk-secret", "ANTHROPIC_API_KEY": ""}) == ["OPENAI_API_KEY"]
    priced = judge_forms.run_options(model="m", api_base="", prompt=DEFAULT_PROMPT, segments="all", limit=0,
                                     concurrency=1, samples=1, taxonomy="mast", temperature=0.3, input_price=0.15,
                                     output_price=0.6)  # USD per million tokens, as providers quote them
    assert priced.temperature == 0.3 and priced.input_cost_per_token == pytest.approx(0.15 / 1_000_000)
    assert priced.output_cost_per_token == pytest.approx(0.6 / 1_000_000)
    with pytest.raises(ValueError, match="give both"):
        judge_forms.run_options(model="m", api_base="", prompt=DEFAULT_PROMPT, segments="all", limit=0,
                                concurrency=1, samples=1, taxonomy="mast", input_price=0.15)
    runs = [{"rater": "judge:dead@1", "status": "failed", "cached": 0, "done": 0},
            {"rater": "judge:ok@1", "status": "done", "cached": 0, "done": 3},
            {"rater": "judge:retried@1", "status": "failed", "cached": 0, "done": 0},
            {"rater": "judge:retried@1", "status": "done", "cached": 2, "done": 0},
            {"rater": "judge:busy@1", "status": "running", "cached": 0, "done": 0}]
    assert judge_forms.judges_without_labels(runs) == {"judge:dead@1"}
    assert judge_forms.answered_fraction({"total": 4, "cached": 1, "done": 0, "failed": 3, "fraction": 1.0}) == 0.25
    [line] = judge_forms.leakage_lines({"leakage": {"judge:**bold**$x$@1": [7], "judge:b@2": []}})
    assert shown(line).startswith("judge:**bold**$x$@1: ") and "7" in line
    assert not re.search(r"(?<!\\)[*$]", line)  # nothing in the name formats


def test_a_run_whose_every_call_failed_shows_failed_with_its_cause(app_tokens, app_db):
    """Nothing listens on the API base: the page's progress bar and runs table say failed, and why."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    sock.close()
    at = signed_in(app_tokens["lead"], "views/judge_lab.py")
    at.text_input(key="jl_model").input("openai/test-model")
    at.text_input(key="jl_api_base").input(closed)
    at.number_input(key="jl_limit").set_value(2)
    button(at, "Start").click().run()
    run_id = at.session_state["jl_active_run"]
    progress = _wait_for(at, app_db, run_id, ("done", "failed", "error"), timeout=400)  # retries back off
    assert progress["status"] == "failed" and "connection refused" in progress["error"]
    at.run()
    [bar] = [p for p in at.get("progress") if "failed: 2 / 2 done, 2 failed" in str(p.proto)]
    assert bar.proto.value == 0  # no call answered: the bar stays empty, not full
    assert any("The run failed" in e.value for e in at.error)
    assert list(at.dataframe[0].value["status"]) == ["failed"]
    add_other_labels(app_db, 2, "judge:imported@1", {"1.1"}, kind="judge")  # a judge with labels
    raters = signed_in(app_tokens["lead"], "views/judge_lab.py").multiselect(key="jl_raters")
    assert raters.value == ["judge:imported@1"]  # the failed run's judge is not pre-selected
    assert any(option.endswith("(failed run: no labels)") for option in raters.options)

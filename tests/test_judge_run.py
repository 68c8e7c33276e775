"""The judge against a local OpenAI-compatible server and litellm mock_response: calls, retries, cache,
labels, cost, truncation, selection, samples, background runs and the recorded demo run."""

from __future__ import annotations

import gc
import json
import time

import pytest
from helpers import wait_until
from judge_helpers import MAST_CODES, MODEL, fast_options, labels_of

from annotator import store
from annotator.judge import (
    JudgeOptions,
    dry_run,
    list_runs,
    plan_run,
    rater_self_agreement,
    run_judge,
    run_progress,
    start_run_thread,
    stop_run,
    wait_run,
)
from annotator.judge.prompt import load_prompt
from annotator.services.demo import record_demo_run

RATER = f"judge:{MODEL}@{load_prompt().version}"


def calls(db, run_id=None) -> list[dict]:
    where, args = ("WHERE run_id = ?", [run_id]) if run_id else ("", [])
    cur = db.execute(f"SELECT * FROM judge_calls {where} ORDER BY id", args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur]


def test_labels_with_evidence_become_ordinary_judge_labels(llm_server, judge_db):
    db, (seg,) = judge_db(["Agent A: hi [[present:1.3,2.2]]"])
    result = run_judge(db, fast_options(llm_server))
    assert result.status == "done" and result.stats.done == 1 and llm_server.count == 1
    labels = labels_of(db, RATER, seg)
    assert set(labels) == set(MAST_CODES)
    assert {c for c, (v, _) in labels.items() if v} == {"1.3", "2.2"}
    assert labels["1.3"][1] == "quoted line" and labels["1.1"][1] is None
    rater = store.get_rater(db, RATER)
    assert rater.kind == "judge" and rater.model == MODEL and rater.prompt_version == load_prompt().version
    (call,) = calls(db)
    assert call["attempts"] == 1 and call["error"] is None and call["prompt_tokens"] > 0 and call["latency_ms"] > 0
    assert json.loads(call["parsed"])["modes"]["1.3"]["present"] is True
    assert json.loads(call["request"])["messages"][1]["content"].count("[[present:1.3,2.2]]") == 1
    status = db.execute("SELECT status FROM submissions s JOIN raters r ON r.id = s.rater_id WHERE r.name = ?",
                        [RATER]).fetchall()
    assert status == [("done",)]


@pytest.mark.parametrize("scenario, ok, attempts", [
    ("fence", True, 1), ("flaky429", True, 2), ("flaky500", True, 2), ("missing_then_ok", True, 2),
    ("hang_then_ok", True, 2),
    ("missing", False, 3), ("unknown", False, 3), ("prose", False, 3), ("nonbool", False, 3), ("err500", False, 3),
])
def test_scripted_server_behaviours(llm_server, judge_db, scenario, ok, attempts):
    db, (seg,) = judge_db([f"trace text [[scenario:{scenario}]] [[present:1.1]]"])
    result = run_judge(db, fast_options(llm_server, timeout=1.0))
    (call,) = calls(db)
    assert llm_server.count == attempts and call["attempts"] == attempts
    if ok:
        assert result.stats.done == 1 and call["error"] is None and labels_of(db, RATER, seg)["1.1"][0] == 1
        assert len(json.loads(call["attempt_errors"])) == attempts - 1
    else:
        # never "absent": no labels, no submission; the error and the raw answer are kept
        assert result.stats.failed == 1 and call["parsed"] is None and call["error"]
        assert labels_of(db, RATER, seg) == {}
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
        if scenario != "err500":
            assert call["raw_response"]
        assert len(json.loads(call["attempt_errors"])) == attempts - 1


def test_hang_past_timeout_is_retried_then_recorded(llm_server, judge_db):
    from annotator.judge import llm

    llm.lib()  # import litellm first: its import time is not what this measures
    db, _ = judge_db(["[[scenario:hang]]"])
    llm_server.hang_s = 20.0
    began = time.perf_counter()
    result = run_judge(db, fast_options(llm_server, timeout=0.5, max_attempts=2))
    # two attempts cut at 0.5 s take about 1 s (a few on a loaded machine); waiting out the hang, 40 s
    assert time.perf_counter() - began < 15.0
    (call,) = calls(db)
    assert result.stats.failed == 1 and call["attempts"] == 2 and "Timeout" in call["error"]


def test_rerun_makes_no_call_for_a_finished_segment(llm_server, judge_db):
    db, _ = judge_db([f"trace {i} [[present:1.1]]" for i in range(6)] + ["[[scenario:prose]]"])
    first = run_judge(db, fast_options(llm_server))
    assert first.stats.done == 6 and first.stats.failed == 1
    sent = llm_server.count
    second = run_judge(db, fast_options(llm_server, concurrency=2, timeout=5, api_base=llm_server.base_url + "/"))
    # only the failed segment is tried again; concurrency, timeout and api_base are not in the cache key
    assert second.stats.cached == 6 and llm_server.count == sent + 3
    third = run_judge(db, fast_options(llm_server))
    assert third.stats.cached == 6 and third.stats.done == 0 and llm_server.count == sent + 6


def test_changed_parameters_prompt_or_text_miss_the_cache(llm_server, judge_db, tmp_path):
    db, _ = judge_db(["one [[present:1.1]]", "two"])
    run_judge(db, fast_options(llm_server))
    assert llm_server.count == 2
    run_judge(db, fast_options(llm_server, temperature=0.7))
    assert llm_server.count == 4
    edited = tmp_path / "edited.md"
    edited.write_text(load_prompt().path.read_text() + "\nBe brief.\n")
    result = run_judge(db, fast_options(llm_server, prompt_path=edited))
    assert llm_server.count == 6 and result.rater != RATER
    run_judge(db, fast_options(llm_server, refresh=True))
    assert llm_server.count == 8


def test_concurrency_is_bounded_and_used(llm_server, judge_db):
    db, _ = judge_db([f"t{i} [[latency:0.2]]" for i in range(12)])
    run_judge(db, fast_options(llm_server, concurrency=4))
    assert llm_server.max_in_flight == 4


def test_the_heap_is_left_out_of_garbage_collection_while_a_run_goes_and_handed_back_after(llm_server, judge_db):
    """A full collection during the run walks only what the run made, not litellm's millions of objects."""
    db, _ = judge_db([f"t{i}" for i in range(6)])
    frozen_during = []
    before = gc.get_freeze_count()
    result = run_judge(db, fast_options(llm_server, concurrency=2),
                       on_progress=lambda stats: frozen_during.append(gc.get_freeze_count()))
    assert result.stats.done == 6 and frozen_during
    # a report per answer, each made with litellm's objects frozen (the first, before any call, may not be)
    assert sum(count > 100_000 for count in frozen_during) >= 6, frozen_during
    assert gc.get_freeze_count() == before == 0


def test_cost_accounting_with_a_registered_price(llm_server, judge_db):
    db, _ = judge_db(["a [[present:1.1]]", "b", "c [[scenario:flaky429]]"])
    # A model name of its own: litellm keeps a registered price for the rest of the process, and other
    # tests (in-process CLI runs) expect the test model to have no price.
    options = fast_options(llm_server, model="openai/priced-test-model", input_cost_per_token=2e-6,
                           output_cost_per_token=8e-6)
    estimate = dry_run(db, options)
    assert estimate.calls == 3 and estimate.cost == pytest.approx(
        estimate.prompt_tokens * 2e-6 + estimate.completion_tokens * 8e-6)
    assert llm_server.count == 0
    result = run_judge(db, options)
    # the reference is the server's own account of the tokens it answered (the 429 answer has none)
    assert len(llm_server.usages) == 3 and llm_server.count == 4
    expected = sum(prompt * 2e-6 + completion * 8e-6 for prompt, completion in llm_server.usages)
    assert result.stats.cost == pytest.approx(expected) and expected > 0
    progress = run_progress(db, result.run_id)
    assert progress["cost"] == pytest.approx(expected)
    assert progress["tokens"] == sum(prompt + completion for prompt, completion in llm_server.usages)


def test_unknown_price_is_none_not_zero(llm_server, judge_db):
    db, _ = judge_db(["a"])
    assert dry_run(db, fast_options(llm_server, model="openai/unpriced-model")).cost is None
    result = run_judge(db, fast_options(llm_server, model="openai/unpriced-model"))
    assert result.stats.cost is None and run_progress(db, result.run_id)["cost"] is None


def test_dry_run_sends_nothing_and_writes_nothing(llm_server, judge_db):
    db, _ = judge_db(["a", "b", "c"])
    before = db.execute("SELECT COUNT(*) FROM raters").fetchone()[0]
    estimate = dry_run(db, fast_options(llm_server, samples=2))
    assert (estimate.total, estimate.calls, estimate.cached) == (6, 6, 0) and estimate.prompt_tokens > 0
    assert llm_server.count == 0
    assert db.execute("SELECT COUNT(*) FROM raters").fetchone()[0] == before
    assert db.execute("SELECT COUNT(*) FROM judge_runs").fetchone()[0] == 0


def test_long_segment_is_cut_with_a_marker_and_flagged(llm_server, judge_db):
    body = "".join(f"turn {i}: the agent says something long enough to count\n" for i in range(3000))
    db, _ = judge_db(["START [[present:3.1]]\n" + body + "END OF TRACE\n"])
    result = run_judge(db, fast_options(llm_server, max_input_tokens=6000, max_tokens=500))
    (call,) = calls(db)
    assert result.stats.done == 1 and call["truncated"] == 1
    sent = json.loads(call["request"])["messages"][-1]["content"]
    assert "START" in sent and "END OF TRACE" in sent
    assert "characters cut ...]" in sent and "characters in its middle were cut" in sent
    import litellm  # the model's own count, as litellm makes it: not through the code under test

    assert litellm.token_counter(model=MODEL, messages=json.loads(call["request"])["messages"]) <= 6000 - 500


def test_structured_output_is_requested_where_supported(llm_server, judge_db):
    db, _ = judge_db(["a"])
    run_judge(db, fast_options(llm_server, structured_output="on"))
    sent = llm_server.requests[-1]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"]["properties"]["modes"]["required"] == MAST_CODES
    run_judge(db, fast_options(llm_server, temperature=0.3))  # auto: litellm does not know the test model
    assert "response_format" not in llm_server.requests[-1]


def test_selection_all_gold_unlabelled_and_limit(llm_server, judge_db):
    db, segs = judge_db(["a", "b", "c", "d"])
    mast = store.get_taxonomy(db, "mast")
    human = store.ensure_rater(db, "ann", "human")
    store.write_labels(db, store.LabelWrite(segs[0], human, mast.id, {m: 0 for m in mast.mode_ids.values()}))
    with store.write(db):
        db.execute("INSERT INTO gold (segment_id, mode_id, taxonomy_id, value, provenance, created_at)"
                   " VALUES (?, ?, ?, 1, 'adjudicated', 'now')", [segs[2], mast.mode_ids["1.1"], mast.id])
        db.execute("UPDATE segments SET queued = 0 WHERE id = ?", [segs[3]])
    picked = {name: [j.segment.id for j in plan_run(db, fast_options(llm_server, segments=name)).jobs]
              for name in ("all", "gold", "unlabelled")}
    assert picked == {"all": segs[:3], "gold": [segs[2]], "unlabelled": segs[1:3]}
    result = run_judge(db, fast_options(llm_server, limit=2))
    assert result.stats.total == 2 and llm_server.count == 2


def test_samples_are_stored_per_index_and_feed_self_agreement(llm_server, judge_db):
    db, segs = judge_db(["a [[present:1.1]]", "b"])
    result = run_judge(db, fast_options(llm_server, samples=3, temperature=1.0))
    assert result.stats.done == 6 and llm_server.count == 6
    assert sorted({(r["segment_id"], r["sample"]) for r in calls(db)}) == [(s, k) for s in segs for k in range(3)]
    for k in range(3):
        assert labels_of(db, RATER, segs[0], sample=k)["1.1"][0] == 1
    agreement = rater_self_agreement(db, RATER)
    first = agreement["modes"][0]
    assert agreement["segments"] == 2 and first["code"] == "1.1" and first["mean_pairwise_agreement"] == 1.0
    assert first["positive_rate"] == 0.5
    assert run_judge(db, fast_options(llm_server, samples=3, temperature=1.0)).stats.cached == 6


def test_mock_response_path_without_a_server(judge_db):
    db, segs = judge_db(["x", "y"])
    good = json.dumps({"modes": {c: {"present": c == "2.3", "evidence": "e" if c == "2.3" else ""}
                                 for c in MAST_CODES}, "summary": "ok"})
    options = JudgeOptions(model="openai/gpt-4o-mini", mock_responses={segs[0]: good, segs[1]: "no idea"},
                           max_attempts=2, backoff_base=0.01)
    result = run_judge(db, options)
    assert (result.stats.done, result.stats.failed) == (1, 1)
    assert labels_of(db, "judge:openai/gpt-4o-mini@" + load_prompt().version, segs[0])["2.3"] == (1, "e")
    assert result.stats.cost is not None and result.stats.cost > 0  # gpt-4o-mini's price is in litellm's map


def test_background_run_progress_and_list(llm_server, judge_db, tmp_path):
    _, _ = judge_db([f"t{i} [[latency:0.05]]" for i in range(8)], name="bg.db")
    db_path = tmp_path / "bg.db"
    run_id = start_run_thread(db_path, fast_options(llm_server, concurrency=2))
    db = store.connect(db_path)
    assert run_progress(db, run_id)["status"] in ("planning", "running", "done")
    assert wait_run(run_id, timeout=30)
    progress = run_progress(db, run_id)
    assert progress["status"] == "done" and progress["done"] == 8 and progress["fraction"] == 1.0
    assert progress["latency_p50_ms"] > 40 and progress["latency_p95_ms"] >= progress["latency_p50_ms"]
    (listed,) = list_runs(db)
    assert listed["rater"] == RATER and listed["done"] == 8 and listed["failed"] == 0


def test_background_run_can_be_stopped(llm_server, judge_db, tmp_path):
    judge_db([f"t{i} [[latency:0.3]]" for i in range(40)], name="stop.db")
    db_path = tmp_path / "stop.db"
    run_id = start_run_thread(db_path, fast_options(llm_server, concurrency=2))
    db = store.connect(db_path)
    wait_until(lambda: run_progress(db, run_id)["done"], until=lambda done: done >= 2, timeout=60,
               what="two segments judged")
    assert stop_run(run_id)
    assert wait_run(run_id, timeout=10)
    progress = run_progress(db, run_id)
    assert progress["status"] == "stopped" and 2 <= progress["done"] < 40
    assert not stop_run(run_id)


def test_record_demo_run_uses_the_real_path(judge_db, tmp_path):
    db, segs = judge_db(["Planner: do X\nCoder: did Y", "Agent: done"])
    responses = tmp_path / "judge_responses.jsonl"
    modes = {c: {"present": c == "3.2", "evidence": "Coder: did Y" if c == "3.2" else ""} for c in MAST_CODES}
    lines = [{"id": "t0", "response": {"modes": modes, "summary": "no check"}},
             {"id": "t1", "response": {"modes": {c: {"present": False, "evidence": ""} for c in MAST_CODES},
                                       "summary": "fine"}}]
    responses.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    run_id = record_demo_run(db, responses)
    progress = run_progress(db, run_id)
    assert progress["status"] == "done" and progress["done"] == 2 and progress["rater"].startswith(
        "judge:demo/recorded-judge@")
    assert progress["prompt_tokens"] > 100 and progress["latency_p50_ms"] is not None
    assert labels_of(db, progress["rater"], segs[0])["3.2"] == (1, "Coder: did Y")
    request = json.loads(calls(db, run_id)[0]["request"])
    assert "Planner: do X" in request["messages"][-1]["content"]


def test_record_demo_run_names_a_missing_trace(judge_db, tmp_path):
    db, _ = judge_db(["a"])
    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"id": "nope", "response": {"modes": {}, "summary": ""}}) + "\n")
    with pytest.raises(LookupError, match="'nope'"):
        record_demo_run(db, responses)


def test_m003_upgrades_a_database_with_judge_rows_from_m002(tmp_path):
    import sqlite3

    from annotator.store.schema import migrations

    path = tmp_path / "old.db"
    db = store.connect(path, migrate=False)
    migrations.apply(db, stop_before="m003_judge_progress")
    db.execute("INSERT INTO raters (name, kind, created_at) VALUES ('judge:x@1', 'judge', 'then')")
    db.execute("INSERT INTO taxonomies (name, version, fingerprint, created_at) VALUES ('mast', '1', 'f', 'then')")
    db.execute("INSERT INTO judge_runs (rater_id, taxonomy_id, model, prompt_path, prompt_version, started_at,"
               " status) VALUES (1, 1, 'x', 'p', '1', 'then', 'done')")
    db.conn.commit()
    db.conn.close()
    db = store.connect(path)
    (run,) = list_runs(db)
    assert (run["status"], run["total"], run["done"], run["cost"]) == ("done", 0, 0, None)
    plan = db.execute("EXPLAIN QUERY PLAN SELECT mode_id FROM labels WHERE segment_id = 1 AND rater_id = 1"
                      " AND taxonomy_id = 1 AND sample = 0").fetchall()
    assert "segment_id=?" in str(plan)  # write_labels' lookup is narrowed by segment, not a scan of the rater
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_real_mast_traces_long_ones_cut_to_fit(llm_server, tmp_path, mast_human_path):
    from annotator.core.taxonomy import load_taxonomy
    from annotator.ingest import import_file

    db = store.connect(tmp_path / "mast.db")
    store.save_taxonomy(db, load_taxonomy("mast"))
    import_file(db, mast_human_path)
    result = run_judge(db, fast_options(llm_server, concurrency=4, max_input_tokens=30_000, timeout=20))
    rows = calls(db)
    assert result.stats.done == len(rows) == db.execute("SELECT COUNT(*) FROM segments WHERE queued = 1").fetchone()[0]
    assert sum(r["truncated"] for r in rows) >= 1
    assert all(r["prompt_tokens"] for r in rows)
    unlabelled = run_judge(db, fast_options(llm_server, segments="unlabelled"))
    assert unlabelled.stats.total == 0  # every MAST trace has human labels


def test_an_error_that_hits_every_call_stops_the_run(llm_server, judge_db):
    db, _ = judge_db([f"t{i} [[scenario:auth]]" for i in range(20)])
    result = run_judge(db, fast_options(llm_server, concurrency=2))
    assert result.status == "error" and "AuthenticationError (401)" in result.error
    assert llm_server.count <= 2 and run_progress(db, result.run_id)["status"] == "error"


def test_an_unknown_provider_is_a_one_line_error_before_any_call(judge_db):
    db, _ = judge_db(["a"])
    with pytest.raises(ValueError, match="--model 'nosuchprovider/x'"):
        dry_run(db, JudgeOptions(model="nosuchprovider/x"))
    result = run_judge(db, JudgeOptions(model="nosuchprovider/x"))
    assert result.status == "error" and result.error.startswith("--model 'nosuchprovider/x'")


def test_api_key_env_names_the_variable_and_the_key_stays_out_of_the_database(llm_server, judge_db, monkeypatch):
    db, _ = judge_db(["a"])
    monkeypatch.setenv("MY_LOCAL_LLM_KEY", "local-key-0123456789")
    result = run_judge(db, fast_options(llm_server, api_key_env="MY_LOCAL_LLM_KEY"))
    assert result.stats.done == 1 and llm_server.auth_headers == ["Bearer local-key-0123456789"]
    dumped = "\n".join(db.conn.iterdump())
    assert "local-key-0123456789" not in dumped and "MY_LOCAL_LLM_KEY" not in dumped
    monkeypatch.delenv("MY_LOCAL_LLM_KEY")
    with pytest.raises(ValueError, match="--api-key-env MY_LOCAL_LLM_KEY"):
        run_judge(db, fast_options(llm_server, api_key_env="MY_LOCAL_LLM_KEY"))


def test_local_server_without_any_key_gets_a_placeholder(llm_server, judge_db, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    db, _ = judge_db(["a"])
    assert run_judge(db, fast_options(llm_server)).stats.done == 1
    assert llm_server.auth_headers == ["Bearer no-key"]

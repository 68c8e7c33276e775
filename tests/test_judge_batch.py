"""`judge run --batch` against a local OpenAI-compatible server with the files and batches endpoints
(tests/batch_server.py): answers stored as a live run stores them, partial failures, an expired and a
failed batch, polling with backoff on an injected clock, resume by the same command, refusal of a
provider litellm cannot batch, and batch prices."""

from __future__ import annotations

import json

import pytest
from batch_server import BatchServer
from helpers import run_cli
from judge_helpers import MAST_CODES, MODEL, fast_options, labels_of, make_judge_db

from annotator import store
from annotator.judge import run_judge
from annotator.judge.batch import Poller
from annotator.judge.batch_service import run_batch
from annotator.judge.prompt import load_prompt

RATER = f"judge:{MODEL}@{load_prompt().version}"
# OpenAI's published prices for gpt-4o-mini, USD per token: live, and through the Batch API (half)
GPT4O_MINI_LIVE = (0.15e-6, 0.60e-6)
GPT4O_MINI_BATCH = (0.075e-6, 0.30e-6)


@pytest.fixture
def batch_server():
    server = BatchServer(MAST_CODES).start()
    yield server
    server.stop()


class FakeClock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def poller(self, **kwargs) -> Poller:
        return Poller(sleep=self.sleep, clock=lambda: self.now, **kwargs)


def calls(db) -> list[dict]:
    cur = db.execute("SELECT * FROM judge_calls ORDER BY segment_id, sample")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur]


def test_batch_answers_are_stored_as_a_live_run_stores_them(batch_server, tmp_path):
    texts = ["Agent A: hi [[present:1.3,2.2]]", "Agent B: done [[present:3.1]]", "nothing wrong here"]
    db, ids = make_judge_db(tmp_path / "batch.db", texts)
    clock = FakeClock()
    result = run_batch(db, fast_options(batch_server, samples=2), poller=clock.poller(first=1.0))
    assert result.status == "done" and result.stats.done == 6
    assert batch_server.count == 0 and batch_server.batch_creates == 1  # no chat call: one batch of 6 lines
    assert len(batch_server.batches["batch_0001"]["_lines"]) == 6
    # the reference: a live run of the same segments on another database, through the chat endpoint
    live_db, live_ids = make_judge_db(tmp_path / "live.db", texts)
    run_judge(live_db, fast_options(batch_server, samples=2))
    assert batch_server.count == 6
    batch_calls, live_calls = calls(db), calls(live_db)
    for b, v in zip(batch_calls, live_calls, strict=True):
        assert b["cache_key"] == v["cache_key"] and b["parsed"] == v["parsed"] and b["error"] is None
        assert json.loads(b["request"]) == json.loads(v["request"])  # same rendered prompt, same stored request
    for seg, live_seg in zip(ids, live_ids):
        for sample in (0, 1):
            assert labels_of(db, RATER, seg, sample) == labels_of(live_db, RATER, live_seg, sample)
    assert {c for c, (v, _) in labels_of(db, RATER, ids[0]).items() if v} == {"1.3", "2.2"}
    # a later live run of the same segments finds every answer in the cache: zero requests
    before = batch_server.count
    again = run_judge(db, fast_options(batch_server, samples=2))
    assert again.stats.cached == 6 and again.stats.done == 0 and batch_server.count == before


def test_failed_lines_fail_their_segment_only_and_the_same_command_resubmits_only_them(batch_server, tmp_path):
    db, ids = make_judge_db(tmp_path / "partial.db", ["ok [[present:1.1]]", "boom [[scenario:batchfail]]",
                                                      "chatty [[scenario:prose]]", "fine"])
    clock = FakeClock()
    first = run_batch(db, fast_options(batch_server), poller=clock.poller(first=1.0))
    assert first.status == "done" and (first.stats.done, first.stats.failed) == (2, 2)
    by_segment = {c["segment_id"]: c for c in calls(db)}
    assert "scripted line failure" in by_segment[ids[1]]["error"] and by_segment[ids[1]]["parsed"] is None
    assert by_segment[ids[2]]["error"].startswith("invalid answer") and by_segment[ids[2]]["raw_response"]
    assert labels_of(db, RATER, ids[1]) == {} and labels_of(db, RATER, ids[2]) == {}
    second = run_batch(db, fast_options(batch_server), poller=clock.poller(first=1.0))
    resent = [line["custom_id"] for line in batch_server.batches["batch_0002"]["_lines"]]
    assert resent == [f"seg{ids[1]}-s0", f"seg{ids[2]}-s0"]  # only the failures go again
    assert second.stats.cached == 2 and batch_server.count == 0


def test_an_expired_batch_keeps_what_ran_and_fails_the_rest(tmp_path):
    server = BatchServer(MAST_CODES, ending="expired", expire_after=1).start()
    try:
        db, ids = make_judge_db(tmp_path / "expired.db", ["a [[present:2.1]]", "b", "c"])
        result = run_batch(db, fast_options(server), poller=FakeClock().poller(first=1.0))
    finally:
        server.stop()
    by_segment = {c["segment_id"]: c for c in calls(db)}
    assert by_segment[ids[0]]["parsed"] and labels_of(db, RATER, ids[0])["2.1"][0] == 1
    for seg in ids[1:]:
        assert "batch_expired" in by_segment[seg]["error"] and labels_of(db, RATER, seg) == {}
    (batch,) = store.run_judge_batches(db, result.run_id)
    assert (batch["status"], batch["stored"], batch["answered"]) == ("expired", 3, 1)


def test_a_failed_batch_fails_every_segment_with_its_reason(tmp_path):
    server = BatchServer(MAST_CODES, ending="failed").start()
    try:
        db, ids = make_judge_db(tmp_path / "failed.db", ["a", "b"])
        result = run_batch(db, fast_options(server), poller=FakeClock().poller(first=1.0))
    finally:
        server.stop()
    assert result.status == "failed" and "scripted validation failure" in result.error
    assert all("batch failed" in c["error"] for c in calls(db)) and len(calls(db)) == 2


def test_polling_backs_off_leaves_when_the_wait_runs_out_and_the_same_command_picks_it_up(batch_server, tmp_path):
    db, ids = make_judge_db(tmp_path / "wait.db", ["a [[present:1.2]]", "b"])
    batch_server.hold.set()  # the batch stays in_progress
    clock = FakeClock()
    left = run_batch(db, fast_options(batch_server), poller=clock.poller(first=1.0, factor=2.0, cap=5.0, wait=20.0))
    assert left.status == "submitted"
    assert clock.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]  # doubling, capped at 5; the next 5 would pass 20 s
    assert store.get_judge_run(db, left.run_id)["status"] == "submitted" and calls(db) == []
    batch_server.hold.clear()
    done = run_batch(db, fast_options(batch_server), poller=clock.poller(first=1.0))  # the same command again
    assert done.run_id == left.run_id and done.status == "done" and done.stats.done == 2
    assert batch_server.batch_creates == 1 and batch_server.count == 0  # followed by id, never resubmitted
    assert labels_of(db, RATER, ids[0])["1.2"][0] == 1


def test_a_provider_litellm_cannot_batch_is_refused_in_one_line(tmp_path):
    db_path = tmp_path / "refuse.db"
    make_judge_db(db_path, ["a"])[0].conn.close()
    result = run_cli("judge", "run", "--batch", "--model", "ollama/llama3.1", "--api-base", "http://127.0.0.1:9",
                     db=db_path)
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "litellm cannot batch ollama" in result.stderr
    assert store.list_judge_runs(store.connect(db_path)) == []  # nothing written


def test_the_batch_providers_are_litellms_own():
    from annotator.judge.batch_api import batch_providers

    providers = set(batch_providers())
    assert {"openai", "azure", "vertex_ai", "bedrock", "hosted_vllm", "litellm_proxy"} <= providers
    assert not providers & {"anthropic", "ollama", "gemini"}


def test_batch_cost_uses_the_batch_price_and_the_dry_run_shows_both(batch_server, tmp_path):
    db_path = tmp_path / "price.db"
    db, ids = make_judge_db(db_path, ["a [[present:1.1]]", "b"])
    options = fast_options(batch_server, model="openai/gpt-4o-mini")
    run_batch(db, options, poller=FakeClock().poller(first=1.0))
    for call, (prompt, completion) in zip(calls(db), batch_server.usages, strict=True):
        expected = prompt * GPT4O_MINI_BATCH[0] + completion * GPT4O_MINI_BATCH[1]
        assert call["cost"] == pytest.approx(expected, rel=1e-9)
    listed = run_cli("judge", "list", db=db_path)
    assert "at batch prices" in listed.stdout and "batch batch_0001: completed, 2 requests, 2 stored" in listed.stdout
    fresh = tmp_path / "dry.db"
    make_judge_db(fresh, ["word " * 3000] * 20)[0].conn.close()  # costs well above the 4 decimals printed
    base = ("judge", "run", "--model", "openai/gpt-4o-mini", "--dry-run")
    dry = run_cli(*base, db=fresh)
    live = float(dry.stdout.split("estimated cost: $")[1].split()[0])
    batch = float(dry.stdout.split("estimated cost at batch prices (--batch): $")[1].split()[0])
    assert batch == pytest.approx(live * GPT4O_MINI_BATCH[0] / GPT4O_MINI_LIVE[0], abs=1e-4)
    unknown = run_cli("judge", "run", "--model", MODEL, "--api-base", batch_server.base_url, "--dry-run", db=fresh)
    assert "estimated cost at batch prices (--batch): unknown" in unknown.stdout

"""The judge behind a proxy (issue 14, "Scale through an existing engine"), against a local server that
behaves like a LiteLLM proxy: Retry-After on 429/503 honoured by the whole run (seconds and HTTP-date
forms, bounded), the concurrency cap kept while the proxy pushes back, the model the proxy actually used
stored per call and shown, keys from the environment and never stored. tests/test_judge_litellm_proxy.py
does the same through a real LiteLLM proxy process where `litellm[proxy]` is installed.
"""

from __future__ import annotations

import json
import threading
import time
import wsgiref.handlers

import pytest
from helpers import run_cli
from judge_helpers import MODEL, fast_options, make_judge_db

from annotator.judge import list_runs, llm, run_judge


class RateLimiter:
    """A proxy's limiter: the first request whose prompt holds `[[ratelimit]]` opens a window of `window`
    seconds in which every request is answered `status` with a Retry-After made by `header()`, except one
    marked `[[exempt]]` (sent together with the first, it may arrive a moment after it)."""

    def __init__(self, header, *, window: float, status: int = 429):
        self.header, self.window, self.status = header, window, status
        self.lock = threading.Lock()
        self.opened: float | None = None
        self.rejected: list[float] = []  # arrival times of the requests answered `status`

    def __call__(self, body: dict):
        prompt = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        with self.lock:
            now = time.monotonic()
            if self.opened is None and "[[ratelimit]]" in prompt:
                self.opened = now
            if self.opened is None or now >= self.opened + self.window or "[[exempt]]" in prompt:
                return None
            self.rejected.append(now)
        error = {"error": {"message": "No deployments available for selected model, Try again in 1 seconds",
                           "type": "None", "code": str(self.status)}}
        return self.status, error, {"Retry-After": self.header()}


def http_date(seconds_from_now: float) -> str:
    """An HTTP-date (RFC 9110, IMF-fixdate) as servers write it, made by the standard library's WSGI helper."""
    return wsgiref.handlers.format_date_time(time.time() + seconds_from_now)


def test_retry_after_is_read_in_both_forms():
    now = time.time()
    assert llm.parse_retry_after("120") == 120.0
    assert llm.parse_retry_after(" 0 ") == 0.0
    assert llm.parse_retry_after(wsgiref.handlers.format_date_time(now + 90), now=now) == pytest.approx(90, abs=1)
    assert llm.parse_retry_after(wsgiref.handlers.format_date_time(now - 600), now=now) == 0.0  # in the past
    for bad in ("soon", "-5", "1.5e3", "", "Wed, 99 Foo 2026 07:28:00"):
        assert llm.parse_retry_after(bad) is None, bad


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_a_retry_after_holds_every_worker_of_the_run(llm_server, judge_db, status, form):
    """Segment b is rate limited (Retry-After about 1 s) while a takes 0.5 s: the worker that finishes a
    must not send c into the window (where it would collect a 429 of its own) but wait with the other."""
    header = (lambda: "1") if form == "seconds" else (lambda: http_date(2))  # a date counts whole seconds
    limiter = llm_server.gate = RateLimiter(header, window=0.95, status=status)
    db, _ = judge_db(["a [[latency:0.5]] [[exempt]]", "b [[ratelimit]]", "c", "d"])
    result = run_judge(db, fast_options(llm_server, concurrency=2, max_attempts=3))
    assert result.status == "done" and result.stats.done == 4, result
    assert len(limiter.rejected) == 1, limiter.rejected  # only b, which opened the window
    rejected = limiter.rejected[0]
    sent_in_window = [t - rejected for t in llm_server.arrivals if rejected + 0.1 < t < rejected + 0.95]
    assert not sent_in_window, sent_in_window


def test_a_long_retry_after_is_bounded(llm_server, judge_db):
    limiter = llm_server.gate = RateLimiter(lambda: "3600", window=0.2)
    db, _ = judge_db(["a [[ratelimit]]"])
    began = time.monotonic()
    result = run_judge(db, fast_options(llm_server, concurrency=1, retry_after_cap=0.6))
    assert result.status == "done", result
    (rejected,) = limiter.rejected
    retried = llm_server.arrivals[-1] - rejected
    assert 0.6 <= retried < 0.6 + 5, retried  # waited the cap (not an hour, not the 0.05 s backoff cap)
    assert time.monotonic() - began < 30


def test_the_concurrency_cap_holds_while_the_proxy_pushes_back(llm_server, judge_db):
    """Every third request is refused with a 429 (Retry-After 0): retries never add calls in flight.

    A segment is refused at most once, so which request falls on a multiple of three (a matter of timing)
    cannot use up one segment's attempts."""
    count = {"n": 0}
    refused: set[str] = set()
    lock = threading.Lock()

    def every_third(body):
        key = json.dumps(body, sort_keys=True)
        with lock:
            count["n"] += 1
            refuse = count["n"] % 3 == 0 and key not in refused
            if refuse:
                refused.add(key)
        return (429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"}) if refuse else None

    llm_server.gate = every_third
    llm_server.latency = 0.02
    db, _ = judge_db([f"segment {i}" for i in range(30)])
    result = run_judge(db, fast_options(llm_server, concurrency=3, max_attempts=6))
    assert result.status == "done" and result.stats.done == 30, result
    assert count["n"] > 30 and 1 <= llm_server.max_in_flight <= 3


def served_models_of(db, run_id: int) -> list[str | None]:
    return [r[0] for r in db.execute("SELECT served_model FROM judge_calls WHERE run_id = ? ORDER BY id", [run_id])]


def test_the_model_the_proxy_used_is_stored_per_call_and_shown(llm_server, tmp_path):
    db_path = tmp_path / "served.db"
    make_judge_db(db_path, ["a [[present:1.1]]", "b", "c"])[0].conn.close()
    llm_server.served_model = "gpt-4o-mini-2024-07-18"  # the proxy routed the alias to this deployment
    out = run_cli("judge", "run", "--model", "openai/judge-alias", "--api-base", llm_server.base_url, "--quiet",
                  db=db_path)
    assert out.exit_code == 0, out.output
    llm_server.served_model = "fallback-model-b"  # a second judge, answered by the proxy's fallback
    out = run_cli("judge", "run", "--model", "openai/other-alias", "--api-base", llm_server.base_url, "--quiet",
                  db=db_path)
    assert out.exit_code == 0, out.output
    from annotator import store

    db = store.connect(db_path)
    assert served_models_of(db, 1) == ["gpt-4o-mini-2024-07-18"] * 3
    assert served_models_of(db, 2) == ["fallback-model-b"] * 3
    assert [r["model"] for r in list_runs(db)] == ["openai/other-alias", "openai/judge-alias"]  # as asked
    listed = run_cli("judge", "list", db=db_path).stdout
    assert "served by: gpt-4o-mini-2024-07-18 (3 calls)" in listed
    assert "served by: fallback-model-b (3 calls)" in listed
    runs = json.loads(run_cli("judge", "list", "--json", db=db_path).stdout)
    assert [r["served_models"] for r in runs] == [{"fallback-model-b": 3}, {"gpt-4o-mini-2024-07-18": 3}]
    raters = [r["rater"] for r in reversed(runs)]
    compared = run_cli("judge", "compare", raters[1], "--against", raters[0], "--bootstrap", "0", db=db_path)
    assert compared.exit_code == 0, compared.output
    assert f"[1] {raters[1]} answered by: fallback-model-b (3 calls)" in compared.stdout


def test_a_server_that_names_no_model_stores_none(llm_server, judge_db, monkeypatch):
    db, _ = judge_db(["a"])
    real = llm.complete

    async def nameless(**kwargs):
        reply = await real(**kwargs)
        return llm.Reply(reply.text, reply.prompt_tokens, reply.completion_tokens, reply.cost, model=None)

    monkeypatch.setattr(llm, "complete", nameless)
    result = run_judge(db, fast_options(llm_server))
    assert served_models_of(db, result.run_id) == [None]
    assert list_runs(db)[0]["served_models"] == {}


def dump(db) -> str:
    return "\n".join(db.conn.iterdump())


def test_a_key_from_any_environment_variable_is_sent_and_never_stored(llm_server, tmp_path, monkeypatch):
    """A virtual key in a variable whose name does not look secret (so the generic scrubber misses it) is
    sent as the bearer token and kept out of the database, even when the proxy echoes it back."""
    key = "vk-team-annotators-0123456789"
    monkeypatch.setenv("TEAM_PROXY_VIRTUAL", key)
    db_path = tmp_path / "keys.db"
    make_judge_db(db_path, ["a [[scenario:leak]]"])[0].conn.close()
    out = run_cli("judge", "run", "--model", MODEL, "--api-base", llm_server.base_url, "--api-key-env",
                  "TEAM_PROXY_VIRTUAL", "--quiet", db=db_path)
    assert out.exit_code == 0, out.output
    assert set(llm_server.auth_headers) == {f"Bearer {key}"}
    from annotator import store

    text = dump(store.connect(db_path))
    assert "upstream rejected" in text  # the echo was stored, scrubbed
    assert key not in text and key not in out.output


def test_litellm_proxy_models_read_the_key_from_litellm_proxy_api_key(llm_server, judge_db, monkeypatch):
    key = "sk-litellm-virtual-abcdef123456"
    monkeypatch.setenv("LITELLM_PROXY_API_KEY", key)
    llm_server.served_model = "upstream-model-1"
    db, _ = judge_db(["a [[present:1.1]]"])
    result = run_judge(db, fast_options(llm_server, model="litellm_proxy/judge-alias"))
    assert result.status == "done", result
    assert llm_server.auth_headers == [f"Bearer {key}"]
    assert llm_server.requests[0]["model"] == "judge-alias"  # the alias goes to the proxy as is
    assert served_models_of(db, result.run_id) == ["upstream-model-1"]
    assert key not in dump(db)

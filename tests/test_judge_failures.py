"""Failures that say so: a judge run whose calls fail names the real cause (connection refused, TLS,
DNS, timeout), is stored as failed (every call failed) or done with N failures, and `judge run` exits 1.

Against a closed port on 127.0.0.1 and the local scripted server; never a hosted model."""

from __future__ import annotations

import json
import socket
import ssl

import pytest
from helpers import run_cli
from judge_helpers import MODEL, fast_options, make_judge_db

from annotator.judge import list_runs, llm, run_judge, run_progress


def closed_port_url() -> str:
    """The URL of a port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v1"


def call_errors(db, run_id: int) -> list[str]:
    return [r[0] for r in db.execute("SELECT error FROM judge_calls WHERE run_id = ? ORDER BY id", [run_id])]


def test_nothing_listening_names_connection_refused_and_the_run_failed(llm_server, judge_db):
    db, _ = judge_db(["a", "b", "c"])
    result = run_judge(db, fast_options(llm_server, api_base=closed_port_url(), max_attempts=2))
    assert result.status == "failed" and result.stats.failed == 3 and result.stats.done == 0
    errors = call_errors(db, result.run_id)
    assert len(errors) == 3 and all(e.startswith("connection refused:") for e in errors), errors
    assert "Connection error." not in " ".join(errors)
    progress = run_progress(db, result.run_id)
    assert progress["status"] == progress["state"] == "failed"
    assert progress["error"].startswith("all 3 calls failed after retries: connection refused")
    (listed,) = list_runs(db)
    assert listed["status"] == "failed" and listed["failed"] == 3


def test_plain_http_server_spoken_to_over_https_is_a_tls_failure(llm_server, judge_db):
    db, _ = judge_db(["a"])
    https = llm_server.base_url.replace("http://", "https://")
    result = run_judge(db, fast_options(llm_server, api_base=https, max_attempts=1))
    assert result.status == "failed"
    (error,) = call_errors(db, result.run_id)
    assert error.startswith("TLS:"), error


def test_some_calls_failed_is_done_with_n_failures(llm_server, judge_db):
    db, _ = judge_db(["a [[present:1.1]]", "b [[scenario:prose]]", "c [[scenario:err500]]"])
    result = run_judge(db, fast_options(llm_server, max_attempts=2))
    assert result.status == "done" and result.stats.failed == 2
    progress = run_progress(db, result.run_id)
    assert progress["status"] == "done" and progress["state"] == "done with 2 failures"


def _chained(*layers: BaseException) -> BaseException:
    """layers[0] raised while handling layers[1], ... (as httpx, openai and litellm wrap one another)."""
    for outer, inner in zip(layers, layers[1:]):
        outer.__cause__ = inner
    return layers[0]


class ConnectError(Exception):
    """Named as httpx names it (the real one arrives in the closed-port test above)."""


class ConnectTimeout(Exception):
    """Named as httpx names it."""


class _Wrapped(Exception):
    status_code = 500  # what litellm reports for every transport failure

    def __str__(self) -> str:
        return "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error."


@pytest.mark.parametrize("root, label", [
    (socket.gaierror(-2, "Name or service not known"), "DNS"),
    (ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate"), "TLS"),
    (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
    (ConnectTimeout("timed out"), "timeout"),
])
def test_the_cause_is_found_down_the_exception_chain(root, label):
    exc = _chained(_Wrapped(), ConnectError("Connection error."), root)
    assert llm.describe(exc).startswith(f"{label}: ")


def test_an_answer_from_the_server_keeps_its_status(llm_server, judge_db):
    class RateLimited(Exception):
        status_code = 429
    exc = _chained(RateLimited("slow down"), ConnectionResetError("reset"))
    assert llm.describe(exc) == "RateLimited (429): slow down"


def test_cli_exits_1_with_one_line_when_every_call_failed(tmp_path):
    db_path = tmp_path / "down.db"
    make_judge_db(db_path, ["a", "b"])[0].conn.close()
    out = run_cli("judge", "run", "--model", MODEL, "--api-base", closed_port_url(), "--max-attempts", "1",
                  "--quiet", db=db_path)
    assert out.exit_code == 1, out.output
    (line,) = out.stderr.strip().splitlines()
    assert "failed" in line and "connection refused" in line and "Traceback" not in out.output
    listed = run_cli("judge", "list", db=db_path)
    assert " failed " in listed.stdout
    (entry,) = json.loads(run_cli("judge", "list", "--json", db=db_path).stdout)
    assert entry["status"] == "failed" and entry["failed"] == 2


def test_cli_exits_1_when_some_calls_failed_after_retries(llm_server, tmp_path):
    db_path = tmp_path / "some.db"
    make_judge_db(db_path, ["a [[present:1.1]]", "b [[scenario:prose]]"])[0].conn.close()
    out = run_cli("judge", "run", "--model", MODEL, "--api-base", llm_server.base_url, "--max-attempts", "1",
                  "--quiet", db=db_path)
    assert out.exit_code == 1, out.output
    assert "done with 1 failure" in out.stdout
    assert out.stderr.strip().splitlines()[-1].startswith("Error: judge run 1 done with 1 failure")
    assert "done with 1 failure" in run_cli("judge", "list", db=db_path).stdout


class CountingComplete:
    """Wraps llm.complete and counts the calls that reach it (each attempt is one)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self._real = llm.complete
        monkeypatch.setattr(llm, "complete", self)

    async def __call__(self, **kwargs):
        self.calls += 1
        return await self._real(**kwargs)


def test_a_dead_server_ends_the_run_early_and_a_later_run_resumes(llm_server, judge_db, monkeypatch):
    """40 segments x 4 attempts against a closed port made 160 attempts before; the run now stops after
    `unreachable_after` connection failures in a row (plus the calls already in flight)."""
    db, ids = judge_db([f"segment {i} [[present:1.1]]" for i in range(40)])
    counter = CountingComplete(monkeypatch)
    concurrency, limit = 4, 6
    dead = fast_options(llm_server, api_base=closed_port_url(), max_attempts=4, concurrency=concurrency,
                        unreachable_after=limit)
    result = run_judge(db, dead)
    assert counter.calls <= limit + concurrency - 1, counter.calls
    assert result.status == "failed"
    assert result.error.startswith(f"stopped after {limit} connection failures in a row"), result.error
    assert "connection refused" in result.error
    progress = run_progress(db, result.run_id)
    assert progress["status"] == progress["state"] == "failed" and progress["error"] == result.error
    assert progress["done"] == 0 and progress["failed"] < 40  # the rest was never called
    assert llm_server.count == 0

    resumed = run_judge(db, fast_options(llm_server, concurrency=concurrency))
    assert resumed.status == "done" and resumed.stats.done == 40 and resumed.stats.failed == 0
    assert llm_server.count == 40  # one call per segment: nothing was judged twice, nothing left out
    judged = {r[0] for r in db.execute("SELECT segment_id FROM judge_calls WHERE parsed IS NOT NULL")}
    assert judged == set(ids)


def test_an_answer_between_connection_failures_keeps_the_run_going(llm_server, judge_db, monkeypatch):
    """Connection failures that are not in a row (a flaky network, a server that answers between them)
    do not end the run: every segment is still tried with all its attempts."""
    db, _ = judge_db([f"segment {i} [[present:1.1]]" for i in range(12)])
    real = llm.complete
    refused = {"n": 0}

    async def every_other_call_refused(**kwargs):
        refused["n"] += 1
        if refused["n"] % 2:
            return await real(**{**kwargs, "api_base": closed_port_url()})
        return await real(**kwargs)

    monkeypatch.setattr(llm, "complete", every_other_call_refused)
    result = run_judge(db, fast_options(llm_server, max_attempts=4, concurrency=1, unreachable_after=2))
    assert result.status == "done" and result.stats.done == 12, result


def test_cli_a_dead_server_exits_1_naming_the_cause_quickly(tmp_path, monkeypatch):
    db_path = tmp_path / "dead.db"
    make_judge_db(db_path, [f"segment {i}" for i in range(30)])[0].conn.close()
    counter = CountingComplete(monkeypatch)
    out = run_cli("judge", "run", "--model", MODEL, "--api-base", closed_port_url(), "--concurrency", "2",
                  "--quiet", db=db_path)
    assert out.exit_code == 1, out.output
    (line,) = out.stderr.strip().splitlines()
    assert "stopped after 8 connection failures in a row" in line and "connection refused" in line, line
    assert counter.calls < 30 * 4 and counter.calls <= 8 + 1, counter.calls
    listed = run_cli("judge", "list", db=db_path).stdout
    assert " failed " in listed and "stopped after 8 connection failures" in listed

"""`annotator collect`: the OTLP/HTTP receiver, fed by the real OpenTelemetry SDK exporter."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import subprocess
import sys

import pytest
from helpers import new_db, wait_until
from otlp_fixtures import current_convention_spans, request

from annotator import store
from annotator.services.otlp_http import Receiver


def _sdk(endpoint: str, headers: dict | None = None):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "travel-app"}))
    exporter = OTLPSpanExporter(endpoint=endpoint + "/v1/traces", headers=headers)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _agents_run(provider) -> str:
    """Two agents under the current GenAI conventions, recorded with the SDK's own tracer; the trace id."""
    tracer = provider.get_tracer("my.agents")

    def msgs(role, text):
        return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])

    with tracer.start_as_current_span("invoke_agent Planner", attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Planner"}) as root:
        with tracer.start_as_current_span("chat m", attributes={
                "gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
                "gen_ai.input.messages": msgs("user", "Plan a day in Rome."),
                "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [
                    {"type": "tool_call", "id": "c1", "name": "weather", "arguments": {"city": "Rome"}}]}])}):
            pass
        with tracer.start_as_current_span("execute_tool weather", attributes={
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "weather",
                "gen_ai.tool.call.id": "c1", "gen_ai.tool.call.result": "hot"}):
            pass
        writer = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Writer"}
        chat = {"gen_ai.operation.name": "chat", "gen_ai.input.messages": msgs("user", "Write it up."),
                "gen_ai.output.messages": msgs("assistant", "Gelato, then the Forum.")}
        with tracer.start_as_current_span("invoke_agent Writer", attributes=writer), \
                tracer.start_as_current_span("chat m", attributes=chat):
            pass
        return f"{root.get_span_context().trace_id:032x}"


EXPECTED = [("user", "Planner", "Plan a day in Rome."), ("Planner", "weather", "weather("),
            ("weather", "Planner", "hot"), ("user", "Writer", "Write it up."),
            ("Writer", "Planner", "Gelato, then the Forum.")]


def _assembled(db_path, trace_key: str):
    db = store.connect(db_path)
    row = db.execute("SELECT state, trace_id FROM staged_traces WHERE trace_key = ?", [trace_key]).fetchone()
    db.conn.close()
    return row


def _check_turns(db_path, trace_id: int):
    db = store.connect(db_path)
    turns = store.segments_of_trace(db, trace_id, "turn")
    assert [(t.speaker, t.recipient) for t in turns] == [(s, r) for s, r, _ in EXPECTED]
    for turn, (_, _, phrase) in zip(turns, EXPECTED):
        assert phrase in turn.text
    assert dict(db.execute("SELECT key, value FROM trace_tags WHERE trace_id = ?", [trace_id]))["service.name"] \
        == "travel-app"


@pytest.fixture
def receiver(tmp_path):
    server = Receiver(new_db(tmp_path / "live.db"), port=0, token="s3cret", max_bytes=200_000, quiet_s=60)
    server.start()
    yield server
    server.stop()


def test_sdk_exporter_to_collect_root_ended_assembles(receiver, tmp_path):
    host, port = receiver.server_address[:2]
    provider = _sdk(f"http://{host}:{port}", headers={"Authorization": "Bearer s3cret"})
    trace_key = _agents_run(provider)
    provider.shutdown()
    # quiet time is 60 s: only the ended root span can make this trace complete within the wait
    state = wait_until(lambda: _assembled(tmp_path / "live.db", trace_key), until=lambda r: r and r[0] != "open",
                       timeout=30, what="trace assembled")
    assert state[0] == "assembled"
    _check_turns(tmp_path / "live.db", state[1])
    assert receiver.summary()["spans"] == 5


def _post(receiver, path="/v1/traces", body=b"{}", headers=None):
    host, port = receiver.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("POST", path, body=body, headers={"Authorization": "Bearer s3cret",
                                                   "Content-Type": "application/json", **(headers or {})})
    answer = conn.getresponse()
    data = answer.read()
    conn.close()
    return answer.status, data


def test_refusals_use_otlp_status_codes_and_store_nothing(receiver, tmp_path):
    good = json.dumps(request(current_convention_spans())).encode()
    assert _post(receiver, body=good, headers={"Authorization": "Bearer wrong"})[0] == 401
    assert _post(receiver, body=good, headers={"Content-Type": "text/plain"})[0] == 415
    assert _post(receiver, body=b'{"resourceSpans": [', headers={})[0] == 400
    assert _post(receiver, body=b'{"something": "else"}')[0] == 400
    assert _post(receiver, body=good[:100] + b" " * 200_000)[0] == 413
    bomb = gzip.compress(b" " * 2_000_000)  # 2 MB of spaces: a few KB on the wire, over the limit inflated
    assert _post(receiver, body=bomb, headers={"Content-Encoding": "gzip"})[0] == 413
    assert _post(receiver, path="/v1/metrics", body=good)[0] == 404
    assert receiver.summary()["spans"] == 0
    status, data = _post(receiver, body=gzip.compress(good), headers={"Content-Encoding": "gzip"})
    assert (status, data) == (200, b"{}")
    assert _post(receiver, body=good)[0] == 200  # a retry of the same spans adds nothing
    assert receiver.summary()["spans"] == len(current_convention_spans())


def test_acknowledged_spans_survive_a_kill(tmp_path):
    """collect as a process: spans the exporter got 200 for are there after kill -9 and assembled on restart."""
    db_path = new_db(tmp_path / "kill.db")

    def start(quiet: str):
        proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(db_path), "collect", "--port", "0",
                                 "--quiet-seconds", quiet], stdout=subprocess.PIPE, text=True, cwd=tmp_path,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        first = proc.stdout.readline()
        assert first.startswith("collecting into"), first
        return proc, first.split("http://", 1)[1].split(" ", 1)[0]

    proc, address = start("3600")
    try:
        host, port = address.rsplit(":", 1)
        body = json.dumps(request(current_convention_spans()[1:])).encode()  # no root: stays open for an hour
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 200
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    db = store.connect(db_path)
    assert db.execute("SELECT count(*) FROM staged_spans").fetchone()[0] == 5
    assert db.execute("SELECT state FROM staged_traces").fetchall() == [("open",)]
    db.conn.close()
    proc, _ = start("0.2")
    try:
        row = wait_until(lambda: _assembled(db_path, current_convention_spans()[0]["traceId"]),
                         until=lambda r: r and r[0] != "open", timeout=30, what="assembled after restart")
        assert row[0] == "assembled"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert "5 turns" in out or "turns by" in out, out


def test_bad_trace_is_marked_failed_and_a_bug_does_not_stop_the_others(tmp_path, monkeypatch):
    from otlp_fixtures import span

    from annotator.services import collect

    db = store.connect(tmp_path / "a.db")
    bad = span(1, None, "chat", 0, 1, trace="a" * 32, gen_ai__operation__name="chat", gen_ai__input__messages=7)
    good = current_convention_spans()
    for doc in (request([bad]), request(good)):
        collect.stage_request(db, "/v1/traces", json.dumps(doc).encode(), content_type="application/json", now=0.0)
    done = collect.assemble_ready(db, now=100.0, quiet_s=30, settle_s=1)
    assert [(d.trace_key, d.state) for d in done] == [("a" * 32, "failed"), (good[0]["traceId"], "assembled")]
    assert "attribute gen_ai.input.messages must be a list of messages" in done[0].detail
    # a bug while assembling one trace: that trace is set aside with the reason, the next is still built
    again = span(1, None, "invoke_agent X", 0, 1, trace="b" * 32, gen_ai__operation__name="invoke_agent")
    other = [dict(s, traceId="c" * 32) for s in good]
    for doc in (request([again]), request(other)):
        collect.stage_request(db, "/v1/traces", json.dumps(doc).encode(), content_type="application/json", now=0.0)
    real = collect.assemble_trace

    def flaky(db, key, **kwargs):
        if key == "b" * 32:
            raise KeyError("simulated bug")
        return real(db, key, **kwargs)

    monkeypatch.setattr(collect, "assemble_trace", flaky)
    done = collect.assemble_ready(db, now=100.0, quiet_s=30, settle_s=1)
    assert [(d.trace_key, d.state) for d in done] == [("b" * 32, "failed"), ("c" * 32, "assembled")]
    assert "internal error: KeyError" in done[0].detail

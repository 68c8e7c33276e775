"""End to end: real instrumentation of the `openai` client records a two-agent run against the local
OpenAI-compatible server; the OpenTelemetry SDK exports it to files (its own OTLP encoders, as JSON lines and
as length-prefixed protobuf) and live to `annotator collect`; every turn, speaker and tool call is checked.

The LLM spans (and, on the older conventions, the message log events) come from the instrumentation packages
(opentelemetry-instrumentation-openai-v2, elastic-opentelemetry-instrumentation-openai,
openinference-instrumentation-openai). The agent and tool spans
come from the few lines below that play the agent framework, written as the conventions ask a framework to.
"""

from __future__ import annotations

import json
import struct

import pytest
from helpers import new_db, wait_until
from llm_server import LLMServer

from annotator import store
from annotator.ingest import import_file
from annotator.services.otlp_http import Receiver

TASK = "Plan a day in Rome."
PLANNER = "You are Planner. Use the weather tool, then hand over to Writer."
WRITER = "You are Writer."
HANDOVER = "It is hot. Writer, please write the plan."
FINAL = "Gelato first, then the Forum at dusk."


def _script(body: dict) -> dict:
    """The model's side of the run: Planner calls the tool, then hands over; Writer writes."""
    messages = body["messages"]
    if messages[0]["content"] == WRITER:
        return {"content": FINAL}
    if any(m["role"] == "tool" for m in messages):
        return {"content": HANDOVER}
    return {"content": None, "tool_calls": [{"id": "call_w1", "type": "function", "function": {
        "name": "weather", "arguments": json.dumps({"city": "Rome"})}}]}


# (speaker, recipient, a phrase of the turn), in the order the system produced them
EXPECTED = [("system", "Planner", PLANNER), ("user", "Planner", TASK), ("Planner", "weather", 'weather({"city"'),
            ("weather", "Planner", "34C"), ("Planner", None, HANDOVER), ("system", "Writer", WRITER),
            ("Writer", "Planner", FINAL)]


def _run_agents(client, tracer, *, openinference: bool) -> str:
    """Planner and Writer, each an agent span around its chat calls, the tool as a tool span."""

    def agent_span(name: str):
        attrs = ({"openinference.span.kind": "AGENT", "agent.name": name} if openinference
                 else {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name})
        return tracer.start_as_current_span(f"invoke_agent {name}", attributes=attrs)

    def tool_span(call, result: str):
        attrs = ({"openinference.span.kind": "TOOL", "tool.name": call.function.name,
                  "input.value": call.function.arguments, "output.value": result} if openinference
                 else {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.function.name,
                       "gen_ai.tool.call.id": call.id, "gen_ai.tool.call.arguments": call.function.arguments,
                       "gen_ai.tool.call.result": result})
        return tracer.start_as_current_span(f"execute_tool {call.function.name}", attributes=attrs)

    with agent_span("Planner") as root:
        history = [{"role": "system", "content": PLANNER}, {"role": "user", "content": TASK}]
        first = client.chat.completions.create(model="test-model", messages=history).choices[0].message
        call = first.tool_calls[0]
        with tool_span(call, "34C and sunny"):
            result = "34C and sunny"
        history += [{"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
                    {"role": "tool", "tool_call_id": call.id, "content": result}]
        handover = client.chat.completions.create(model="test-model", messages=history).choices[0].message.content
        with agent_span("Writer"):
            client.chat.completions.create(model="test-model", messages=[
                {"role": "system", "content": WRITER}, {"role": "user", "content": handover}])
        return f"{root.get_span_context().trace_id:032x}"


def _write_files(tmp_path, spans, logs) -> list:
    """The run as the Collector's file exporter writes it: JSON lines (traces and logs), and protobuf frames."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    requests = [encode_spans(spans)] + ([encode_logs(logs)] if logs else [])
    as_json = tmp_path / "export.jsonl"
    as_json.write_text("".join(json.dumps(MessageToDict(r)) + "\n" for r in requests))
    as_proto = tmp_path / "export.binpb"
    frame = encode_spans(spans).SerializeToString()
    as_proto.write_bytes(struct.pack(">I", len(frame)) + frame)
    return [as_json] + ([] if logs else [as_proto])  # protobuf files carry traces only: no log events there


def _check(db, trace_id: int):
    turns = store.segments_of_trace(db, trace_id, "turn")
    assert [(t.speaker, t.recipient) for t in turns] == [(s, r) for s, r, _ in EXPECTED], \
        [(t.speaker, t.recipient, t.text[:60]) for t in turns]
    for turn, (_, _, phrase) in zip(turns, EXPECTED):
        assert phrase in turn.text
    assert all(t.meta.get("span_id") for t in turns)


INSTRUMENTATIONS = {
    # opentelemetry-instrumentation-openai-v2 on the current conventions: messages in span attributes
    "openai-v2 current": ("openai_v2", {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
                                        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only"}),
    # the older conventions, one log event per message tied to the chat span (elastic-opentelemetry-
    # instrumentation-openai; openai-v2 2.4 with util-genai 1.1+ always takes the current conventions)
    "elastic events": ("elastic", {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}),
    "openinference": ("openinference", {}),
}


@pytest.mark.parametrize("name", list(INSTRUMENTATIONS))
def test_real_instrumentation_to_files_and_collect(tmp_path, monkeypatch, name):
    from openai import OpenAI
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation._semconv import _OpenTelemetrySemanticConventionStability as Stability
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    package, env = INSTRUMENTATIONS[name]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # the instrumentation reads OTEL_SEMCONV_STABILITY_OPT_IN once per process; read it again for this case
    monkeypatch.setattr(Stability, "_initialized", False)
    receiver = Receiver(new_db(tmp_path / "live.db"), port=0, quiet_s=60)
    receiver.start()
    server = LLMServer([], reply=_script).start()
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    spans_out, logs_out = InMemorySpanExporter(), InMemoryLogRecordExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "rome-planner"}))
    loggers = LoggerProvider(resource=Resource.create({"service.name": "rome-planner"}))
    for processor in (SimpleSpanProcessor(spans_out), SimpleSpanProcessor(OTLPSpanExporter(endpoint + "/v1/traces"))):
        provider.add_span_processor(processor)
    for log_processor in (SimpleLogRecordProcessor(logs_out),
                          SimpleLogRecordProcessor(OTLPLogExporter(endpoint + "/v1/logs"))):
        loggers.add_log_record_processor(log_processor)
    if package == "openai_v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as Instrumentor
    elif package == "elastic":
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as Instrumentor
    else:
        from openinference.instrumentation.openai import OpenAIInstrumentor as Instrumentor
    instrumentor = Instrumentor()
    instrumentor.instrument(tracer_provider=provider, logger_provider=loggers)
    if package == "elastic":  # 1.2.0 passes logger_provider where get_logger takes the version: hand it over
        instrumentor.logger = loggers.get_logger("opentelemetry.instrumentation.openai")
    try:
        client = OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
        trace_key = _run_agents(client, provider.get_tracer("mini.framework"), openinference=package == "openinference")
    finally:
        instrumentor.uninstrument()
        server.stop()
    logs = list(logs_out.get_finished_logs())
    assert bool(logs) == (package == "elastic")  # the older conventions put the messages in log events
    files = _write_files(tmp_path, list(spans_out.get_finished_spans()), logs)
    for i, path in enumerate(files):
        db = store.connect(tmp_path / f"file{i}.db")
        result = import_file(db, path)
        assert result.format == ("openinference" if package == "openinference" else "otel")
        assert result.traces_added == 1 and import_file(db, path).traces_added == 0
        _check(db, db.execute("SELECT id FROM traces WHERE external_id = ?", [trace_key]).fetchone()[0])
    try:
        # collect got the same run live; the root span ended, so it assembles without waiting 60 s
        row = wait_until(lambda: receiver.db().execute("SELECT state, trace_id FROM staged_traces WHERE trace_key"
                                                       " = ?", [trace_key]).fetchone(),
                         until=lambda r: r is not None and r[0] != "open", timeout=30, what="collect assembled")
        assert row[0] == "assembled", receiver.db().execute("SELECT error FROM staged_traces").fetchall()
        _check(receiver.db(), row[1])
    finally:
        provider.shutdown()
        loggers.shutdown()
        receiver.stop()

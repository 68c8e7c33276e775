"""`--format otel`: OTLP JSON and protobuf files under both generations of the GenAI conventions."""

from __future__ import annotations

import json
import struct

import pytest
from helpers import db_fingerprint, run_cli
from otlp_fixtures import (
    CURRENT_TURNS,
    T0,
    TRACE,
    S,
    attrs,
    current_convention_spans,
    request,
    sid,
    span,
    value,
    write_lines,
)

from annotator import store
from annotator.ingest import IngestError, detect_format, import_file


@pytest.fixture
def db(tmp_path):
    return store.connect(tmp_path / "a.db")


def _turns(db, external_id: str = TRACE):
    trace_id = db.execute("SELECT id FROM traces WHERE external_id = ?", [external_id]).fetchone()[0]
    return store.segments_of_trace(db, trace_id, "turn")


def _check(turns, expected):
    assert [(t.speaker, t.recipient) for t in turns] == [(s, r) for s, r, _ in expected]
    for turn, (_, _, phrase) in zip(turns, expected):
        assert phrase in turn.text


def test_current_conventions_jsonl_split_over_lines_out_of_order(db, tmp_path):
    spans = current_convention_spans()
    path = write_lines(tmp_path / "export.jsonl", [request(spans[3:]), request(spans[:3][::-1])])
    result = import_file(db, path)
    assert (result.format, result.scheme, result.traces_added) == ("otel", "turn", 1)
    turns = _turns(db)
    _check(turns, CURRENT_TURNS)
    assert turns[3].meta["span_id"] == sid(3) and turns[3].meta["parent_span_id"] == sid(1)
    assert turns[3].meta["started_at"] == "2025-06-15T15:06:43.000000000Z"  # T0 + 3 s, written out
    row = db.execute("SELECT framework, llm, text FROM traces").fetchone()
    assert row[:2] == ("my.agents", "gpt-test")
    assert row[2].count("Plan a day in Paris.") == 1  # the history each chat call repeats is said once
    tags = dict(db.execute("SELECT key, value FROM trace_tags"))
    assert tags == {"service.name": "travel-app", "deployment.environment": "test", "session.id": "conv-7"}


def test_importing_the_same_export_twice_adds_nothing(db, tmp_path):
    path = write_lines(tmp_path / "export.jsonl", [request(current_convention_spans())])
    import_file(db, path)
    before = db.execute("SELECT count(*) FROM segments").fetchone()[0]
    again = import_file(db, path)
    assert again.traces_added == 0
    assert db.execute("SELECT count(*) FROM segments").fetchone()[0] == before


def test_one_pretty_printed_document(db, tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(request(current_convention_spans()), indent=2))
    assert detect_format(path) == "otel"
    import_file(db, path)
    _check(_turns(db), CURRENT_TURNS)


def _proto_request(spans: list[dict]):
    """The same spans as an ExportTraceServiceRequest, built with the official protobuf classes."""
    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    def b64(hex_id: str) -> str:
        import base64
        return base64.b64encode(bytes.fromhex(hex_id)).decode()

    doc = request(spans)
    for block in doc["resourceSpans"]:
        for scope in block["scopeSpans"]:
            for s in scope["spans"]:  # protobuf's JSON mapping writes bytes as base64, OTLP/JSON as hex
                s["traceId"], s["spanId"] = b64(s["traceId"]), b64(s["spanId"])
                if "parentSpanId" in s:
                    s["parentSpanId"] = b64(s["parentSpanId"])
    return ParseDict(doc, ExportTraceServiceRequest())


@pytest.mark.parametrize("framed", [False, True])
def test_protobuf_files(db, tmp_path, framed):
    spans = current_convention_spans()
    path = tmp_path / "export.bin"
    if framed:  # the Collector's file exporter with format: proto: 4-byte big-endian size, then the message
        chunks = [_proto_request(part).SerializeToString() for part in (spans[:2], spans[2:])]
        path.write_bytes(b"".join(struct.pack(">I", len(c)) + c for c in chunks))
    else:
        path.write_bytes(_proto_request(spans).SerializeToString())
    assert detect_format(path) == "otel"
    import_file(db, path)
    _check(_turns(db), CURRENT_TURNS)


def _event(name: str, at: float, **body) -> dict:
    return {"timeUnixNano": str(T0 + int(at * S)), "name": name, "attributes": attrs(**body)}


def test_older_conventions_span_events_and_log_records(db, tmp_path):
    """Messages as events: on the span (first call), and as log records in another line (second call)."""
    tool_calls = [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}]
    first = span(2, 1, "chat m", 1, 2, gen_ai__operation__name="chat", gen_ai__request__model="m", events=[
        _event("gen_ai.system.message", 1, content="Be brief."),
        _event("gen_ai.user.message", 1, content="What is x?"),
        {"timeUnixNano": str(T0 + S), "name": "gen_ai.choice",
         "attributes": [{"key": "index", "value": value(0)}, {"key": "finish_reason", "value": value("tool_calls")},
                        {"key": "message", "value": value({"role": "assistant", "tool_calls": tool_calls})}]}])
    second = span(3, 1, "chat m", 3, 4, gen_ai__operation__name="chat", gen_ai__request__model="m")
    agent = span(1, None, "invoke_agent Scout", 0, 5, gen_ai__operation__name="invoke_agent",
                 gen_ai__agent__name="Scout")

    def log(name: str, at: float, body: dict) -> dict:
        return {"timeUnixNano": str(T0 + int(at * S)), "eventName": name, "traceId": TRACE, "spanId": sid(3),
                "body": value(body), "attributes": attrs(gen_ai__system="openai")}

    logs = {"resourceLogs": [{"resource": {"attributes": attrs(service__name="svc")}, "scopeLogs": [{
        "scope": {"name": "opentelemetry.instrumentation.openai_v2"}, "logRecords": [
            log("gen_ai.system.message", 3, {"content": "Be brief."}),
            log("gen_ai.user.message", 3, {"content": "What is x?"}),
            log("gen_ai.assistant.message", 3, {"tool_calls": tool_calls}),
            log("gen_ai.tool.message", 3, {"content": "x is 42", "id": "c1"}),
            log("gen_ai.choice", 3.9, {"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": "x is 42."}})]}]}]}
    path = write_lines(tmp_path / "old.jsonl", [request([agent, first, second]), logs])
    import_file(db, path)
    _check(_turns(db), [("system", "Scout", "Be brief."), ("user", "Scout", "What is x?"),
                        ("Scout", "lookup", 'lookup({"q": "x"})'), ("lookup", "Scout", "x is 42"),
                        ("Scout", None, "x is 42.")])


def test_non_genai_traces_are_skipped_and_counted(db, tmp_path):
    other = span(9, None, "GET /health", 0, 1, trace="f" * 32, http__method="GET")
    path = write_lines(tmp_path / "mixed.jsonl", [request(current_convention_spans() + [other])])
    result = import_file(db, path)
    assert result.traces_added == 1
    assert result.notes == {"traces without any LLM, agent or tool span, skipped": 1}


def test_missing_parent_is_repaired_and_reported_by_the_cli(tmp_path):
    spans = current_convention_spans()
    spans[5]["parentSpanId"] = sid(99)  # the Writer's chat call lost its agent span's parent
    del spans[4]
    path = write_lines(tmp_path / "orphan.jsonl", [request(spans)])
    db_path = tmp_path / "cli.db"
    out = run_cli("import", str(path), db=db_path)
    assert out.exit_code == 0, out.output
    assert "1 spans whose parent is not in the trace, attached to the trace's root" in out.output


def _bad(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize(("content", "message"), [
    (json.dumps(request(current_convention_spans())) + "\n" + '{"resourceSpans": [{"scopeSpans": [{"spa',
     r"line 2: malformed JSON .*truncated"),
    (json.dumps(request([span(1, None, "chat", 0, 1, gen_ai__operation__name="chat",
                              gen_ai__input__messages=42)])) + "\n",
     r"line 1 \(id 0000000000000001\): attribute gen_ai.input.messages must be a list of messages, not a number"),
    (json.dumps(request([span(1, None, "chat", 0, 1, gen_ai__operation__name="chat",
                              gen_ai__input__messages="[{oops")])) + "\n",
     r"\(id 0000000000000001\): attribute gen_ai.input.messages is not valid JSON"),
    (json.dumps(request([span(1, None, "chat", 0, 1, gen_ai__operation__name="chat",
                              gen_ai__input__messages="[" * 5000 + "]" * 5000)])) + "\n",
     r"\(id 0000000000000001\): attribute gen_ai.input.messages nests JSON too deeply"),
    (json.dumps(request(current_convention_spans())) + "\n" + json.dumps({"id": "x", "text": "a MAST record"}) + "\n",
     r"line 2: not an OTLP export"),
    (json.dumps(request(current_convention_spans())) + "\n" + json.dumps(request(current_convention_spans()[:1]))
     + "\n", r"line 2 \(id 0000000000000001\): duplicate span id"),
    (json.dumps(request([span(1, None, "chat", 0, 1, gen_ai__operation__name="chat")])) + "\n",
     r"no message content in any of its 1 spans \(.*CAPTURE_MESSAGE_CONTENT"),
    (json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz", "spanId": sid(1)}]}]}]}),
     r"line 1: traceId 'xyz' is not a 16-byte id"),
])
def test_bad_input_one_line_and_database_unchanged(tmp_path, content, message):
    db_path = tmp_path / "bad.db"
    good = write_lines(tmp_path / "good.jsonl", [request(current_convention_spans(), service="other")])
    import_file(store.connect(db_path), good, fmt="otel")
    before = db_fingerprint(db_path)
    path = _bad(tmp_path, "bad.jsonl", content)
    with pytest.raises(IngestError) as err:
        import_file(store.connect(db_path), path, fmt="otel")
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(path))
    import re
    assert re.search(message, text), text
    assert db_fingerprint(db_path) == before


def test_truncated_document_and_protobuf(tmp_path, db):
    doc = json.dumps(request(current_convention_spans()), indent=1)
    with pytest.raises(IngestError, match=r"doc.json: after span \d+: malformed or truncated JSON"):
        import_file(db, _bad(tmp_path, "doc.json", doc[: len(doc) // 2]), fmt="otel")
    data = _proto_request(current_convention_spans()).SerializeToString()
    with pytest.raises(IngestError, match=r"cut.pb: .*(message 1 is cut short|not an OTLP protobuf)"):
        import_file(db, _bad(tmp_path, "cut.pb", struct.pack(">I", len(data)) + data[:-10]), fmt="otel")

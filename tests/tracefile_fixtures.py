"""Exports written by the tests from the public schemas: Langfuse traces (public API shape), LangSmith runs,
OpenAI Agents SDK trace and span records. Times are seconds after 2025-03-01T10:00:00Z."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from helpers import db_fingerprint, run_cli


def turns_of(db: Path) -> list[tuple]:
    """(trace external id, speaker, recipient, text) of every turn segment, in trace and turn order."""
    con = sqlite3.connect(db)
    try:
        return con.execute('SELECT t.external_id, s.speaker, s.recipient, substr(t.text, s.start + 1, s."end" - s.start)'
                           " FROM segments s JOIN traces t ON t.id = s.trace_id WHERE s.scheme = 'turn'"
                           " ORDER BY t.id, s.idx").fetchall()
    finally:
        con.close()


def import_ok(db: Path, path: Path, *args: str):
    result = run_cli("import", str(path), *args, db=db)
    assert result.exit_code == 0, result.output + result.stderr
    return result


def refused_in_one_line(db: Path, path: Path, expect: str, *args: str) -> None:
    """The import fails with one line naming the file and saying `expect`, and the database is unchanged."""
    before = db_fingerprint(db)
    result = run_cli("import", str(path), *args, db=db)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert str(path) in lines[0] and expect in lines[0], lines[0]
    assert db_fingerprint(db) == before


def iso(second: float) -> str:
    whole = int(second)
    return f"2025-03-01T10:{whole // 60:02d}:{whole % 60:02d}.{round((second - whole) * 1e6):06d}Z"


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def write_lines(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


SYSTEM = {"role": "system", "content": "You plan trips."}
TASK = {"role": "user", "content": "Plan a day in Rome."}
CALL = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": '{"q": "Rome sights"}'}}]}
RESULT = {"role": "tool", "tool_call_id": "call_1", "content": "Colosseum, Vatican"}
FINAL = "Morning: Colosseum. Afternoon: Vatican."


def _obs(oid, otype, name, start, end, parent=None, **extra):
    return {"id": oid, "traceId": "lf-trace-1", "type": otype, "name": name, "startTime": iso(start),
            "endTime": iso(end), "parentObservationId": parent, "input": None, "output": None, "model": None,
            "level": "DEFAULT", "metadata": {}, **extra}


def langfuse_trace(trace_id: str = "lf-trace-1", session: str | None = "sess-1") -> dict:
    """A planner agent calls a search tool, hands the sights to a writer agent, and answers."""
    observations = [
        _obs("o1", "AGENT", "planner", 1, 20, input=TASK["content"], output=FINAL),
        _obs("o2", "GENERATION", "chat", 2, 3, "o1", model="gpt-4o-mini", input=[SYSTEM, TASK], output=CALL),
        _obs("o3", "TOOL", "search", 3.5, 4, "o1", input={"q": "Rome sights"}, output="Colosseum, Vatican"),
        _obs("o4", "AGENT", "writer", 5, 9, "o1", input="Write a plan around: Colosseum, Vatican", output=FINAL),
        _obs("o5", "GENERATION", "chat", 6, 8, "o4", model="gpt-4o-mini",
             input=[{"role": "user", "content": "Write a plan around: Colosseum, Vatican"}],
             output={"role": "assistant", "content": FINAL}),
    ]
    if trace_id != "lf-trace-1":  # observation ids are unique across traces in Langfuse
        for o in observations:
            o["id"] = f"{trace_id}-{o['id']}"
            o["parentObservationId"] = o["parentObservationId"] and f"{trace_id}-{o['parentObservationId']}"
    for o in observations:
        o["traceId"] = trace_id
    prefix = "" if trace_id == "lf-trace-1" else f"{trace_id}-"
    scores = [
        {"id": f"{prefix}s1", "traceId": trace_id, "name": "1.3", "value": 1, "dataType": "NUMERIC", "source": "ANNOTATION",
         "authorUserId": "ana", "timestamp": iso(30)},
        {"id": f"{prefix}s2", "traceId": trace_id, "name": "Disobey task specification", "value": 0.0,
         "stringValue": "False", "dataType": "BOOLEAN", "source": "ANNOTATION", "authorUserId": "ana",
         "timestamp": iso(30)},
        {"id": f"{prefix}s3", "traceId": trace_id, "name": "helpfulness", "value": 0.8, "dataType": "NUMERIC",
         "source": "EVAL", "timestamp": iso(31)},
    ]
    return {"id": trace_id, "name": "trip", "timestamp": iso(0.5), "sessionId": session, "input": TASK["content"],
            "output": FINAL, "observations": observations, "scores": scores}


# --------------------------------------------------------------------------------------------------
# LangSmith runs (a LangGraph graph: planner and writer nodes, LangChain-serialised messages)

def _lc(kind: str, content: str, **kwargs) -> dict:
    return {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", kind],
            "kwargs": {"content": content, **kwargs}}


def _uuid(n: int, trace: int = 0) -> str:
    return f"{trace:08x}-0000-4000-8000-{n:012x}"


def dotted(*parts: tuple[float, str]) -> str:
    """A dotted_order: per ancestor (root first) its start time as %Y%m%dT%H%M%S%fZ then its run id."""
    return ".".join(f"20250301T10{int(s) // 60:02d}{int(s) % 60:02d}{round((s - int(s)) * 1e6):06d}Z{rid}"
                    for s, rid in parts)


def langsmith_runs(trace: int = 0, thread: str | None = "thread-1") -> list[dict]:
    root, planner, llm1, tool, writer, llm2 = (_uuid(n, trace) for n in range(1, 7))
    starts = {root: 1, planner: 2, llm1: 3, tool: 4, writer: 6, llm2: 7}
    chain = {root: [root], planner: [root, planner], llm1: [root, planner, llm1], tool: [root, planner, tool],
             writer: [root, writer], llm2: [root, writer, llm2]}

    def run(rid, run_type, name, inputs, outputs, **extra):
        metadata = {"thread_id": thread} if thread else {}
        metadata.update(extra.pop("metadata", {}))
        path = chain[rid]
        return {"id": rid, "trace_id": root, "parent_run_id": path[-2] if len(path) > 1 else None,
                "dotted_order": dotted(*((starts[r], r) for r in path)), "run_type": run_type, "name": name,
                "inputs": inputs, "outputs": outputs, "start_time": iso(starts[rid]), "end_time": iso(starts[rid] + 0.5),
                "error": None, "extra": {"metadata": metadata, **extra}}

    call = _lc("AIMessage", "", tool_calls=[{"name": "search", "args": {"q": "Rome sights"}, "id": "call_1"}])
    return [
        run(root, "chain", "LangGraph", {"messages": [TASK]}, {"messages": [TASK, {"role": "assistant", "content": FINAL}]}),
        run(planner, "chain", "planner", {"messages": [TASK]}, None, metadata={"langgraph_node": "planner"}),
        run(llm1, "llm", "ChatOpenAI", {"messages": [[_lc("SystemMessage", "You plan trips."),
                                                      _lc("HumanMessage", TASK["content"])]]},
            {"generations": [[{"text": "", "message": call}]]}, invocation_params={"model": "gpt-4o-mini"}),
        run(tool, "tool", "search", {"input": "{'q': 'Rome sights'}"}, {"output": "Colosseum, Vatican"}),
        run(writer, "chain", "writer", {"messages": [TASK]}, None, metadata={"langgraph_node": "writer"}),
        run(llm2, "llm", "ChatOpenAI",
            {"messages": [{"role": "assistant", "name": "planner", "content": "Write a plan around: Colosseum, Vatican"}]},
            {"choices": [{"message": {"role": "assistant", "content": FINAL}}]},
            invocation_params={"model": "gpt-4o-mini"}),
    ]


def langsmith_feedback(trace: int = 0) -> list[dict]:
    root = _uuid(1, trace)
    return [
        {"id": f"f{trace}-1", "run_id": root, "trace_id": root, "key": "FM-2.6", "score": 0,
         "feedback_source": {"type": "model"}},
        {"id": f"f{trace}-2", "run_id": _uuid(5, trace), "trace_id": root, "key": "Step repetition", "score": 1,
         "feedback_source": {"type": "app"}, "created_by": "ana"},
        {"id": f"f{trace}-3", "run_id": root, "trace_id": root, "key": "correctness", "score": 1,
         "feedback_source": {"type": "api"}},
    ]


# --------------------------------------------------------------------------------------------------
# OpenAI Agents SDK: Trace.export() and Span.export() records (a triage agent hands off to a weather agent)

def agents_records(trace_id: str = "trace_0123456789abcdef0123456789abcdef", group: str | None = "conv-1",
                   *, responses: bool = False) -> list[dict]:
    def span(sid, parent, start, end, data):
        return {"object": "trace.span", "id": f"span_{sid}_{trace_id[-6:]}", "trace_id": trace_id,
                "parent_id": parent and f"span_{parent}_{trace_id[-6:]}", "started_at": iso(start),
                "ended_at": iso(end), "span_data": data, "error": None}

    ask = {"role": "user", "content": "Weather in Paris?"}
    if responses:
        gen1 = {"type": "response", "response_id": "resp_1", "usage": {"input_tokens": 10}}
        gen2 = {"type": "response", "response_id": "resp_2", "usage": {"input_tokens": 20}}
    else:
        gen1 = {"type": "generation", "model": "gpt-4o-mini", "model_config": {}, "usage": {},
                "input": [{"role": "system", "content": "You triage."}, ask],
                "output": [{"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_h", "type": "function",
                     "function": {"name": "transfer_to_weather", "arguments": "{}"}}]}]}
        gen2 = {"type": "generation", "model": "gpt-4o-mini", "model_config": {}, "usage": {},
                "input": [{"role": "system", "content": "You report weather."}, ask],
                "output": [{"role": "assistant", "content": "Sunny, 21 C in Paris."}]}
    return [
        {"object": "trace", "id": trace_id, "workflow_name": "Agent workflow", "group_id": group, "metadata": None},
        span("a1", None, 1, 4, {"type": "agent", "name": "triage", "handoffs": ["weather"], "tools": [],
                                "output_type": "str"}),
        span("g1", "a1", 1.5, 2, gen1),
        span("h1", "a1", 2.5, 2.6, {"type": "handoff", "from_agent": "triage", "to_agent": "weather"}),
        span("a2", None, 5, 9, {"type": "agent", "name": "weather", "handoffs": [], "tools": ["get_weather"],
                                "output_type": "str"}),
        span("f1", "a2", 6, 6.5, {"type": "function", "name": "get_weather", "input": '{"city": "Paris"}',
                                  "output": "sunny, 21 C", "mcp_data": None}),
        span("g2", "a2", 7, 8, gen2),
    ]

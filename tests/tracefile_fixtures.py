"""Exports written by the tests from the public schemas: Langfuse traces (public API shape), LangSmith runs,
OpenAI Agents SDK trace and span records. Times are seconds after 2025-03-01T10:00:00Z."""

from __future__ import annotations

import json
from pathlib import Path


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

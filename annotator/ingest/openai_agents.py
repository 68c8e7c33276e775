"""`--format openai-agents`: OpenAI Agents SDK traces, as its tracing exports them (`Trace.export()` and
`Span.export()` records: one per line, a JSON array, or the `{"data": [...]}` payload the SDK sends).

Trace record: {"object": "trace", "id", "workflow_name", "group_id", "metadata"}.
Span record: {"object": "trace.span", "id", "trace_id", "parent_id", "started_at", "ended_at", "span_data", "error"}
with span_data by "type": agent (name, handoffs, tools), generation (input, output, model: chat messages),
function (name, input, output), handoff (from_agent, to_agent), response (response_id, usage: no text),
custom, guardrail, and others (kept for their place in the tree, nothing to say).

`group_id` (a conversation thread) is the session for `--group session`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.ingest import exports, fields
from annotator.ingest.fields import BadField
from annotator.ingest.records import ImportNote, TraceRecord, fail, kind_of
from annotator.ingest.spans import AGENT, HANDOFF, LLM, OTHER, TOOL, Span, ToolCall, as_text, read_traces

FRAMEWORK = "OpenAI Agents SDK"
RESPONSE_NOTE = ("response spans, which the OpenAI Agents SDK exports without message text (only the response "
                 "id): those model turns are not in the trace")
EMPTY_HINT = ("the model calls are response spans, exported without message text; a Chat Completions model "
              "records generation spans with the messages")


def looks_like(record: Any) -> bool:
    return isinstance(record, dict) and record.get("object") in ("trace", "trace.span")


def _trace(record: dict, locator: str) -> Span:
    """The trace record as a contentless root: its workflow name (a tag) and group id (the session)."""
    trace_id = fields.text(record, "id", required=True) or ""
    workflow = fields.text(record, "workflow_name")
    return Span(trace_id, f"trace {trace_id}", None, workflow or "", OTHER, session=fields.text(record, "group_id"),
                resource={"workflow_name": workflow} if workflow else {}, framework=FRAMEWORK, locator=locator)


def _span(record: dict, locator: str) -> Span:
    data = record.get("span_data")
    if not isinstance(data, dict):
        raise BadField(f"field 'span_data' must be an object, not {kind_of(data)}")
    kind_name = fields.text(data, "type") or ""
    span = Span(fields.text(record, "trace_id", required=True) or "", fields.text(record, "id", required=True) or "",
                fields.text(record, "parent_id"), kind_name, OTHER, fields.time_ns(record, "started_at"),
                fields.time_ns(record, "ended_at"), framework=FRAMEWORK, locator=locator)
    _read_data(span, kind_name, data)
    return span


def _read_data(span: Span, kind_name: str, data: dict) -> None:
    if kind_name == "agent":
        span.kind, span.agent = AGENT, fields.text(data, "name", required=True)
        span.name = span.agent or ""
    elif kind_name == "generation":
        span.kind, span.model = LLM, fields.text(data, "model")
        span.inputs = fields.messages(data.get("input"), default_role="user")
        span.outputs = fields.messages(data.get("output"), default_role="assistant")
    elif kind_name == "function":
        span.kind, span.name = TOOL, fields.text(data, "name") or "tool"
        span.tool = ToolCall(span.name, as_text(data.get("input")))
        span.tool_result = as_text(data["output"]) if data.get("output") is not None else None
    elif kind_name == "handoff":
        span.kind, span.handoff_to = HANDOFF, fields.text(data, "to_agent")
        span.agent = fields.text(data, "from_agent")
    elif kind_name == "response":
        span.kind = LLM  # a model call all the same: the agents' turns around it stay in order
        span.notes.append(RESPONSE_NOTE)
    elif kind_name == "custom":
        span.name = fields.text(data, "name") or "custom"


def _spans(path: Path) -> Iterator[Span]:
    for locator, record in exports.records(path):
        try:
            if not isinstance(record, dict) or record.get("object") not in ("trace", "trace.span"):
                raise BadField("not an OpenAI Agents trace or span record (expected \"object\": \"trace\" or "
                               "\"trace.span\")")
            yield _trace(record, locator) if record["object"] == "trace" else _span(record, locator)
        except BadField as exc:
            record_id = record.get("id") if isinstance(record, dict) else None
            raise fail(path, str(exc), record=locator, record_id=record_id) from None


def read(path: Path, *, group: str = "trace") -> Iterator[TraceRecord | ImportNote]:
    """One TraceRecord per Agents SDK trace (or per group_id with group="session")."""
    yield from read_traces(path, _spans(path), group=group, empty_hint=EMPTY_HINT)

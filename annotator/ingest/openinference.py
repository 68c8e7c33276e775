"""`--format openinference`: spans with OpenInference attributes, as OTLP files or Phoenix span exports.

Attributes read (openinference-semantic-conventions): `openinference.span.kind` (LLM, AGENT, TOOL, CHAIN...),
`llm.input_messages` / `llm.output_messages` (flattened `.<i>.message.role|content|name|tool_call_id`,
`.message.contents.<k>.message_content.text`, `.message.tool_calls.<j>.tool_call.id|function.name|
function.arguments`), `llm.model_name`, `input.value` / `output.value`, `agent.name`, `graph.node.id` /
`graph.node.name`, `session.id`, `tool.name`, `tool_call.id`. Phoenix's span dataframe names the same
attributes `attributes.<name>` (messages may come as lists of objects instead of flattened keys) and the
span's own fields `context.span_id`, `context.trace_id`, `parent_id`, `name`, `span_kind`, `start_time`,
`end_time`; see phoenix.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.core.jsonlimits import JsonTooDeepError, loads_bounded
from annotator.ingest import otlp, phoenix
from annotator.ingest.genai import BadAttribute, openai_message, spans_of
from annotator.ingest.otlp import flatten, indexed
from annotator.ingest.records import ImportNote, TraceRecord
from annotator.ingest.spans import AGENT, CHAIN, LLM, OTHER, TOOL, Message, Span, ToolCall, as_text, read_traces

KINDS = {"LLM": LLM, "AGENT": AGENT, "TOOL": TOOL, "CHAIN": CHAIN}
CONTENT_HINT = ("OpenInference instrumentations leave message content out when OPENINFERENCE_HIDE_INPUTS, "
                "OPENINFERENCE_HIDE_INPUT_MESSAGES or similar are set")
_SERVICE = "service.name"


def _message(fields: dict[str, Any], default_role: str) -> Message:
    content = fields.get("message.content")
    if content is None:
        texts = [c.get("message_content.text") for c in indexed(fields, "message.contents")]
        content = "\n".join(str(t) for t in texts if t is not None)
    calls = tuple(ToolCall(str(c.get("tool_call.function.name") or "tool"),
                           as_text(c.get("tool_call.function.arguments")),
                           str(c["tool_call.id"]) if c.get("tool_call.id") else None)
                  for c in indexed(fields, "message.tool_calls"))
    if not calls and fields.get("message.function_call_name"):
        calls = (ToolCall(str(fields["message.function_call_name"]),
                          as_text(fields.get("message.function_call_arguments_json"))),)
    role = fields.get("message.role")
    return Message(str(role) if role else default_role, as_text(content),
                   name=str(fields["message.name"]) if fields.get("message.name") else None, tool_calls=calls,
                   tool_call_id=str(fields["message.tool_call_id"]) if fields.get("message.tool_call_id") else None)


def messages(attrs: dict[str, Any], prefix: str, default_role: str) -> list[Message]:
    return [_message(fields, default_role) for fields in indexed(attrs, prefix)]


def _structured(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return loads_bounded(value)
        except (json.JSONDecodeError, JsonTooDeepError):
            return value
    return value


def value_messages(value: Any, role: str) -> list[Message]:
    """input.value / output.value: an OpenAI request or response, a message list, or plain text."""
    data = _structured(value)
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        return [openai_message(m, default_role=role) for m in data["messages"]]
    if isinstance(data, dict) and isinstance(data.get("choices"), list):
        return [openai_message(c.get("message") if isinstance(c, dict) else c, default_role=role)
                for c in data["choices"]]
    if isinstance(data, list) and data and all(isinstance(m, dict) and "role" in m for m in data):
        return [openai_message(m, default_role=role) for m in data]
    text = as_text(data)
    return [Message(role, text)] if text.strip() else []


def _text(attrs: dict[str, Any], name: str) -> str | None:
    value = attrs.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, dict | list):
        raise BadAttribute(f"attribute {name} must be text, not an object")
    return str(value)


def to_span(raw: otlp.OtlpSpan) -> Span:
    """A Span from an OTLP span (or a Phoenix row shaped as one) with OpenInference attributes."""
    attrs = flatten(raw.attributes, "", {})
    kind = KINDS.get(str(attrs.get("openinference.span.kind") or raw.extra.get("span_kind") or "").upper(), OTHER)
    agent = _text(attrs, "agent.name")
    if agent is None and kind == AGENT:
        agent = _text(attrs, "graph.node.name") or _text(attrs, "graph.node.id") or raw.name or None
    span = Span(raw.trace_id, raw.span_id, raw.parent_id, raw.name, kind, raw.start_ns, raw.end_ns, agent=agent,
                session=_text(attrs, "session.id"),
                model=_text(attrs, "llm.model_name") or _text(attrs, "llm.response.model_name"),
                framework=raw.scope if kind != OTHER else None,
                service=as_text(raw.resource[_SERVICE]) if raw.resource.get(_SERVICE) else None,
                resource={k: as_text(v) for k, v in raw.resource.items() if k != _SERVICE}, locator=raw.locator)
    if kind == LLM:
        span.inputs = messages(attrs, "llm.input_messages", "user") or value_messages(attrs.get("input.value"), "user")
        span.outputs = (messages(attrs, "llm.output_messages", "assistant")
                        or value_messages(attrs.get("output.value"), "assistant"))
    elif kind == TOOL:
        span.tool = ToolCall(_text(attrs, "tool.name") or raw.name or "tool",
                             as_text(_structured(attrs.get("input.value") or attrs.get("tool.parameters") or "")),
                             _text(attrs, "tool_call.id"))
        span.tool_result = as_text(attrs["output.value"]) if attrs.get("output.value") is not None else None
    elif kind == AGENT or (kind == CHAIN and raw.parent_id is None):
        span.inputs = value_messages(attrs.get("input.value"), "user")
        span.outputs = value_messages(attrs.get("output.value"), "assistant")
    span.labels = list(raw.extra.get("labels", []))
    span.notes = list(raw.extra.get("notes", []))
    return span


def read(path: Path, *, group: str = "trace", taxonomy: str = "mast") -> Iterator[TraceRecord | ImportNote]:
    """One TraceRecord per trace id (or session) of an OTLP file or a Phoenix span export."""
    if phoenix.is_phoenix(path):
        items = phoenix.read_rows(path, taxonomy=taxonomy)
        yield from read_traces(path, spans_of(path, items, to_span), group=group, empty_hint=CONTENT_HINT)
        return
    yield from read_traces(path, spans_of(path, otlp.read_file(path), to_span), group=group,
                           empty_hint=CONTENT_HINT)

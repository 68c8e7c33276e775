"""`--format otel`: OTLP spans read with the OpenTelemetry GenAI semantic conventions, both generations.

Current (semconv 1.37+): `gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.system_instructions`
(messages of role and parts: text, tool_call, tool_call_response); `gen_ai.operation.name` invoke_agent
with `gen_ai.agent.name`; execute_tool with `gen_ai.tool.name`, `gen_ai.tool.call.id`,
`gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`.
Older (semconv 1.28-1.36, still the default of many instrumentations): one event per message,
`gen_ai.system.message`, `gen_ai.user.message`, `gen_ai.assistant.message`, `gen_ai.tool.message` and
`gen_ai.choice`, as span events or as log records tied to the span; and the oldest span events
`gen_ai.content.prompt` / `gen_ai.content.completion` with `gen_ai.prompt` / `gen_ai.completion`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.ingest import otlp
from annotator.ingest.records import ImportNote, TraceRecord, fail, kind_of
from annotator.ingest.spans import AGENT, LLM, OTHER, TOOL, Message, Span, SpanEvent, ToolCall, as_text, read_traces

CONTENT_HINT = ("an instrumentation records message content only when told to, e.g. "
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true")
LLM_OPERATIONS = ("chat", "text_completion", "generate_content")
OTHER_PARTS = "message parts other than text and tool calls (images, files...), shown by their type"
_EVENT_ROLES = {"gen_ai.system.message": "system", "gen_ai.user.message": "user",
                "gen_ai.assistant.message": "assistant", "gen_ai.tool.message": "tool"}
_SERVICE = "service.name"


class BadAttribute(ValueError):
    """An attribute of the wrong type; the reader names the file and span."""


# --------------------------------------------------------------------------------------------------
# Messages


def _json_value(value: Any, name: str) -> Any:
    """An attribute that holds JSON: as text (the usual encoding) or already structured (any-value)."""
    if isinstance(value, str):
        try:
            # json.loads, not loads_bounded: its depth scan doubled the import time of message attributes,
            # and the C decoder refuses deep nesting itself (RecursionError), which is caught here
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise BadAttribute(f"attribute {name} is not valid JSON ({str(exc).splitlines()[0][:80]})") from None
        except RecursionError:
            raise BadAttribute(f"attribute {name} nests JSON too deeply") from None
    return value


def _text(value: Any) -> str:
    """Message content: text, a list of text parts joined, anything else as JSON."""
    if isinstance(value, list) and all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in value):
        return "\n".join(p["text"] for p in value)
    return as_text(value)


def parts_messages(value: Any, name: str, notes: list[str], *, default_role: str | None = None) -> list[Message]:
    """Messages of the current conventions: [{"role", "parts": [...], "name"?}] (a tool response is its own)."""
    data = _json_value(value, name)
    if not isinstance(data, list):
        raise BadAttribute(f"attribute {name} must be a list of messages, not {kind_of(data)}")
    out: list[Message] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("parts", []), list):
            raise BadAttribute(f"attribute {name}[{i}] must be a message with a list of 'parts'")
        role = item.get("role") if isinstance(item.get("role"), str) else default_role
        texts: list[str] = []
        calls: list[ToolCall] = []
        for part in item.get("parts", []):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" or kind == "reasoning":
                texts.append(as_text(part.get("content")))
            elif kind == "tool_call":
                calls.append(ToolCall(str(part.get("name") or "tool"), as_text(part.get("arguments")),
                                      str(part["id"]) if part.get("id") else None))
            elif kind == "tool_call_response":
                out.append(Message("tool", as_text(part.get("response")),
                                   tool_call_id=str(part["id"]) if part.get("id") else None))
            else:
                notes.append(OTHER_PARTS)
                texts.append(f"[{kind or 'part'}]")
        if texts or calls:
            out.append(Message(role, "\n".join(texts), name=_opt(item.get("name")), tool_calls=tuple(calls)))
    return out


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def openai_tool_calls(value: Any) -> tuple[ToolCall, ...]:
    """OpenAI-style tool calls: [{"id", "type": "function", "function": {"name", "arguments"}}]."""
    calls = []
    for call in value if isinstance(value, list) else []:
        if not isinstance(call, dict):
            continue
        function = call.get("function") if isinstance(call.get("function"), dict) else call
        calls.append(ToolCall(str(function.get("name") or "tool"), as_text(function.get("arguments")),
                              _opt(call.get("id"))))
    return tuple(calls)


def openai_message(item: Any, *, default_role: str | None = None) -> Message:
    """An OpenAI-format chat message {"role", "content", "name"?, "tool_calls"?, "tool_call_id"?}."""
    if not isinstance(item, dict):
        return Message(default_role, as_text(item))
    return Message(_opt(item.get("role")) or default_role, _text(item.get("content")), name=_opt(item.get("name")),
                   tool_calls=openai_tool_calls(item.get("tool_calls")),
                   tool_call_id=_opt(item.get("tool_call_id") or item.get("id")))


# --------------------------------------------------------------------------------------------------
# Older conventions: events


def _body(event: SpanEvent) -> dict:
    if isinstance(event.body, dict):
        return event.body
    packed = event.attributes.get("gen_ai.event.content")
    if isinstance(packed, str | dict):
        value = _json_value(packed, "gen_ai.event.content")
        if isinstance(value, dict):
            return value
    return {k: v for k, v in event.attributes.items() if not k.startswith(("gen_ai.system", "event."))}


def apply_events(span: Span) -> None:
    """Messages from the span's events (older conventions), unless its attributes gave them already."""
    if span.kind != LLM:
        return
    inputs: list[Message] = []
    outputs: list[tuple[int, Message]] = []
    for event in sorted(span.events, key=lambda e: e.time_ns or 0):
        _read_event(event, inputs, outputs)
    if inputs and not span.inputs:
        span.inputs = inputs
    if outputs and not span.outputs:
        span.outputs = [m for _, m in sorted(outputs, key=lambda pair: pair[0])]


def _read_event(event: SpanEvent, inputs: list[Message], outputs: list[tuple[int, Message]]) -> None:
    if event.name in _EVENT_ROLES:
        body = _body(event)
        inputs.append(openai_message(body, default_role=_EVENT_ROLES[event.name]))
    elif event.name == "gen_ai.choice":
        body = _body(event)
        message = body.get("message") if isinstance(body.get("message"), dict) else body
        index = body.get("index") if isinstance(body.get("index"), int) else len(outputs)
        outputs.append((index, openai_message(message, default_role="assistant")))
    elif event.name in ("gen_ai.content.prompt", "gen_ai.content.completion"):
        key = "gen_ai.prompt" if event.name.endswith("prompt") else "gen_ai.completion"
        data = _json_value(event.attributes.get(key), key)
        items = data if isinstance(data, list) else [data] if data is not None else []
        role = "user" if key == "gen_ai.prompt" else "assistant"
        messages = [openai_message(item, default_role=role) for item in items]
        if key == "gen_ai.prompt":
            inputs.extend(messages)
        else:
            outputs.extend(enumerate(messages, start=len(outputs)))


# --------------------------------------------------------------------------------------------------
# Spans


def _operation(raw: otlp.OtlpSpan) -> str:
    operation = raw.attributes.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation:
        return operation
    return raw.name.split(" ", 1)[0] if raw.name.split(" ", 1)[0] in (
        *LLM_OPERATIONS, "invoke_agent", "execute_tool", "create_agent") else ""


def _kind(operation: str, attributes: dict) -> str:
    if operation in LLM_OPERATIONS:
        return LLM
    if operation == "invoke_agent":
        return AGENT
    if operation == "execute_tool":
        return TOOL
    return AGENT if attributes.get("gen_ai.agent.name") and not operation else OTHER


def _string(attributes: dict, name: str) -> str | None:
    value = attributes.get(name)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise BadAttribute(f"attribute {name} must be text, not {kind_of(value)}")
    return str(value)


def to_span(raw: otlp.OtlpSpan) -> Span:
    """A Span from an OTLP span under the GenAI conventions (messages from attributes; events later)."""
    attrs = raw.attributes
    kind = _kind(_operation(raw), attrs)
    resource = {k: as_text(v) for k, v in raw.resource.items() if k != _SERVICE}
    span = Span(raw.trace_id, raw.span_id, raw.parent_id, raw.name, kind, raw.start_ns, raw.end_ns,
                agent=_string(attrs, "gen_ai.agent.name"),
                session=_string(attrs, "gen_ai.conversation.id") or _string(attrs, "session.id"),
                model=_string(attrs, "gen_ai.response.model") or _string(attrs, "gen_ai.request.model"),
                framework=raw.scope if kind in (LLM, AGENT, TOOL) else None,
                service=as_text(raw.resource[_SERVICE]) if raw.resource.get(_SERVICE) else None,
                resource=resource, events=raw.events, locator=raw.locator)
    if "gen_ai.system_instructions" in attrs:
        span.inputs += _bare_parts(attrs["gen_ai.system_instructions"], span.notes)
    if "gen_ai.input.messages" in attrs:
        span.inputs += parts_messages(attrs["gen_ai.input.messages"], "gen_ai.input.messages", span.notes)
    if "gen_ai.output.messages" in attrs:
        span.outputs = parts_messages(attrs["gen_ai.output.messages"], "gen_ai.output.messages", span.notes,
                                      default_role="assistant")
    if kind == TOOL:
        arguments = attrs.get("gen_ai.tool.call.arguments")
        span.tool = ToolCall(_string(attrs, "gen_ai.tool.name") or raw.name.removeprefix("execute_tool ").strip()
                             or "tool", as_text(_json_value(arguments, "gen_ai.tool.call.arguments")
                                                if isinstance(arguments, str) else arguments),
                             _string(attrs, "gen_ai.tool.call.id"))
        if "gen_ai.tool.call.result" in attrs:
            span.tool_result = as_text(attrs["gen_ai.tool.call.result"])
    return span


def _bare_parts(value: Any, notes: list[str]) -> list[Message]:
    """System instructions are a list of parts, not of messages: one system message of their text."""
    data = _json_value(value, "gen_ai.system_instructions")
    if not isinstance(data, list):
        raise BadAttribute(f"attribute gen_ai.system_instructions must be a list of parts, not {kind_of(data)}")
    return parts_messages([{"role": "system", "parts": data}], "gen_ai.system_instructions", notes)


def spans_of(path: Path, items: Iterator[otlp.OtlpSpan | SpanEvent], convert=to_span) -> Iterator[Span | SpanEvent]:
    for item in items:
        if isinstance(item, SpanEvent):
            yield item
            continue
        try:
            yield convert(item)
        except BadAttribute as exc:
            raise fail(path, str(exc), record=item.locator or None, record_id=item.span_id) from None


def read(path: Path, *, group: str = "trace") -> Iterator[TraceRecord | ImportNote]:
    """One TraceRecord per trace id (or session) of an OTLP trace file."""

    def prepare(span: Span) -> None:
        try:
            apply_events(span)
        except BadAttribute as exc:
            raise fail(path, f"event of the span: {exc}", record=span.locator or None, record_id=span.span_id) from None

    yield from read_traces(path, spans_of(path, otlp.read_file(path)), group=group, empty_hint=CONTENT_HINT,
                           prepare=prepare)

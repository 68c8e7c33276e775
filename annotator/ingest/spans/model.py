"""What a span-based trace format is read into before it becomes a trace: spans, messages, tool calls.

Format-neutral: OpenTelemetry GenAI, OpenInference, Langfuse observations, LangSmith runs, OpenAI Agents
SDK spans and AG2 log rows are each turned into `Span` objects by their reader; `assemble` (assemble.py)
then builds one trace from them. Readers fill what their format says and leave the rest None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from annotator.ingest.records import RecordLabels

# Span kinds the assembly tells apart; readers map their own vocabulary onto these.
LLM, AGENT, TOOL, HANDOFF, CHAIN, OTHER = "llm", "agent", "tool", "handoff", "chain", "other"
KINDS = (LLM, AGENT, TOOL, HANDOFF, CHAIN, OTHER)
GENAI_KINDS = (LLM, AGENT, TOOL, HANDOFF)  # a trace without any of these is not an LLM trace


@dataclass(frozen=True)
class ToolCall:
    """A request to run a tool: its name, its arguments as text (JSON where the format gives JSON), its id."""

    name: str
    arguments: str = ""
    id: str | None = None


@dataclass
class Message:
    """One chat message as a format records it.

    ``name`` is the author where the format names one (an agent, a user's name); ``recipient`` the addressee
    where known. A tool result is ``role="tool"`` with ``tool_call_id`` naming the call it answers.
    """

    role: str | None = None  # system | user | assistant | tool | anything the format says
    content: str = ""
    name: str | None = None
    recipient: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    @property
    def empty(self) -> bool:
        return not self.content.strip() and not self.tool_calls


@dataclass
class SpanEvent:
    """Something recorded at a point in a span's life: an OTLP span event, or a log record tied to a span.

    Readers that find such events apart from their span (OTLP logs) yield them beside the spans; grouping
    hands them to the span with the same id, and the reader's `prepare` step reads them (see group.py).
    """

    trace_id: str
    span_id: str
    name: str
    time_ns: int | None = None
    attributes: dict[str, object] = field(default_factory=dict)
    body: object = None
    locator: str = ""


@dataclass
class Span:
    """One span (observation, run, event) of a trace.

    Times are nanoseconds since the Unix epoch (OTLP's unit; see `ns_from_iso` for formats that write text).
    ``agent`` is the agent this span acts for when the span itself names it (an invoke_agent span, an agent
    run); spans below it inherit it. ``tool`` and ``tool_result`` describe a tool execution; ``handoff_to``
    the agent a handoff passes control to. ``locator`` is how error messages name the span's place in the
    file ("line 4"); ``labels`` are a rater's labels found on the span (annotations, scores, feedback).
    """

    trace_id: str
    span_id: str
    parent_id: str | None = None
    name: str = ""
    kind: str = OTHER
    start_ns: int | None = None
    end_ns: int | None = None
    agent: str | None = None
    inputs: list[Message] = field(default_factory=list)
    outputs: list[Message] = field(default_factory=list)
    tool: ToolCall | None = None
    tool_result: str | None = None
    handoff_to: str | None = None
    session: str | None = None
    model: str | None = None
    framework: str | None = None
    service: str | None = None
    resource: dict[str, str] = field(default_factory=dict)  # resource attributes except service.name
    attributes: dict[str, str] = field(default_factory=dict)  # what the reader kept and did not interpret
    labels: list[RecordLabels] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader could not read here (counted per import)
    events: list[SpanEvent] = field(default_factory=list)
    locator: str = ""

    @property
    def has_content(self) -> bool:
        return (any(not m.empty for m in self.inputs + self.outputs) or self.tool is not None
                or self.tool_result is not None or self.handoff_to is not None)


def ns_from_iso(text: str) -> int:
    """Nanoseconds since the epoch from ISO 8601 text ("2025-01-02T03:04:05.123456789Z"); naive means UTC.

    Raises ValueError for text that is not a time. Digits beyond microseconds are kept, not rounded away.
    """
    raw = text.strip()
    fraction_ns = 0
    head, dot, tail = raw.partition(".")
    if dot:
        digits = len(tail) - len(tail.lstrip("0123456789"))
        fraction, zone = tail[:digits], tail[digits:]
        if not fraction:
            raise ValueError(f"not a time: {text!r}")
        fraction_ns = int(fraction[:9].ljust(9, "0"))
        raw = head + zone
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000 + fraction_ns


def iso_from_ns(ns: int | None) -> str | None:
    """ISO 8601 UTC text with nanoseconds, or None for an unknown time."""
    if ns is None:
        return None
    seconds, rest = divmod(int(ns), 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest:09d}Z"


def as_text(value: object) -> str:
    """A structured value as message text: text as-is, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)

"""One trace from its spans: order, speakers, recipients, no repeated prompt history.

Order: the spans form a tree (parent before child); siblings go by start time, then by their place in the
file. A span contributes its new input messages when it is entered and its output when it is left, so an
agent span's final answer comes after the LLM calls and tools inside it. Each contribution is one turn:

- an LLM call: the input messages not seen before in the trace (the user's task, a tool result that no
  tool span reported), then its output, said by the agent the call runs for;
- an agent or chain span: its input and output messages, unless a span inside already said the same;
- a tool span: the call and its result, one turn, said by the tool, addressed to the agent that called it;
- a handoff: said by the agent that hands off, addressed to the agent that takes over.

"Seen before" compares a message's text and tool calls, not its role or name: history replayed to another
agent often arrives as a "user" message without the author's name. A message repeated on purpose (the
same "continue" twice) is kept: a span adds a message when it holds more copies of it than were said.

Repairs and refusals: a span whose parent is not in the trace is attached to the trace's root and counted
in the import summary; duplicate span ids and parent cycles are refused (IngestError naming the span).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from annotator.core.turns import render_messages
from annotator.ingest.records import IngestError, RecordLabels, TraceRecord, fail
from annotator.ingest.spans.model import (
    AGENT,
    GENAI_KINDS,
    HANDOFF,
    LLM,
    TOOL,
    Message,
    Span,
    iso_from_ns,
)

MISSING_PARENT = "spans whose parent is not in the trace, attached to the trace's root"
SERVICE_TAG = "service.name"


def _fail(source: object, span: Span, reason: str) -> IngestError:
    return fail(source, reason, record=span.locator or None, record_id=span.span_id)


# --------------------------------------------------------------------------------------------------
# The tree


def _index(source: object, spans: list[Span]) -> dict[str, Span]:
    by_id: dict[str, Span] = {}
    for span in spans:
        if span.span_id in by_id:
            raise _fail(source, span, f"duplicate span id {span.span_id} in trace {span.trace_id}")
        by_id[span.span_id] = span
    return by_id


def _parents(spans: list[Span], by_id: dict[str, Span], notes: Counter[str]) -> dict[str, str | None]:
    """Each span's parent in the tree; a missing parent is replaced by the root of the span's trace (its earliest
    parentless span; a session holds several traces), else the span becomes a root itself."""
    roots: dict[str, Span] = {}
    for span in sorted((s for s in spans if not s.parent_id), key=_start_key(spans)):
        roots.setdefault(span.trace_id, span)
    parents: dict[str, str | None] = {}
    for span in spans:
        parent = span.parent_id or None
        if parent is not None and parent not in by_id:
            notes[MISSING_PARENT] += 1
            root = roots.get(span.trace_id)
            parent = root.span_id if root is not None else None
        parents[span.span_id] = parent
    return parents


def _start_key(spans: list[Span]):
    position = {id(s): i for i, s in enumerate(spans)}
    return lambda s: (s.start_ns if s.start_ns is not None else -1, position[id(s)])


def _check_cycles(source: object, by_id: dict[str, Span], parents: dict[str, str | None]) -> None:
    """Refuse a parent chain that comes back to itself (it would never reach a root)."""
    settled: set[str] = set()
    for span_id in parents:
        chain: list[str] = []
        on_chain: set[str] = set()
        current: str | None = span_id
        while current is not None and current not in settled:
            if current in on_chain:
                raise _fail(source, by_id[current], f"parent cycle: span {current} is its own ancestor")
            chain.append(current)
            on_chain.add(current)
            current = parents[current]
        settled.update(chain)


def _walk(spans: list[Span], parents: dict[str, str | None]) -> Iterable[tuple[str, Span]]:
    """("enter", span) and ("leave", span) events, depth first, siblings by start time then file order."""
    key = _start_key(spans)
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        children.setdefault(parents[span.span_id], []).append(span)
    for group in children.values():
        group.sort(key=key)
    stack: list[tuple[str, Span]] = [("enter", s) for s in reversed(children.get(None, []))]
    while stack:  # iterative: a chain of 100,000 nested spans must not hit the recursion limit
        event, span = stack.pop()
        yield event, span
        if event == "enter":
            stack.append(("leave", span))
            stack.extend(("enter", c) for c in reversed(children.get(span.span_id, [])))


# --------------------------------------------------------------------------------------------------
# Turns


def _normal_arguments(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False)
    except ValueError:
        return " ".join(text.split())


def _key(content: str, tool_calls: Iterable = ()) -> tuple:
    calls = tuple(sorted((c.name, _normal_arguments(c.arguments)) for c in tool_calls))
    return " ".join(content.split()), calls


def _call_text(message: Message) -> str:
    lines = [message.content] if message.content.strip() else []
    for call in message.tool_calls:
        ident = f" {call.id}" if call.id else ""
        lines.append(f"[tool call{ident}] {call.name}({call.arguments})")
    return "\n".join(lines)


class _Turns:
    """The turns of one trace as they are found, with what has been said so far."""

    def __init__(self, parents: dict[str, str | None], by_id: dict[str, Span]):
        self.parents, self.by_id = parents, by_id
        self.messages: list[dict] = []
        self.said: Counter[tuple] = Counter()
        self.tool_names: dict[str, str] = {}  # tool call id -> tool name, to name tool results

    def agent_of(self, span: Span) -> str | None:
        current: Span | None = span
        while current is not None:
            if current.agent:
                return current.agent
            parent = self.parents[current.span_id]
            current = self.by_id[parent] if parent else None
        return None

    def caller_of(self, span: Span) -> str | None:
        """The agent above the one this span acts for (who an agent's answer goes back to)."""
        own = self.agent_of(span)
        parent = self.parents[span.span_id]
        while parent:
            above = self.agent_of(self.by_id[parent])
            if above and above != own:
                return above
            parent = self.parents[parent]
        return None

    def add(self, span: Span, *, speaker: str | None, role: str | None, content: str, kind: str,
            recipient: str | None = None, extra: dict[str, str] | None = None) -> None:
        meta = {"span_id": span.span_id, "parent_span_id": self.parents[span.span_id], "kind": kind,
                "started_at": iso_from_ns(span.start_ns), "ended_at": iso_from_ns(span.end_ns),
                **(extra or {})}
        self.messages.append({"name": speaker, "role": role, "recipient": recipient, "content": content,
                              "meta": {k: v for k, v in meta.items() if v is not None}})

    def fresh(self, messages: list[Message]) -> list[Message]:
        """The messages not said before (a message held n times adds the copies beyond those said)."""
        held: Counter[tuple] = Counter()
        out = []
        for message in messages:
            if message.empty:
                continue
            key = _key(message.content, message.tool_calls)
            held[key] += 1
            if held[key] > self.said[key]:
                self.said[key] += 1
                out.append(message)
        return out

    def message(self, span: Span, message: Message, *, said_by_agent: bool, kind: str) -> None:
        agent = self.agent_of(span)
        for call in message.tool_calls:
            if call.id:
                self.tool_names[call.id] = call.name
        if message.role == "tool" or message.tool_call_id:
            tool = message.name or self.tool_names.get(message.tool_call_id or "") or "tool"
            self.add(span, speaker=tool, role="tool", content=message.content, kind="tool_result",
                     recipient=message.recipient or agent,
                     extra={"tool_call_id": message.tool_call_id} if message.tool_call_id else None)
            return
        if said_by_agent:
            speaker = agent or message.name or message.role
            recipient = message.recipient or (", ".join(dict.fromkeys(c.name for c in message.tool_calls))
                                              or self.caller_of(span))
        else:  # the prompt side: the user, the system instructions, history from others
            # An agent's unnamed task comes from the agent that called it (a delegation), if there is one.
            delegated_by = self.caller_of(span) if span.kind == AGENT and message.role in ("user", None) else None
            speaker = message.name or delegated_by or message.role
            recipient = message.recipient or (agent if message.role in ("user", "system", None) else None)
        self.add(span, speaker=speaker, role=message.role, content=_call_text(message), kind=kind,
                 recipient=recipient, extra={"model": span.model} if span.model and said_by_agent else None)

    def enter(self, span: Span) -> None:
        for message in self.fresh(span.inputs):
            self.message(span, message, said_by_agent=message.role == "assistant" and span.kind != LLM,
                         kind="input")

    def leave(self, span: Span) -> None:
        if span.kind == TOOL:
            self.tool(span)
        elif span.kind == HANDOFF:
            self.add(span, speaker=self.agent_of(span), role="assistant", kind="handoff",
                     recipient=span.handoff_to, content=f"[handoff] to {span.handoff_to or '(unknown agent)'}")
        outputs = span.outputs
        if span.kind == LLM:  # generated now, so new even if the same text was said before
            for message in outputs:
                if not message.empty:
                    self.said[_key(message.content, message.tool_calls)] += 1
            outputs = [m for m in outputs if not m.empty]
        else:
            outputs = self.fresh(outputs)
        for message in outputs:
            self.message(span, message, said_by_agent=message.role in ("assistant", None), kind="output")

    def tool(self, span: Span) -> None:
        call = span.tool
        name = call.name if call else span.name or "tool"
        requested = bool(call and call.id and call.id in self.tool_names)  # the LLM's output showed the call
        if call and call.id:
            self.tool_names[call.id] = name
        if requested:
            lines = [f"[tool {name}, call {call.id}]"] if call else []
        else:
            lines = [f"[tool call{' ' + call.id if call and call.id else ''}] {name}({call.arguments if call else ''})"]
        if span.tool_result is not None:
            lines.append(f"[result] {span.tool_result}")
            self.said[_key(span.tool_result)] += 1  # the next LLM call's prompt repeats it
        self.add(span, speaker=name, role="tool", content="\n".join(lines), kind="tool",
                 recipient=self.agent_of(span),
                 extra={"tool_call_id": call.id} if call and call.id else None)


# --------------------------------------------------------------------------------------------------
# The trace


def _metadata(spans: list[Span]) -> tuple[str | None, str | None, dict[str, str]]:
    """Framework and model(s) of the trace, and its resource attributes as tags (service.name included)."""
    frameworks = list(dict.fromkeys(s.framework for s in spans if s.framework))
    models = list(dict.fromkeys(s.model for s in spans if s.model))
    tags: dict[str, str] = {}
    for span in spans:
        for key, value in span.resource.items():
            tags.setdefault(key, value)
        if span.service:
            tags.setdefault(SERVICE_TAG, span.service)
    sessions = list(dict.fromkeys(s.session for s in spans if s.session))
    if sessions:
        tags.setdefault("session.id", ", ".join(sessions))
    return ", ".join(frameworks) or None, ", ".join(models) or None, tags


def _labels(spans: list[Span]) -> list[RecordLabels]:
    """Span labels as trace labels: one set per (rater, taxonomy), a mode present if any span says so."""
    merged: dict[tuple[str, str], RecordLabels] = {}
    for span in spans:
        for labels in span.labels:
            key = (labels.rater, labels.taxonomy)
            into = merged.setdefault(key, RecordLabels(labels.rater, labels.kind, labels.taxonomy, {}))
            for code, value in labels.values.items():
                into.values[code] = max(into.values.get(code, 0), value)
    return list(merged.values())


def is_genai(spans: Iterable[Span]) -> bool:
    """Whether a trace has any LLM, agent, tool or handoff span (else it is not for annotation)."""
    return any(s.kind in GENAI_KINDS for s in spans)


def assemble(spans: list[Span], *, source: object, external_id: str, index: int,
             notes: Counter[str] | None = None, empty_hint: str = "") -> TraceRecord:
    """The TraceRecord of one trace (or session): text rebuilt from its turns, turns with speakers.

    `notes` collects counted repairs and what the readers could not read (shown in the import summary).
    Raises IngestError naming `source` and the span for duplicate span ids, parent cycles, and for a trace
    that has no message content at all (`empty_hint` says why that may be, e.g. content capture is off).
    """
    notes = notes if notes is not None else Counter()
    by_id = _index(source, spans)
    parents = _parents(spans, by_id, notes)
    _check_cycles(source, by_id, parents)
    turns = _Turns(parents, by_id)
    for event, span in _walk(spans, parents):
        if event == "enter":
            for note in span.notes:
                notes[note] += 1
            turns.enter(span)
        else:
            turns.leave(span)
    if not turns.messages:
        hint = f" ({empty_hint})" if empty_hint else ""
        raise fail(source, f"trace {external_id} has no message content in any of its {len(spans)} spans{hint}",
                   record=spans[0].locator or None if spans else None)
    text, trace_turns = render_messages(turns.messages)
    framework, llm, tags = _metadata(spans)
    return TraceRecord(index=index, external_id=external_id, text=text, turns=trace_turns, framework=framework,
                       llm=llm, tags=tags, labels=_labels(spans), locator=f"trace {external_id}")

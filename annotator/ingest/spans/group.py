"""Spans from a reader, grouped into traces (or sessions) and assembled: what span-format readers yield."""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from annotator.ingest.records import ImportNote, TraceRecord, fail
from annotator.ingest.spans.assemble import assemble, is_genai
from annotator.ingest.spans.model import Span, SpanEvent
from annotator.store.spill import Spill

GROUPS = ("trace", "session")
NOT_GENAI = "traces without any LLM, agent or tool span, skipped"


NO_SPAN = "events or log records of spans that are not in the file, ignored"


def _buckets(items: Iterable[Span | SpanEvent], group: str, notes: Counter[str]) -> Iterator[list[Span]]:
    """Spans per trace id in first-seen order; with group="session", traces of one session together.

    Spans are parked on disk (store.Spill) while the file is read, so memory holds one trace (or session) at
    a time, not the export. A trace's session is the first session id any of its spans names; a trace
    without one stays alone. Events given apart from their span join the span's `events`.
    """
    sessions: dict[str, str | None] = {}  # trace id -> session: one entry per trace
    with Spill() as spill:
        for item in items:
            spill.add(item.trace_id, pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
            if isinstance(item, Span) and item.session and not sessions.get(item.trace_id):
                sessions[item.trace_id] = item.session
        order: dict[str, list[str]] = {}
        for trace_id in spill.ordered_keys():
            session = sessions.get(trace_id) if group == "session" else None
            order.setdefault(f"session {session}" if session else f"trace {trace_id}", []).append(trace_id)
        for trace_ids in order.values():
            members = [span for trace_id in trace_ids for span in _trace(spill, trace_id, notes)]
            if members:
                yield members


def _trace(spill: Spill, trace_id: str, notes: Counter[str]) -> list[Span]:
    spans: list[Span] = []
    loose: dict[str, list[SpanEvent]] = {}
    for blob in spill.items(trace_id):
        item = pickle.loads(blob)  # our own temporary file, written just now by this process
        if isinstance(item, SpanEvent):
            loose.setdefault(item.span_id, []).append(item)
        else:
            spans.append(item)
    for span in spans:
        span.events.extend(loose.pop(span.span_id, []))
    notes[NO_SPAN] += sum(len(events) for events in loose.values())
    return spans


def _external_id(members: list[Span], group: str) -> str:
    if group == "session":
        session = next((s.session for s in members if s.session), None)
        if session:
            return session
    return members[0].trace_id


def read_traces(source: object, spans: Iterable[Span | SpanEvent], *, group: str = "trace", empty_hint: str = "",
                prepare: Callable[[Span], None] | None = None) -> Iterator[TraceRecord | ImportNote]:
    """One TraceRecord per trace (or per session), then the counted notes as ImportNote items.

    `spans` may hold SpanEvent items apart from their spans (OTLP log records); `prepare(span)` runs on
    every span once its events are all there, before assembly (a reader turns events into messages there).
    Traces with no LLM, agent, tool or handoff span (an HTTP request traced beside the agents) are skipped
    and counted. IngestError when nothing is left to import.
    """
    if group not in GROUPS:
        raise fail(source, f"unknown grouping {group!r} (choose from {', '.join(GROUPS)})")
    notes: Counter[str] = Counter()
    index = 0
    for members in _buckets(spans, group, notes):
        for span in members if prepare else ():
            prepare(span)
        if not is_genai(members):
            notes[NOT_GENAI] += 1
            continue
        yield assemble(members, source=source, external_id=_external_id(members, group), index=index,
                       notes=notes, empty_hint=empty_hint)
        index += 1
    if index == 0:
        raise fail(source, "no LLM, agent or tool spans found (nothing to annotate)")
    for text, count in notes.items():
        if count:
            yield ImportNote(text, count)

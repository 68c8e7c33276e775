"""Spans from a reader, grouped into traces (or sessions) and assembled: what span-format readers yield."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from annotator.ingest.records import ImportNote, TraceRecord, fail
from annotator.ingest.spans.assemble import assemble, is_genai
from annotator.ingest.spans.model import Span, SpanEvent

GROUPS = ("trace", "session")
NOT_GENAI = "traces without any LLM, agent or tool span, skipped"


NO_SPAN = "events or log records of spans that are not in the file, ignored"


def _buckets(items: Iterable[Span | SpanEvent], group: str, notes: Counter[str]) -> list[list[Span]]:
    """Spans per trace id in first-seen order; with group="session", traces of one session together.

    A trace's session is the first session id any of its spans names; a trace without one stays alone.
    Events given apart from their span join the span's `events`.
    """
    traces: dict[str, list[Span]] = {}
    loose: dict[tuple[str, str], list[SpanEvent]] = {}
    for item in items:
        if isinstance(item, SpanEvent):
            loose.setdefault((item.trace_id, item.span_id), []).append(item)
        else:
            traces.setdefault(item.trace_id, []).append(item)
    for members in traces.values():
        for span in members:
            span.events.extend(loose.pop((span.trace_id, span.span_id), []))
    notes[NO_SPAN] += sum(len(events) for events in loose.values())
    if group == "trace":
        return list(traces.values())
    sessions: dict[str, list[Span]] = {}
    for trace_id, members in traces.items():
        session = next((s.session for s in members if s.session), None)
        sessions.setdefault(f"session {session}" if session else trace_id, []).extend(members)
    return list(sessions.values())


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

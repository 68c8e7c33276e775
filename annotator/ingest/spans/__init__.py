"""Span-based trace formats: the shared model (model.py), one trace from its spans (assemble.py), and
grouping by trace or session (group.py). Readers of OTLP, OpenInference, Langfuse, LangSmith, OpenAI Agents
and AG2 logs build `Span` objects and hand them to `read_traces`."""

from annotator.ingest.spans.assemble import MISSING_PARENT, assemble, is_genai
from annotator.ingest.spans.group import GROUPS, NOT_GENAI, read_traces
from annotator.ingest.spans.model import (
    AGENT,
    CHAIN,
    HANDOFF,
    KINDS,
    LLM,
    OTHER,
    TOOL,
    Message,
    Span,
    SpanEvent,
    ToolCall,
    as_text,
    iso_from_ns,
    ns_from_iso,
)

__all__ = [
    "AGENT", "CHAIN", "GROUPS", "HANDOFF", "KINDS", "LLM", "MISSING_PARENT", "NOT_GENAI", "OTHER", "TOOL",
    "Message", "Span", "SpanEvent", "ToolCall", "as_text", "assemble", "is_genai", "iso_from_ns", "ns_from_iso",
    "read_traces",
]

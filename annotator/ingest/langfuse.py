"""`--format langfuse`: Langfuse exports, as the public API returns them (GET /api/public/traces/{id} with its
observations and scores; list responses with "data") or as JSON Lines of traces, observations and scores.

Trace: id, name, timestamp, input, output, sessionId, observations[], scores[].
Observation: id, traceId, parentObservationId, type (GENERATION, AGENT, TOOL, CHAIN, SPAN, EVENT, ...), name,
startTime, endTime, input, output, model.
Score: id, traceId, observationId, name, value, stringValue, dataType, source (ANNOTATION, API, EVAL),
authorUserId; a score named after a mode of the taxonomy becomes a label (scores.py).

A trace's own input and output are a root span around its observations (the user's request, the final answer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.ingest import exports, fields, scores
from annotator.ingest.fields import BadField
from annotator.ingest.records import ImportNote, RecordLabels, TraceRecord, fail, kind_of
from annotator.ingest.spans import AGENT, CHAIN, LLM, OTHER, TOOL, Span, ToolCall, as_text, read_traces

KINDS = {"GENERATION": LLM, "AGENT": AGENT, "TOOL": TOOL, "CHAIN": CHAIN}
OBSERVATION_TYPES = frozenset({"GENERATION", "AGENT", "TOOL", "CHAIN", "SPAN", "EVENT", "RETRIEVER", "EMBEDDING",
                               "EVALUATOR", "GUARDRAIL"})
FRAMEWORK = "Langfuse"
TAXONOMY = "mast"


def _root_id(trace_id: str) -> str:
    return f"trace {trace_id}"


def _what(record: Any) -> str:
    """trace, observation or score (else '')."""
    if not isinstance(record, dict):
        return ""
    if "traceId" in record and str(record.get("type") or "").upper() in OBSERVATION_TYPES:
        return "observation"
    if "traceId" in record and "name" in record and ("dataType" in record or "value" in record):
        return "score"
    if "id" in record and "traceId" not in record:
        return "trace"
    return ""


def looks_like(record: Any) -> bool:
    """A record this reader takes (for --format auto): a trace with observations, or an observation."""
    return isinstance(record, dict) and (isinstance(record.get("observations"), list)
                                         or _what(record) == "observation")


def _observation(record: dict, with_root: set[str], locator: str) -> Span:
    trace_id = fields.text(record, "traceId", required=True)
    assert trace_id is not None
    kind = KINDS.get(str(record.get("type")).upper(), OTHER)
    name = fields.text(record, "name") or ""
    parent = fields.text(record, "parentObservationId") or (_root_id(trace_id) if trace_id in with_root else None)
    structured = kind != OTHER
    span = Span(trace_id, fields.text(record, "id", required=True) or "", parent, name, kind,
                fields.time_ns(record, "startTime"), fields.time_ns(record, "endTime"),
                agent=name or None if kind == AGENT else None, model=fields.text(record, "model"),
                framework=FRAMEWORK, locator=locator)
    if kind == TOOL:
        span.tool = ToolCall(name or "tool", as_text(record.get("input")))
        span.tool_result = as_text(record["output"]) if record.get("output") is not None else None
        return span
    span.inputs = fields.messages(record.get("input"), default_role="user", structured=structured)
    span.outputs = fields.messages(record.get("output"), default_role="assistant", structured=structured)
    return span


def _root(record: dict, locator: str) -> Span:
    trace_id = fields.text(record, "id", required=True) or ""
    return Span(trace_id, _root_id(trace_id), None, fields.text(record, "name") or "", CHAIN,
                fields.time_ns(record, "timestamp"), None, session=fields.text(record, "sessionId"),
                inputs=fields.messages(record.get("input"), default_role="user"),
                outputs=fields.messages(record.get("output"), default_role="assistant"), locator=locator)


def _rater(record: dict) -> tuple[str, str]:
    source = str(record.get("source") or "API").upper()
    if source == "EVAL":
        return "judge:langfuse-eval", "judge"
    if source == "ANNOTATION":
        return f"langfuse:{fields.text(record, 'authorUserId') or 'annotation'}", "human"
    return "langfuse:api", "human"


def _score(record: dict, with_root: set[str], locator: str) -> Span:
    """A score as a contentless span carrying a label (or a note when it is not a mode of the taxonomy)."""
    trace_id = fields.text(record, "traceId", required=True) or ""
    score_id = fields.text(record, "id") or f"{locator}"
    parent = fields.text(record, "observationId") or (_root_id(trace_id) if trace_id in with_root else None)
    span = Span(trace_id, f"score {score_id}", parent, "score", OTHER, fields.time_ns(record, "timestamp"),
                locator=locator)
    code = scores.mode_code(record.get("name"), TAXONOMY)
    value = record.get("stringValue") if isinstance(record.get("stringValue"), str) else record.get("value")
    present = scores.present(value) if code else None
    if code is None or present is None:
        span.notes.append(scores.NOT_A_MODE)
        return span
    rater, kind = _rater(record)
    span.labels.append(RecordLabels(rater, kind, TAXONOMY, {code: present}))
    return span


def _spans(path: Path, with_root: set[str]) -> Iterator[Span]:
    for locator, record in exports.records(path):
        try:
            yield from _record_spans(record, with_root, locator)
        except BadField as exc:
            record_id = record.get("id") if isinstance(record, dict) else None
            raise fail(path, str(exc), record=locator, record_id=record_id) from None


def _record_spans(record: Any, with_root: set[str], locator: str) -> Iterator[Span]:
    what = _what(record)
    if what == "observation":
        yield _observation(record, with_root, locator)
    elif what == "score":
        yield _score(record, with_root, locator)
    elif what == "trace":
        yield _root(record, locator)
        for key, convert in (("observations", _observation), ("scores", _score)):
            items = record.get(key) or []
            if not isinstance(items, list):
                raise BadField(f"field {key!r} must be a list, not {kind_of(items)}")
            for index, item in enumerate(items):
                where = f"{locator} {key}[{index}]"
                if not isinstance(item, dict):
                    raise BadField(f"{key}[{index}] must be an object, not {kind_of(item)}")
                yield convert({"traceId": record["id"], **item}, with_root, where)
    else:
        raise BadField("not a Langfuse trace, observation or score (expected 'id' and, for observations, "
                       "'traceId' and 'type')")


def _trace_ids(path: Path) -> set[str]:
    """Ids of the traces whose own record is in the file (a first pass: ids only, not the records)."""
    return {str(record["id"]) for _, record in exports.records(path) if _what(record) == "trace"}


def read(path: Path, *, group: str = "trace") -> Iterator[TraceRecord | ImportNote]:
    """One TraceRecord per Langfuse trace (or per session with group="session")."""
    yield from read_traces(path, _spans(path, _trace_ids(path)), group=group)

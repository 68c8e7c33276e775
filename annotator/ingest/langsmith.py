"""`--format langsmith`: LangSmith runs (as `Client.list_runs` / the REST API return them, or a dataset of runs
exported as JSON or JSON Lines) and their feedback.

Run: id, trace_id, parent_run_id, dotted_order, run_type (llm, chain, tool, retriever, prompt, parser...),
name, inputs, outputs, start_time, end_time, error, extra.metadata, extra.invocation_params.
Feedback: run_id, trace_id, key, score, value, feedback_source.type; feedback whose key is a mode of the
taxonomy becomes a label (scores.py).

`dotted_order` ("<start time><run id>" per ancestor, joined by dots, root first) says where a run sits: it fills
in a missing trace id, parent or start time, and must end with the run's own id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from annotator.ingest import exports, fields, scores
from annotator.ingest.fields import BadField
from annotator.ingest.records import ImportNote, RecordLabels, TraceRecord, fail, kind_of
from annotator.ingest.spans import AGENT, CHAIN, LLM, OTHER, TOOL, Span, ToolCall, as_text, read_traces

KINDS = {"llm": LLM, "chain": CHAIN, "tool": TOOL}
FRAMEWORK = "LangSmith"
TAXONOMY = "mast"
SESSION_KEYS = ("session_id", "thread_id", "conversation_id")  # the metadata LangSmith threads group by
# LangGraph names its nodes after the agents of a multi-agent graph, but also has plumbing nodes.
NOT_AGENTS = frozenset({"agent", "tools", "call_model", "should_continue", "__start__", "__end__", "LangGraph",
                        "RunnableSequence", "ChannelWrite", "RunnableLambda"})
_SEGMENT = re.compile(r"(\d{8}T\d{6,12})Z([0-9a-fA-F-]{32,36})")


def parse_dotted_order(value: str) -> list[tuple[int, str]]:
    """[(start time in ns, run id), ...] from the root to the run itself; ValueError if malformed."""
    out = []
    for segment in value.split("."):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            raise ValueError(f"dotted_order segment {segment[:60]!r} is not <time>Z<run id>")
        stamp, run_id = match.groups()
        date, _, clock = stamp.partition("T")
        moment = datetime.strptime(date + clock[:6], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        fraction = clock[6:]
        ns = int(moment.timestamp()) * 1_000_000_000 + int(fraction.ljust(9, "0")) if fraction else \
            int(moment.timestamp()) * 1_000_000_000
        out.append((ns, run_id))
    return out


def looks_like(record: Any) -> bool:
    return isinstance(record, dict) and "run_type" in record and ("dotted_order" in record or "trace_id" in record)


def _metadata(record: dict) -> tuple[dict, dict]:
    extra = record.get("extra") if isinstance(record.get("extra"), dict) else {}
    metadata = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
    params = extra.get("invocation_params") if isinstance(extra.get("invocation_params"), dict) else {}
    return metadata, params


def _agent(record: dict, name: str, metadata: dict) -> str | None:
    for key in ("agent_name", "lc_agent_name"):
        if isinstance(metadata.get(key), str) and metadata[key].strip():
            return metadata[key]
    if metadata.get("langgraph_node") == name and name not in NOT_AGENTS:
        return name
    return None


def _model(metadata: dict, params: dict) -> str | None:
    for value in (params.get("model"), params.get("model_name"), metadata.get("ls_model_name")):
        if isinstance(value, str) and value.strip():
            return value
    return None


def _place(record: dict, run_id: str) -> tuple[str | None, str | None, int | None]:
    """(trace id, parent id, start) that the dotted order gives."""
    dotted = fields.text(record, "dotted_order")
    if not dotted:
        return None, None, None
    try:
        chain = parse_dotted_order(dotted)
    except ValueError as exc:
        raise BadField(str(exc)) from None
    if chain[-1][1] != run_id:
        raise BadField(f"dotted_order ends with run {chain[-1][1]}, not with the run's own id")
    return chain[0][1], chain[-2][1] if len(chain) > 1 else None, chain[-1][0]


def _tool_result(outputs: Any) -> str | None:
    if outputs is None:
        return None
    if isinstance(outputs, dict) and len(outputs) == 1 and "output" in outputs:
        outputs = outputs["output"]
    if isinstance(outputs, dict) and isinstance(outputs.get("kwargs"), dict):  # a serialised ToolMessage
        outputs = outputs["kwargs"].get("content")
    return as_text(outputs)


def _run(record: dict, locator: str) -> Span:
    run_id = fields.text(record, "id", required=True) or ""
    trace_from_order, parent_from_order, start_from_order = _place(record, run_id)
    trace_id = fields.text(record, "trace_id") or trace_from_order or run_id
    run_type = fields.text(record, "run_type") or ""
    name = fields.text(record, "name") or ""
    metadata, params = _metadata(record)
    agent = _agent(record, name, metadata) if run_type == "chain" else None
    kind = AGENT if agent else KINDS.get(run_type, OTHER)
    session = next((str(metadata[k]) for k in SESSION_KEYS if metadata.get(k) not in (None, "")), None)
    span = Span(trace_id, run_id, fields.text(record, "parent_run_id") or parent_from_order, name, kind,
                fields.time_ns(record, "start_time") or start_from_order, fields.time_ns(record, "end_time"),
                agent=agent, session=session, model=_model(metadata, params) if kind == LLM else None,
                framework=FRAMEWORK, locator=locator)
    inputs, outputs = record.get("inputs"), record.get("outputs")
    if kind == TOOL:
        arguments = inputs.get("input") if isinstance(inputs, dict) and len(inputs) == 1 else inputs
        span.tool = ToolCall(name or "tool", as_text(arguments))
        span.tool_result = _tool_result(outputs)
        return span
    structured = kind in (LLM, AGENT) or span.parent_id is None
    span.inputs = fields.messages(inputs, default_role="user", structured=structured)
    span.outputs = fields.messages(outputs, default_role="assistant", structured=structured)
    return span


def _feedback(record: dict, locator: str) -> Span:
    """Feedback as a contentless span under its run, carrying a label (or a note)."""
    run_id = fields.text(record, "run_id", required=True) or ""
    trace_id = fields.text(record, "trace_id") or run_id
    span = Span(trace_id, f"feedback {fields.text(record, 'id') or locator}", run_id, "feedback", OTHER,
                fields.time_ns(record, "created_at"), locator=locator)
    code = scores.mode_code(record.get("key"), TAXONOMY)
    value = record.get("score") if record.get("score") is not None else record.get("value")
    present = scores.present(value) if code else None
    if code is None or present is None:
        span.notes.append(scores.NOT_A_MODE)
        return span
    source = record.get("feedback_source") if isinstance(record.get("feedback_source"), dict) else {}
    if source.get("type") == "model":
        rater, kind = "judge:langsmith-model", "judge"
    else:
        who = fields.text(record, "created_by") or str(source.get("type") or "api")
        rater, kind = f"langsmith:{who}", "human"
    span.labels.append(RecordLabels(rater, kind, TAXONOMY, {code: present}))
    return span


def _spans(path: Path) -> Iterator[Span]:
    for locator, record in exports.records(path):
        if not isinstance(record, dict):
            raise fail(path, f"a run must be an object, not {kind_of(record)}", record=locator)
        try:
            if "run_type" in record:
                yield _run(record, locator)
            elif "key" in record and "run_id" in record:
                yield _feedback(record, locator)
            else:
                raise BadField("not a LangSmith run (no 'run_type') or feedback (no 'key' and 'run_id')")
        except BadField as exc:
            raise fail(path, str(exc), record=locator, record_id=record.get("id")) from None


def read(path: Path, *, group: str = "trace") -> Iterator[TraceRecord | ImportNote]:
    """One TraceRecord per LangSmith trace (or per thread with group="session")."""
    yield from read_traces(path, _spans(path), group=group)

"""Live collection: OTLP requests in, spans staged in the database, traces assembled once complete.

The receiving side (`stage_request`) decodes an OTLP/HTTP body (protobuf or JSON, gzip or not) with the
same decoders as the file importer and writes every span into the staging table before the sender gets its
200, so an acknowledged span survives a kill. The assembling side (`assemble_ready`) takes each trace that is
complete, because no span came for `quiet_s` seconds or its root span ended `settle_s` seconds ago, through
the same span assembly as `annotator import`, and writes it as a trace with turn segments. Spans that
arrive for a trace already assembled are kept and counted as late; the trace is not built again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import zlib
from collections import Counter
from dataclasses import dataclass

import sqlite_utils

from annotator import store
from annotator.core.jsonlimits import JsonTooDeepError, loads_bounded
from annotator.ingest import genai, openinference, otlp
from annotator.ingest.loader import store_records
from annotator.ingest.records import IngestError
from annotator.ingest.spans import Span, SpanEvent, assemble, is_genai
from annotator.store import staging

SOURCE = "annotator collect"
log = logging.getLogger(__name__)
TRACES, LOGS = "/v1/traces", "/v1/logs"


class RequestError(ValueError):
    """A request the receiver refuses; `status` is the HTTP status OTLP/HTTP prescribes for it."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------------------------------
# Receiving


def decode_body(body: bytes, *, encoding: str, limit: int) -> bytes:
    """The request body, gunzipped when sent with Content-Encoding: gzip, never more than `limit` bytes."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise RequestError(415, f"unsupported Content-Encoding {encoding!r} (send gzip or none)")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise RequestError(400, f"the gzip body does not decompress ({exc})") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise RequestError(413, f"the request is over {limit} bytes once decompressed")
    return data


def _items(path: str, body: bytes, content_type: str) -> list[otlp.OtlpSpan | SpanEvent]:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-protobuf":
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        request = ExportTraceServiceRequest() if path == TRACES else ExportLogsServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise RequestError(400, f"not an OTLP protobuf request ({exc})") from None
        if path == TRACES:
            return list(otlp.proto_request_items(request, "request"))
        return list(otlp.proto_log_items(request, "request"))
    if kind == "application/json":
        try:
            document = loads_bounded(body.decode("utf-8"))
            return list(otlp.request_items(document, "request"))
        except (UnicodeDecodeError, json.JSONDecodeError, JsonTooDeepError, ValueError) as exc:
            raise RequestError(400, f"not an OTLP/JSON request ({str(exc).splitlines()[0][:160]})") from None
    raise RequestError(415, f"unsupported Content-Type {content_type!r} (send application/x-protobuf or "
                            "application/json)")


def _staged(item: otlp.OtlpSpan | SpanEvent) -> staging.StagedItem:
    data = dataclasses.asdict(item)
    data["type"] = "span" if isinstance(item, otlp.OtlpSpan) else "event"
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    if isinstance(item, otlp.OtlpSpan):
        return staging.StagedItem(item.trace_id, item.span_id, text, is_root_span=item.parent_id is None)
    # a log record has no id of its own: its content is its identity, so a retried request adds nothing
    return staging.StagedItem(item.trace_id, "event:" + hashlib.sha256(text.encode()).hexdigest()[:24], text)


def stage_request(db: sqlite_utils.Database, path: str, body: bytes, *, content_type: str, now: float) -> int:
    """Decode one OTLP/HTTP request and stage its spans (committed on return). Returns how many were new."""
    items = _items(path, body, content_type)
    return staging.stage(db, [_staged(item) for item in items], now=now)


# --------------------------------------------------------------------------------------------------
# Assembling


@dataclass(frozen=True)
class Assembled:
    trace_key: str
    state: str  # assembled | skipped | failed
    turns: int = 0
    speakers: tuple[str, ...] = ()
    added: bool = False
    detail: str = ""


def _restore(text: str) -> otlp.OtlpSpan | SpanEvent:
    data = json.loads(text)
    kind = data.pop("type")
    if kind == "event":
        return SpanEvent(**data)
    data["events"] = [SpanEvent(**event) for event in data["events"]]
    return otlp.OtlpSpan(**data)


def _spans(trace_key: str, items: list[otlp.OtlpSpan | SpanEvent]) -> tuple[str, list[Span]]:
    raws = [item for item in items if isinstance(item, otlp.OtlpSpan)]
    fmt = "openinference" if any("openinference.span.kind" in r.attributes for r in raws) else "otel"
    convert = openinference.to_span if fmt == "openinference" else genai.to_span
    spans = []
    for raw in raws:
        try:
            spans.append(convert(raw))
        except genai.BadAttribute as exc:
            raise IngestError(f"{SOURCE}: trace {trace_key} (span {raw.span_id}): {exc}") from None
    by_id = {span.span_id: span for span in spans}
    for item in items:
        if isinstance(item, SpanEvent) and item.span_id in by_id:
            by_id[item.span_id].events.append(item)
    for span in spans:
        try:
            genai.apply_events(span)
        except genai.BadAttribute as exc:
            raise IngestError(f"{SOURCE}: trace {trace_key} (span {span.span_id}): {exc}") from None
    return fmt, spans


def assemble_trace(db: sqlite_utils.Database, trace_key: str, *, scheme: str | None = None) -> Assembled:
    """Build one staged trace and write it (one transaction with its new state); a bad trace is marked failed."""
    items = [_restore(text) for text in staging.staged_items(db, trace_key)]
    try:
        fmt, spans = _spans(trace_key, items)
        if not is_genai(spans):
            with store.write(db):
                staging.close_trace(db, trace_key, staging.SKIPPED)
            return Assembled(trace_key, staging.SKIPPED, detail="no LLM, agent or tool span")
        notes: Counter[str] = Counter()
        record = assemble(spans, source=SOURCE, external_id=trace_key, index=0, notes=notes,
                          empty_hint=genai.CONTENT_HINT)
        with store.write(db):
            result = store_records(db, [record], source=SOURCE, fmt=fmt, scheme=scheme)
            staging.close_trace(db, trace_key, staging.ASSEMBLED, trace_id=store.latest_trace_id(db, trace_key))
    except IngestError as exc:
        with store.write(db):
            staging.close_trace(db, trace_key, staging.FAILED, error=str(exc))
        return Assembled(trace_key, staging.FAILED, detail=str(exc))
    speakers = tuple(dict.fromkeys(t.speaker for t in record.turns or [] if t.speaker))
    detail = "; ".join(f"{count} {note}" for note, count in notes.items())
    return Assembled(trace_key, staging.ASSEMBLED, len(record.turns or []), speakers, bool(result.traces_added),
                     detail)


def assemble_ready(db: sqlite_utils.Database, *, now: float, quiet_s: float, settle_s: float,
                   scheme: str | None = None) -> list[Assembled]:
    """Assemble every staged trace that is complete now. A bug in one trace marks it failed (traceback in the
    log) and the others go on: the receiver must not stop assembling because of one trace."""
    done = []
    for key in staging.complete_traces(db, now=now, quiet_s=quiet_s, settle_s=settle_s):
        try:
            done.append(assemble_trace(db, key, scheme=scheme))
        except Exception as exc:  # noqa: BLE001 - logged with its traceback, reported, and the trace set aside
            log.exception("collect: assembling trace %s failed", key)
            reason = f"internal error: {type(exc).__name__}: {exc} (traceback in the log)"
            with store.write(db):
                staging.close_trace(db, key, staging.FAILED, error=reason)
            done.append(Assembled(key, staging.FAILED, detail=reason))
    return done

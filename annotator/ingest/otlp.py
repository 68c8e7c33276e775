"""OTLP trace files, decoded: JSON (one ExportTraceServiceRequest per line, as the Collector's file exporter
writes it, or one document) and protobuf (one request, or length-prefixed requests as the file exporter
writes with `format: proto`). Log records of the same export (ExportLogsServiceRequest lines) are read too:
the older GenAI conventions put message contents into log events tied to a span.

What comes out is format-neutral (`OtlpSpan`, `SpanEvent`); what the attributes mean is for the readers
of the conventions (genai.py for OpenTelemetry GenAI, openinference.py). Memory stays bounded by one line
(JSON Lines), one span (a JSON document, streamed with ijson), or one request (protobuf).
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.core.jsonlimits import MAX_JSON_DEPTH, JsonTooDeepError, loads_bounded
from annotator.ingest.records import fail, kind_of
from annotator.ingest.spans import SpanEvent

PROTOBUF_SUFFIXES = (".pb", ".binpb", ".protobuf")


@dataclass
class OtlpSpan:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int | None
    end_ns: int | None
    attributes: dict[str, Any]
    events: list[SpanEvent]
    resource: dict[str, Any]
    scope: str | None
    locator: str
    status: str | None = None  # the status message of a span that failed
    extra: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# OTLP JSON values


class _Bad(ValueError):
    """A field of the wrong shape; the reader adds the file and the place."""


def _any_value(value: object) -> Any:
    """An OTLP/JSON AnyValue as a Python value (kvlists become dicts, arrays lists)."""
    if not isinstance(value, dict):
        raise _Bad(f"an attribute value must be an object like {{\"stringValue\": ...}}, not {kind_of(value)}")
    if not value:
        return None
    (kind, inner), = list(value.items())[:1]
    if kind == "stringValue":
        if not isinstance(inner, str):
            raise _Bad(f"stringValue must be text, not {kind_of(inner)}")
        return inner
    if kind == "intValue":
        return _integer(inner, "intValue")
    if kind == "doubleValue":
        if isinstance(inner, bool) or not isinstance(inner, int | float | str):
            raise _Bad(f"doubleValue must be a number, not {kind_of(inner)}")
        return float(inner)
    if kind == "boolValue":
        if not isinstance(inner, bool):
            raise _Bad(f"boolValue must be true or false, not {kind_of(inner)}")
        return inner
    if kind == "arrayValue":
        return [_any_value(v) for v in _list(inner, "values")]
    if kind == "kvlistValue":
        return _attributes(_list(inner, "values"))
    if kind == "bytesValue":
        return str(inner)
    raise _Bad(f"unknown attribute value type {kind!r}")


def _list(container: object, key: str) -> list:
    if not isinstance(container, dict):
        raise _Bad(f"expected an object with {key!r}, not {kind_of(container)}")
    items = container.get(key) or []
    if not isinstance(items, list):
        raise _Bad(f"{key!r} must be a list, not {kind_of(items)}")
    return items


def _attributes(items: object) -> dict[str, Any]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise _Bad(f"'attributes' must be a list of {{key, value}}, not {kind_of(items)}")
    out: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise _Bad("an attribute must be an object with a text 'key'")
        out[item["key"]] = _any_value(item.get("value") or {})
    return out


def _integer(value: object, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise _Bad(f"{name} must be a whole number, not {kind_of(value)}")


def _time(value: object, name: str) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    return _integer(value, name)


def _id(value: object, name: str, size: int) -> str | None:
    """A trace or span id as lowercase hex; OTLP/JSON writes hex, protobuf's JSON mapping base64."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise _Bad(f"{name} must be text (hex), not {kind_of(value)}")
    text = value.strip()
    if len(text) == 2 * size:
        try:
            bytes.fromhex(text)
            return text.lower()
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == size:
        return raw.hex()
    raise _Bad(f"{name} {text[:40]!r} is not a {size}-byte id in hex")


def _event(trace_id: str, span_id: str, raw: object, locator: str) -> SpanEvent:
    if not isinstance(raw, dict):
        raise _Bad(f"a span event must be an object, not {kind_of(raw)}")
    return SpanEvent(trace_id, span_id, str(raw.get("name") or ""), _time(raw.get("timeUnixNano"), "timeUnixNano"),
                     _attributes(raw.get("attributes")), locator=locator)


def _span(raw: object, resource: dict, scope: str | None, locator: str) -> OtlpSpan:
    if not isinstance(raw, dict):
        raise _Bad(f"a span must be an object, not {kind_of(raw)}")
    trace_id = _id(raw.get("traceId"), "traceId", 16)
    span_id = _id(raw.get("spanId"), "spanId", 8)
    if trace_id is None or span_id is None:
        raise _Bad("a span needs a traceId and a spanId")
    status = raw.get("status") if isinstance(raw.get("status"), dict) else {}
    return OtlpSpan(
        trace_id=trace_id, span_id=span_id, parent_id=_id(raw.get("parentSpanId"), "parentSpanId", 8),
        name=str(raw.get("name") or ""), start_ns=_time(raw.get("startTimeUnixNano"), "startTimeUnixNano"),
        end_ns=_time(raw.get("endTimeUnixNano"), "endTimeUnixNano"), attributes=_attributes(raw.get("attributes")),
        events=[_event(trace_id, span_id, e, locator) for e in _list(raw, "events")], resource=resource,
        scope=scope, locator=locator, status=str(status.get("message")) if status.get("message") else None)


def _log(raw: object, locator: str) -> SpanEvent | None:
    """A log record tied to a span, as a SpanEvent (None for records of no span)."""
    if not isinstance(raw, dict):
        raise _Bad(f"a log record must be an object, not {kind_of(raw)}")
    trace_id, span_id = _id(raw.get("traceId"), "traceId", 16), _id(raw.get("spanId"), "spanId", 8)
    if trace_id is None or span_id is None:
        return None
    attributes = _attributes(raw.get("attributes"))
    name = raw.get("eventName") or attributes.get("event.name") or ""
    time_ns = _time(raw.get("timeUnixNano"), "timeUnixNano") or _time(raw.get("observedTimeUnixNano"), "time")
    body = _any_value(raw["body"]) if isinstance(raw.get("body"), dict) else None
    return SpanEvent(trace_id, span_id, str(name), time_ns, attributes, body, locator)


def _resource(block: dict) -> dict[str, Any]:
    resource = block.get("resource") or {}
    if not isinstance(resource, dict):
        raise _Bad(f"'resource' must be an object, not {kind_of(resource)}")
    return _attributes(resource.get("attributes"))


def _scope(block: dict) -> str | None:
    scope = block.get("scope") or {}
    return str(scope.get("name")) if isinstance(scope, dict) and scope.get("name") else None


def request_items(request: object, locator: str) -> Iterator[OtlpSpan | SpanEvent]:
    """The spans (and span-tied log records) of one decoded OTLP/JSON request."""
    if not isinstance(request, dict) or not ("resourceSpans" in request or "resourceLogs" in request):
        raise _Bad("not an OTLP export (expected an object with 'resourceSpans' or 'resourceLogs')")
    for block in _list(request, "resourceSpans"):
        resource = _resource(block)
        for scope_block in _list(block, "scopeSpans"):
            scope = _scope(scope_block)
            for raw in _list(scope_block, "spans"):
                yield _span(raw, resource, scope, locator)
    for block in _list(request, "resourceLogs"):
        for scope_block in _list(block, "scopeLogs"):
            for raw in _list(scope_block, "logRecords"):
                event = _log(raw, locator)
                if event is not None:
                    yield event


# --------------------------------------------------------------------------------------------------
# Flattened attributes (OpenInference writes lists of objects as "llm.input_messages.0.message.role")


def flatten(value: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    """Nested objects and lists as dotted keys ("llm.input_messages.0.message.role"), as OTLP flattens them.

    NumPy arrays (lists read from Parquet) count as lists.
    """
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        value = value.tolist()
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(inner, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, inner in enumerate(value):
            flatten(inner, f"{prefix}.{i}", out)
    else:
        out[prefix] = value
    return out


def indexed(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """The items under `prefix.<i>.` in index order, each as its own keys without the prefix."""
    items: dict[int, dict[str, Any]] = {}
    head = prefix + "."
    for key, value in attrs.items():
        if key.startswith(head):
            index, _, rest = key[len(head):].partition(".")
            if index.isdigit() and rest:
                items.setdefault(int(index), {})[rest] = value
    return [items[i] for i in sorted(items)]


# --------------------------------------------------------------------------------------------------
# Files


def _first_line(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.readline().lstrip(b"\xef\xbb\xbf \t")


def is_json_lines(path: Path) -> bool:
    """One request per line (the Collector's file exporter), rather than one pretty-printed document."""
    try:
        loads_bounded(_first_line(path).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _json_lines(path: Path) -> Iterator[OtlpSpan | SpanEvent]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"line {number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise fail(path, f"not valid UTF-8 text (byte {exc.start})", record=where) from None
            if not line.strip():
                continue
            try:
                request = loads_bounded(line)
            except JsonTooDeepError as exc:
                raise fail(path, str(exc), record=where) from None
            except json.JSONDecodeError as exc:
                cut = " (the file ends inside this line: truncated?)" if not raw.endswith(b"\n") else ""
                raise fail(path, f"malformed JSON ({exc.msg} at column {exc.colno}){cut}", record=where) from None
            try:
                yield from request_items(request, where)
            except _Bad as exc:
                raise fail(path, str(exc), record=where) from None


_TARGETS = {
    "resourceSpans.item": "block", "resourceLogs.item": "block",
    "resourceSpans.item.resource": "resource", "resourceLogs.item.resource": "resource",
    "resourceSpans.item.scopeSpans.item.scope": "scope", "resourceLogs.item.scopeLogs.item.scope": "scope",
    "resourceSpans.item.scopeSpans.item.spans.item": "span",
    "resourceLogs.item.scopeLogs.item.logRecords.item": "log",
}


def _document(path: Path) -> Iterator[OtlpSpan | SpanEvent]:
    """One JSON document, streamed: each span is built alone, with the resource and scope read before it."""
    import ijson
    from ijson.common import ObjectBuilder

    resource: dict[str, Any] = {}
    scope: str | None = None
    depth, count = 0, 0
    building: tuple[str, int, ObjectBuilder] | None = None
    with open(path, "rb") as handle:
        try:
            for prefix, event, value in ijson.parse(handle, use_float=True):
                if event in ("start_map", "start_array"):
                    depth += 1
                    if depth > MAX_JSON_DEPTH:
                        raise JsonTooDeepError(MAX_JSON_DEPTH)
                    target = _TARGETS.get(prefix) if event == "start_map" and building is None else None
                    if target == "block":
                        resource, scope = {}, None
                    elif target:
                        building = (target, depth, ObjectBuilder())
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if building is None:
                    continue
                building[2].event(event, value)
                if event == "end_map" and depth == building[1] - 1:
                    target, built = building[0], building[2].value
                    building = None
                    if target == "resource":
                        resource = _attributes(built.get("attributes"))
                    elif target == "scope":
                        scope = _scope({"scope": built})
                    elif target == "span":
                        count += 1
                        yield _span(built, resource, scope, f"span {count}")
                    else:
                        log = _log(built, f"log record {count}")
                        if log is not None:
                            yield log
        except JsonTooDeepError as exc:
            raise fail(path, str(exc), record=f"span {count + 1}") from None
        except _Bad as exc:
            raise fail(path, str(exc), record=f"span {count}") from None
        except ijson.JSONError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "incomplete"
            raise fail(path, f"malformed or truncated JSON ({reason})", record=f"after span {count}") from None
        except UnicodeDecodeError:
            raise fail(path, "not valid UTF-8 text", record=f"after span {count}") from None


def read_json(path: Path) -> Iterator[OtlpSpan | SpanEvent]:
    """Spans and span-tied log records of an OTLP/JSON file (JSON Lines or one document)."""
    return _json_lines(path) if is_json_lines(path) else _document(path)


# --------------------------------------------------------------------------------------------------
# Protobuf (decoded with the official opentelemetry-proto classes)


def _proto_value(value) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    inner = getattr(value, kind)
    if kind == "array_value":
        return [_proto_value(v) for v in inner.values]
    if kind == "kvlist_value":
        return {kv.key: _proto_value(kv.value) for kv in inner.values}
    if kind == "bytes_value":
        return inner.hex()
    return inner


def _proto_attributes(items) -> dict[str, Any]:
    return {kv.key: _proto_value(kv.value) for kv in items}


def proto_request_items(request, locator: str) -> Iterator[OtlpSpan | SpanEvent]:
    """The spans of one decoded ExportTraceServiceRequest (protobuf message)."""
    for block in request.resource_spans:
        resource = _proto_attributes(block.resource.attributes)
        for scope_block in block.scope_spans:
            scope = scope_block.scope.name or None
            for raw in scope_block.spans:
                trace_id, span_id = raw.trace_id.hex(), raw.span_id.hex()
                if len(trace_id) != 32 or len(span_id) != 16:
                    raise _Bad(f"span {span_id or '(no id)'}: a span needs a 16-byte traceId and an 8-byte spanId")
                events = [SpanEvent(trace_id, span_id, e.name, e.time_unix_nano or None,
                                    _proto_attributes(e.attributes), locator=locator) for e in raw.events]
                yield OtlpSpan(trace_id, span_id, raw.parent_span_id.hex() or None, raw.name,
                               raw.start_time_unix_nano or None, raw.end_time_unix_nano or None,
                               _proto_attributes(raw.attributes), events, resource, scope, locator,
                               raw.status.message or None)


def proto_log_items(request, locator: str) -> Iterator[SpanEvent]:
    """The span-tied log records of one decoded ExportLogsServiceRequest (older GenAI message events)."""
    for block in request.resource_logs:
        for scope_block in block.scope_logs:
            for raw in scope_block.log_records:
                if len(raw.trace_id) != 16 or len(raw.span_id) != 8:
                    continue
                attributes = _proto_attributes(raw.attributes)
                name = getattr(raw, "event_name", "") or attributes.get("event.name") or ""
                body = _proto_value(raw.body) if raw.HasField("body") else None
                yield SpanEvent(raw.trace_id.hex(), raw.span_id.hex(), str(name),
                                raw.time_unix_nano or raw.observed_time_unix_nano or None, attributes, body, locator)


def _frames(path: Path) -> Iterator[tuple[str, bytes]]:
    """Length-prefixed messages (4-byte big-endian size, as the Collector's file exporter writes), or the
    whole file as one message when the prefixes do not add up."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(4)
        first = struct.unpack(">I", head)[0] if len(head) == 4 else -1
        if not 0 < first <= size - 4:
            handle.seek(0)
            yield "the file", handle.read()
            return
        number, length = 1, first
        while True:
            data = handle.read(length)
            if len(data) != length:
                raise _Bad(f"message {number} is cut short (truncated file?)")
            yield f"message {number}", data
            head = handle.read(4)
            if not head:
                return
            if len(head) != 4:
                raise _Bad(f"{len(head)} stray bytes after message {number} (truncated file?)")
            number, length = number + 1, struct.unpack(">I", head)[0]


def read_protobuf(path: Path) -> Iterator[OtlpSpan | SpanEvent]:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    where = "the file"
    try:
        for where, data in _frames(path):
            request = ExportTraceServiceRequest()
            try:
                request.ParseFromString(data)
            except DecodeError as exc:
                raise _Bad(f"not an OTLP protobuf trace export ({exc})") from None
            yield from proto_request_items(request, where)
    except _Bad as exc:
        raise fail(path, str(exc), record=where) from None


def looks_like_protobuf(path: Path, head: bytes) -> bool:
    """A binary OTLP trace file: its name says so, or it is not text and its first message decodes."""
    if path.suffix.lower() in PROTOBUF_SUFFIXES:
        return True
    try:
        head.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the end of the sample, not binary data
            return False
    try:
        return any(True for _ in read_protobuf(path))
    except Exception:  # noqa: BLE001 - any failure means "not this format"; the chosen reader will say why
        return False


def read_file(path: Path) -> Iterator[OtlpSpan | SpanEvent]:
    """Spans of any OTLP trace file: protobuf by its name or content, else JSON."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if looks_like_protobuf(path, head):
        return read_protobuf(path)
    return read_json(path)

"""Reader for JSON Lines: one trace per line.

    {"id": str, "text": str}  or  {"id": str, "messages": [{"name", "role", "recipient"?, "content"}, ...]}
    optional "metadata": {"framework", "benchmark", "llm", any other tag: value}
    optional "labels": {"<rater>": {"<mode code>": 0|1, ...}}   (trace level; "judge:..." raters are judges)
    optional "taxonomy": "NAME@VERSION" for the labels (default: the latest mast)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

from annotator.core.jsonlimits import JsonTooDeepError, loads_bounded
from annotator.core.segments import render_messages
from annotator.core.taxonomy import TaxonomyError, parse_ref
from annotator.ingest.records import RecordLabels, TraceRecord, fail, kind_of, optional_text

DEFAULT_TAXONOMY = "mast"
KNOWN_METADATA = ("framework", "benchmark", "llm")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:  # a byte-order mark (Windows editors write one) starts the first line only
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise fail(path, f"line {number}: not valid UTF-8 text (byte {exc.start})") from None
            if line.strip():
                yield number, line


def _text_and_turns(path: Path, number: int, record: dict, record_id: str):
    if isinstance(record.get("text"), str) and record["text"].strip():
        return record["text"], None
    messages = record.get("messages")
    if isinstance(messages, list) and messages:
        for j, message in enumerate(messages):
            if not isinstance(message, dict) or not isinstance(message.get("content"), str):
                raise fail(path, f"line {number} (id {record_id}): messages[{j}] needs a string 'content'")
            for key in ("name", "role", "recipient"):
                optional_text(path, message.get(key), f"messages[{j}].{key}", record=f"line {number}",
                              record_id=record_id)
        return render_messages([{key: m.get(key) for key in ("name", "role", "recipient", "content")}
                                for m in messages])
    raise fail(path, f"line {number} (id {record_id}): missing its trace ('text' or 'messages')")


def _taxonomy_ref(path: Path, number: int, record: dict, record_id: str) -> str:
    """The record's 'taxonomy' (NAME or NAME@VERSION), checked here so that the error names the line."""
    value = record.get("taxonomy") or DEFAULT_TAXONOMY
    where = {"record": f"line {number}", "record_id": record_id}
    if not isinstance(value, str):
        raise fail(path, f"field 'taxonomy' must be text (NAME or NAME@VERSION), not {kind_of(value)}", **where)
    try:
        parse_ref(value)
    except TaxonomyError as exc:
        raise fail(path, f"field 'taxonomy': {exc}", **where) from None
    return value


def _labels(path: Path, number: int, record: dict, record_id: str) -> list[RecordLabels]:
    raw = record.get("labels") or {}
    if not isinstance(raw, dict):
        raise fail(path, f"line {number} (id {record_id}): 'labels' must map rater names to {{code: 0|1}}")
    taxonomy = _taxonomy_ref(path, number, record, record_id)
    out = []
    for rater, values in raw.items():
        if not rater.strip() or not rater.removeprefix("judge:").strip():
            raise fail(path, f"line {number} (id {record_id}): 'labels' has a rater with an empty name")
        if not isinstance(values, dict):
            raise fail(path, f"line {number} (id {record_id}): labels of {rater!r} must be an object")
        clean = {}
        for code, value in values.items():
            if isinstance(value, bool) or value not in (0, 1):
                raise fail(path, f"line {number} (id {record_id}): label {rater}/{code} must be 0 or 1, not {value!r}")
            clean[str(code)] = int(value)
        kind = "judge" if str(rater).startswith("judge:") else "human"
        out.append(RecordLabels(str(rater), kind, taxonomy, clean))
    return out


def _record_id(path: Path, number: int, record: object) -> str:
    """The record's id: text, or a whole number (not true/false, 1.5, 1e999, an object...)."""
    if not isinstance(record, dict) or record.get("id") in (None, ""):
        raise fail(path, f"line {number}: expected an object with an 'id'")
    value = record["id"]
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    shown = "an empty text" if isinstance(value, str) else kind_of(value)
    if isinstance(value, float) and not math.isfinite(value):
        shown = "a number too large to be an id"
    raise fail(path, f"line {number}: 'id' must be text or a whole number, not {shown}")


def _metadata(path: Path, number: int, record: dict, record_id: str) -> tuple[dict, dict[str, str]]:
    """The known fields (text or absent) and the other tags (text, numbers or true/false)."""
    metadata = record.get("metadata") or {}
    where = {"record": f"line {number}", "record_id": record_id}
    if not isinstance(metadata, dict):
        raise fail(path, "field 'metadata' must be an object", **where)
    known = {key: optional_text(path, metadata.get(key), f"metadata.{key}", **where) for key in KNOWN_METADATA}
    tags = {}
    for key, value in metadata.items():
        if key in KNOWN_METADATA or value is None:
            continue
        if not key.strip():
            raise fail(path, "field 'metadata' has a tag with an empty name", **where)
        if isinstance(value, dict | list):
            raise fail(path, f"field 'metadata.{key}' (a tag) must be text or a number, not {kind_of(value)}",
                       **where)
        tags[str(key)] = str(value)
    return known, tags


def _parse_line(path: Path, number: int, line: str) -> object:
    try:
        return loads_bounded(line)
    except JsonTooDeepError as exc:
        raise fail(path, f"line {number}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise fail(path, f"line {number}: malformed JSON ({exc.msg} at column {exc.colno})") from None


def read(path: Path) -> Iterator[TraceRecord]:
    """Yield one TraceRecord per non-empty line."""
    index = -1
    for index, (number, line) in enumerate(_lines(path)):
        record = _parse_line(path, number, line)
        record_id = _record_id(path, number, record)
        assert isinstance(record, dict)
        text, turns = _text_and_turns(path, number, record, record_id)
        known, tags = _metadata(path, number, record, record_id)
        yield TraceRecord(
            index=index, external_id=record_id, text=text, turns=turns,
            framework=known["framework"], benchmark=known["benchmark"], llm=known["llm"],
            tags=tags, labels=_labels(path, number, record, record_id), locator=f"line {number}",
        )
    if index < 0:
        raise fail(path, "no records (the file is empty)")

"""Reader for JSON Lines: one trace per line.

    {"id": str, "text": str}  or  {"id": str, "messages": [{"name", "role", "content"}, ...]}
    optional "metadata": {"framework", "benchmark", "llm", any other tag: value}
    optional "labels": {"<rater>": {"<mode code>": 0|1, ...}}   (trace level; "judge:..." raters are judges)
    optional "taxonomy": "NAME@VERSION" for the labels (default: the latest mast)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from annotator.core.segments import render_messages
from annotator.ingest.records import RecordLabels, TraceRecord, fail

DEFAULT_TAXONOMY = "mast"
KNOWN_METADATA = ("framework", "benchmark", "llm")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
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
        return render_messages(messages)
    raise fail(path, f"line {number} (id {record_id}): missing its trace ('text' or 'messages')")


def _labels(path: Path, number: int, record: dict, record_id: str) -> list[RecordLabels]:
    raw = record.get("labels") or {}
    if not isinstance(raw, dict):
        raise fail(path, f"line {number} (id {record_id}): 'labels' must map rater names to {{code: 0|1}}")
    taxonomy = str(record.get("taxonomy") or DEFAULT_TAXONOMY)
    out = []
    for rater, values in raw.items():
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


def read(path: Path) -> Iterator[TraceRecord]:
    """Yield one TraceRecord per non-empty line."""
    index = -1
    for index, (number, line) in enumerate(_lines(path)):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise fail(path, f"line {number}: malformed JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict) or record.get("id") in (None, ""):
            raise fail(path, f"line {number}: expected an object with an 'id'")
        record_id = str(record["id"])
        text, turns = _text_and_turns(path, number, record, record_id)
        metadata = record.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise fail(path, f"line {number} (id {record_id}): 'metadata' must be an object")
        tags = {str(k): str(v) for k, v in metadata.items() if k not in KNOWN_METADATA and v is not None}
        yield TraceRecord(
            index=index, external_id=record_id, text=text, turns=turns,
            framework=metadata.get("framework"), benchmark=metadata.get("benchmark"), llm=metadata.get("llm"),
            tags=tags, labels=_labels(path, number, record, record_id), locator=f"line {number}",
        )
    if index < 0:
        raise fail(path, "no records (the file is empty)")

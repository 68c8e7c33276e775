"""The records of a JSON export, streamed: a top-level array, JSON Lines, or one document whose "data" holds
the records (an API list response, an ingest payload). Used by the Langfuse, LangSmith and OpenAI Agents
readers; memory holds one record at a time, never the file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.core.jsonlimits import MAX_JSON_DEPTH, JsonTooDeepError, loads_bounded
from annotator.ingest.jsonstream import iter_json_array
from annotator.ingest.records import fail

LIST_KEYS = ("data", "items", "runs", "traces")  # where API list responses and payloads keep their records


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")


def records(path: Path) -> Iterator[tuple[str, Any]]:
    """(locator, record) for each record; a line or document holding a list under LIST_KEYS yields its items."""
    head = _head(path)
    if head.startswith(b"["):
        for index, item in iter_json_array(path):
            yield f"record {index}", item
        return
    if not head.startswith(b"{"):
        raise fail(path, "not a JSON export (expected a JSON array, JSON Lines or an object with 'data')")
    key = _first_key(path)
    if key in LIST_KEYS:  # {"data": [...]} documents (one, or one per line): streamed, never a whole line
        yield from _listed(path, key)
        return
    lines = _lines(path)
    first = next(lines, None)
    if first is not None and first[1].startswith(_TOO_DEEP):
        raise fail(path, first[1].removeprefix(_TOO_DEEP), record=first[0])
    if first is None or first[2] is None:  # the first line is not a whole record: one (pretty-printed) document
        yield from _document(path)
        return
    for locator, _, record in [first]:
        yield from _expand(locator, record)
    for locator, error, record in lines:
        if error:
            raise fail(path, error, record=locator)
        yield from _expand(locator, record)


def _expand(locator: str, record: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(record, dict):
        for key in LIST_KEYS:
            if isinstance(record.get(key), list):
                for index, item in enumerate(record[key]):
                    yield f"{locator} {key}[{index}]", item
                return
    yield locator, record


def _lines(path: Path) -> Iterator[tuple[str, str, Any]]:
    """(locator, error or '', record or None) per non-empty line."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield f"line {number}", "", loads_bounded(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
            except JsonTooDeepError as exc:
                yield f"line {number}", f"{_TOO_DEEP}{exc}", None
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield f"line {number}", f"malformed JSON ({str(exc).splitlines()[0][:80]})", None


def _first_key(path: Path) -> str | None:
    """The first key of the first top-level object, read without reading the object."""
    import ijson

    # basic_parse, not parse: parse builds a prefix per event, quadratic in the nesting of a hostile file
    depth = 0
    try:
        with open(path, "rb") as handle:
            for event, value in ijson.basic_parse(handle, multiple_values=True):
                if event == "map_key" and depth == 1:
                    return value
                if event in ("start_map", "start_array"):
                    depth += 1
                    if depth > 1:
                        return None  # the first value of the first key came before any second key
                elif event in ("end_map", "end_array"):
                    return None
    except (ijson.JSONError, UnicodeDecodeError):
        return None  # the readers below say what is wrong, and where
    return None


def _depth(value: Any) -> int:
    """Nesting depth, without recursion (a record nested 10**6 deep must not crash the reader)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _listed(path: Path, key: str) -> Iterator[tuple[str, Any]]:
    import ijson

    index = 0
    try:
        with open(path, "rb") as handle:
            for index, item in enumerate(ijson.items(handle, f"{key}.item", multiple_values=True, use_float=True)):
                if _depth(item) > MAX_JSON_DEPTH:
                    raise fail(path, f"JSON nested deeper than {MAX_JSON_DEPTH} levels", record=f"{key}[{index}]")
                yield f"{key}[{index}]", item
    except ijson.JSONError as exc:
        raise fail(path, f"malformed or truncated JSON after {key}[{index}] ({str(exc).splitlines()[0][:80]})") \
            from None
    except UnicodeDecodeError:
        raise fail(path, "not valid UTF-8 text") from None


_TOO_DEEP = "\x00deep:"  # marks a line refused for its nesting (not to be re-read as a document)


def _top_keys(path: Path) -> list[str]:
    """The document's top-level keys; refuses nesting deeper than MAX_JSON_DEPTH before anything is built."""
    import ijson

    keys, depth = [], 0
    with open(path, "rb") as handle:
        for event, value in ijson.basic_parse(handle):  # no prefixes: see _first_key
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > MAX_JSON_DEPTH:
                    raise fail(path, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            elif event in ("end_map", "end_array"):
                depth -= 1
            elif depth == 1 and event == "map_key":
                keys.append(value)
    return keys


def _document(path: Path) -> Iterator[tuple[str, Any]]:
    """One JSON document: its list under LIST_KEYS streamed item by item, else the document as one record."""
    import ijson

    try:
        keys = _top_keys(path)
        key = next((k for k in LIST_KEYS if k in keys), None)
        with open(path, "rb") as handle:
            if key is None:
                yield "record 0", next(ijson.items(handle, "", use_float=True))
                return
            for index, item in enumerate(ijson.items(handle, f"{key}.item", use_float=True)):
                yield f"{key}[{index}]", item
    except ijson.JSONError as exc:
        raise fail(path, f"malformed or truncated JSON ({str(exc).splitlines()[0][:80]})") from None
    except UnicodeDecodeError:
        raise fail(path, "not valid UTF-8 text") from None

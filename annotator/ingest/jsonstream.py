"""Stream the items of a top-level JSON array without loading the file (files can be 200 MB+)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.core.jsonlimits import MAX_JSON_DEPTH, JsonTooDeepError, check_json_depth
from annotator.ingest.records import fail

_OPENING = ("start_map", "start_array")
_CLOSING = ("end_map", "end_array")


def _reason(exc: Exception) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    first = str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__
    if "UTF8" in first or "UTF-8" in first:
        return "not valid UTF-8 text"
    return f"malformed JSON ({first})"


def iter_json_array(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (index, item) for each element of the file's top-level array.

    A parse error becomes an IngestError naming the record at which it happened; so does nesting deeper
    than MAX_JSON_DEPTH, found while streaming, so memory stays bounded by the largest record.
    """
    import ijson

    index = 0
    with open(path, "rb") as handle:
        try:
            for item in _array_items(handle):
                yield index, item
                index += 1
        except JsonTooDeepError as exc:
            raise fail(path, str(exc), record=index) from None
        except UnicodeDecodeError:
            raise fail(path, "not valid UTF-8 text", record=index) from None
        except ijson.JSONError as exc:
            raise fail(path, _reason(exc), record=index) from None
    if index == 0:
        raise fail(path, "no records (expected a JSON array of trace records)")


def _array_items(handle) -> Iterator[Any]:
    """The items of a top-level array, built from ijson's prefix-free events.

    Not `ijson.items(handle, "item")`: it keeps a prefix string per level ("item.item.item..."), so its
    memory grows with the square of the depth (200,000 levels took 23 GB). Here each level costs one
    counter step, and the depth is refused beyond MAX_JSON_DEPTH before anything deeper is built.
    """
    import ijson
    from ijson.common import ObjectBuilder

    depth, builder = 0, None
    for event, value in ijson.basic_parse(handle, use_float=True):
        if depth == 0 and event != "start_array":
            return  # not an array at the top: no records (the caller says so)
        if event in _OPENING:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise JsonTooDeepError(MAX_JSON_DEPTH)
            if depth == 1:
                continue
        elif event in _CLOSING:
            depth -= 1
            if depth == 0:
                return
        if depth == 1 and builder is None:
            yield value  # a scalar item
            continue
        builder = builder or ObjectBuilder()
        builder.event(event, value)
        if depth == 1:
            yield builder.value
            builder = None


def first_item(path: Path) -> Any:
    """The first element of a top-level JSON array (IngestError if it cannot be read)."""
    for _, item in iter_json_array(path):
        return item
    return None


def load_json_array(path: Path) -> Iterator[tuple[int, Any]]:
    """Like iter_json_array, but reads the whole file with the standard library.

    For small files that are not strict JSON: the MAST human file writes missing labels as a bare
    `NaN`, which streaming parsers reject. NaN becomes float('nan'); callers treat it as missing.
    """
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        check_json_depth(text)
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise fail(path, f"not valid UTF-8 text (byte {exc.start})") from None
    except JsonTooDeepError as exc:
        raise fail(path, str(exc)) from None
    except json.JSONDecodeError as exc:
        raise fail(path, f"malformed JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, list):
        raise fail(path, "expected a JSON array of trace records")
    if not data:
        raise fail(path, "no records (expected a JSON array of trace records)")
    yield from enumerate(data)

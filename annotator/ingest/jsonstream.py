"""Stream the items of a top-level JSON array without loading the file (files can be 200 MB+)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotator.ingest.records import fail


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

    A parse error becomes an IngestError naming the record at which it happened.
    """
    import ijson

    index = 0
    with open(path, "rb") as handle:
        try:
            for item in ijson.items(handle, "item", use_float=True):
                yield index, item
                index += 1
        except ijson.JSONError as exc:
            raise fail(path, _reason(exc), record=index) from None
        except UnicodeDecodeError:
            raise fail(path, "not valid UTF-8 text", record=index) from None
    if index == 0:
        raise fail(path, "no records (expected a JSON array of trace records)")


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
            data = json.load(handle)
    except UnicodeDecodeError as exc:
        raise fail(path, f"not valid UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise fail(path, f"malformed JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, list):
        raise fail(path, "expected a JSON array of trace records")
    if not data:
        raise fail(path, "no records (expected a JSON array of trace records)")
    yield from enumerate(data)

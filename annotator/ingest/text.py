"""Reader for plain text: the whole file is one trace, its id the file name without extension."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from annotator.ingest.records import TraceRecord, fail


def read(path: Path) -> Iterator[TraceRecord]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(path, f"not valid UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise fail(path, "the file is empty")
    yield TraceRecord(index=0, external_id=path.stem, text=text)

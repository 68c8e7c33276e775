"""Items of an import parked on disk by key, so an export larger than memory can be regrouped.

Span exports interleave traces (the Collector writes batches, not traces), so a trace can only be built once
the whole file has been read. Rather than holding a 1 GB export in memory, readers put each span here under
its trace id and take the traces back one at a time. The file is a private temporary SQLite database,
deleted on close; it never touches the annotator database, so an import that fails leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator


class Spill:
    """Blobs by key, read back per key in the order they were added; keys in order of first appearance."""

    def __init__(self) -> None:
        handle, self.path = tempfile.mkstemp(prefix="annotator-spill-", suffix=".db")
        os.close(handle)
        self.conn = sqlite3.connect(self.path)
        # Private scratch data: losing it in a crash costs nothing, so skip the journal and syncing.
        self.conn.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                                "CREATE TABLE items (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, blob BLOB NOT NULL);")
        self.pending: list[tuple[str, bytes]] = []

    def add(self, key: str, blob: bytes) -> None:
        self.pending.append((key, blob))
        if len(self.pending) >= 2000:
            self._flush()

    def _flush(self) -> None:
        self.conn.executemany("INSERT INTO items (key, blob) VALUES (?, ?)", self.pending)
        self.pending = []

    def ordered_keys(self) -> list[str]:
        """Every key once, in the order of its first item (one row per key: small beside the blobs)."""
        self._flush()
        self.conn.execute("CREATE INDEX IF NOT EXISTS items_key ON items (key, seq)")
        return [row[0] for row in self.conn.execute("SELECT key FROM items GROUP BY key ORDER BY min(seq)")]

    def items(self, key: str) -> Iterator[bytes]:
        for (blob,) in self.conn.execute("SELECT blob FROM items WHERE key = ? ORDER BY seq", [key]):
            yield blob

    def close(self) -> None:
        self.conn.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

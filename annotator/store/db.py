"""Opening the database: one SQLite file, WAL, busy timeout, foreign keys, migrations applied."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

DEFAULT_DB = "annotator.db"
BUSY_TIMEOUT_S = 30.0


def default_path() -> Path:
    """`$ANNOTATOR_DB`, else `./annotator.db` (the CLI's --db overrides both)."""
    return Path(os.environ.get("ANNOTATOR_DB") or DEFAULT_DB)


def connect(path: str | Path | None = None, *, migrate: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path` and bring its schema up to date.

    Each thread should open its own connection: sqlite3 connections are cheap and must not be
    shared between threads that write.
    """
    from annotator.store.schema import apply_migrations

    conn = sqlite3.connect(str(path or default_path()), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; durable at checkpoints
    db = sqlite_utils.Database(conn, execute_plugins=False)
    if migrate:
        apply_migrations(db)
    return db


@contextlib.contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction, all or nothing.

    BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait on the busy timeout
    instead of failing with "database is locked" when a read transaction tries to upgrade.
    Nested calls join the outer transaction through a savepoint.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.execute("COMMIT")


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just made. sqlite3 types it as optional (None before any INSERT), never here."""
    rowid = cursor.lastrowid
    if rowid is None:
        raise RuntimeError("no row was inserted")
    return rowid


def now() -> str:
    """UTC timestamp with microseconds, sortable as text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")

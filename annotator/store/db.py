"""Opening the database: one SQLite file, WAL, busy timeout, foreign keys, migrations applied."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import sqlite_utils

from annotator.core.errors import UserError

DEFAULT_DB = "annotator.db"
BUSY_TIMEOUT_S = 30.0
IN_CHUNK = 500  # values per IN (...) query, well under SQLite's limit on bound variables
_T = TypeVar("_T")

# SQLite's primary result codes that are about the file, not the SQL: the user can fix them.
_FILE_PROBLEMS = {
    sqlite3.SQLITE_BUSY: "the database is locked by another program (waited {busy:.0f} s); try again when it is done",
    sqlite3.SQLITE_CANTOPEN: "cannot open the database (does its folder exist, and may you write there?)",
    sqlite3.SQLITE_NOTADB: "not an annotator database (the file is not SQLite)",
    sqlite3.SQLITE_READONLY: "the database is read-only (check the permissions of the file and its folder)",
    sqlite3.SQLITE_PERM: "permission denied",
    sqlite3.SQLITE_CORRUPT: "the database file is damaged ({reason})",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_IOERR: "disk input/output error ({reason})",
}


class DatabaseFileError(UserError):
    """The database file cannot be used (locked, unreadable, not SQLite...); the message names it."""


class NoDatabaseError(DatabaseFileError):
    """A command other than init was pointed at a file that does not exist or holds no tables."""

    def __init__(self, path: str | Path):
        super().__init__(f"no annotator database at {path}; run `annotator init --db {path}` first")


def database_error(path: str | Path, exc: sqlite3.Error) -> DatabaseFileError | None:
    """A one-line error naming `path` when `exc` is about the database file, None when it is a bug
    (bad SQL, a broken constraint: those keep their traceback)."""
    code = getattr(exc, "sqlite_errorcode", None)
    template = _FILE_PROBLEMS.get(code & 0xFF) if isinstance(code, int) else None
    if template is None:
        return None
    return DatabaseFileError(f"{path}: " + template.format(busy=BUSY_TIMEOUT_S, reason=str(exc).splitlines()[0]))


def default_path() -> Path:
    """`$ANNOTATOR_DB`, else `./annotator.db` (the CLI's --db overrides both)."""
    return Path(os.environ.get("ANNOTATOR_DB") or DEFAULT_DB)


def connect(path: str | Path | None = None, *, migrate: bool = True, create: bool = True) -> sqlite_utils.Database:
    """Open the database at `path` and bring its schema up to date (an older annotator's is migrated).

    With `create` (init, demo, tests), a missing file or one without tables gets the schema; without it
    (every other command: :func:`open_existing`) they are refused and nothing is created.
    Each thread should open its own connection: sqlite3 connections are cheap and must not be
    shared between threads that write.
    """
    target = path or default_path()
    if not create and not Path(target).exists():
        raise NoDatabaseError(target)  # before sqlite3.connect, which would create the file
    conn = None
    try:
        conn = sqlite3.connect(str(target), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        return _prepare(conn, migrate=migrate, path=target, create=create)
    except DatabaseFileError:
        if conn is not None:
            conn.close()
        raise
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        problem = database_error(target, exc)
        if problem is None:
            raise
        raise problem from exc


def open_existing(path: str | Path | None = None, *, migrate: bool = True) -> sqlite_utils.Database:
    """The database a command works on: one that `annotator init` (or `demo`) made, else NoDatabaseError."""
    return connect(path, migrate=migrate, create=False)


def _prepare(conn: sqlite3.Connection, *, migrate: bool, path: str | Path, create: bool) -> sqlite_utils.Database:
    from annotator.store.schema import apply_migrations, foreign_database_problem, has_tables

    # Before any PRAGMA that writes (journal_mode=WAL is stored in the file): another application's
    # database, a newer annotator's, or (for commands other than init) an empty file must be left exactly as it was.
    unprepared = sqlite_utils.Database(conn, execute_plugins=False)
    problem = foreign_database_problem(unprepared)
    if problem is not None:
        raise DatabaseFileError(f"{path}: {problem}")
    if not create and not has_tables(unprepared):
        raise NoDatabaseError(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; durable at checkpoints
    db = sqlite_utils.Database(conn, execute_plugins=False)
    if migrate:
        apply_migrations(db)
    return db


def file_path(db: sqlite_utils.Database) -> str | None:
    """The file behind `db` (for another process to open it), or None for an in-memory database."""
    for _seq, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return file or None
    return None


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


def in_chunks(values: Sequence[_T]) -> Iterator[tuple[list[_T], str]]:
    """`values` IN_CHUNK at a time, each chunk with its placeholders ("?,?,?") for an `IN (...)` clause."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = list(values[start:start + IN_CHUNK])
        yield chunk, ",".join("?" * len(chunk))

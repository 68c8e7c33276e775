"""The log file: one rotating file in the data directory, written by the CLI and by the server.

Where: `annotator-logs/annotator.log` in the folder of the database (`./annotator-logs/annotator.log` for
the default `./annotator.db`), rotated at 1 MB with three older files kept (`annotator.log.1` ...). The
folder is made when the first record is written, so a command that logs nothing leaves nothing behind.

What: records of the `annotator` loggers at INFO and above: the traceback of every internal error of a
command, judge runs starting and ending (and the traceback when one fails), the server starting and
stopping, and pages that fail. Every line is scrubbed of secrets (API keys, tokens, credentials in URLs)
before it is written, and no INFO record holds trace text.

The entry points (the CLI group, the Streamlit app) call `configure`; library code only asks
`logging.getLogger(__name__)`. Two processes may write the same file (a CLI command while the server
runs); each line is written whole, and a process that finds the file renamed under it by the other's
rotation reopens the new file before it writes (as `logging.handlers.WatchedFileHandler` does).
"""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_DIR = "annotator-logs"
LOG_FILE = "annotator.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
ROOT_LOGGER = "annotator"
_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


def log_path(db_path: str | Path) -> Path:
    """The log file that goes with the database at `db_path`."""
    return Path(db_path).expanduser().resolve().parent / LOG_DIR / LOG_FILE


class _ScrubbingFormatter(logging.Formatter):
    """Formats as usual, then removes secrets from the whole text (message and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        from annotator.judge.redact import scrub  # here, not at the top: the CLI's start-up stays light

        return scrub(super().format(record)) or ""


class _LogFile(RotatingFileHandler):
    """A rotating file that makes its folder on first use and never prints when it cannot write:
    `failure` keeps the reason (the CLI reports it in its one line instead)."""

    failure: BaseException | None = None

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def handleError(self, record: logging.LogRecord) -> None:
        self.failure = sys.exc_info()[1]

    def emit(self, record: logging.LogRecord) -> None:
        self._reopen_if_moved()
        super().emit(record)

    def _reopen_if_moved(self) -> None:
        """Close our stream when the file on disk is no longer the one we hold open (another process rotated
        it); FileHandler.emit then opens the current file. Without this we would keep writing to `.log.1`."""
        if self.stream is None:
            return
        try:
            on_disk = os.stat(self.baseFilename)
        except FileNotFoundError:
            on_disk = None
        held = os.fstat(self.stream.fileno())
        if on_disk is None or (on_disk.st_dev, on_disk.st_ino) != (held.st_dev, held.st_ino):
            self.stream.close()
            self.stream = None  # type: ignore[assignment]  # FileHandler reopens a None stream on emit


def _handler() -> _LogFile | None:
    return next((h for h in logging.getLogger(ROOT_LOGGER).handlers if isinstance(h, _LogFile)), None)


def configure(db_path: str | Path) -> Path:
    """Send the package's records (INFO and above) to the log file of `db_path`; return its path.

    Idempotent: called again with the same database it changes nothing, with another it moves the file.
    """
    path = log_path(db_path)
    logger = logging.getLogger(ROOT_LOGGER)
    current = _handler()
    if current is not None and Path(current.baseFilename) == path:
        return path
    if current is not None:
        logger.removeHandler(current)
        current.close()
    handler = _LogFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    handler.setFormatter(_ScrubbingFormatter(_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return path


def log_bug(db_path: str | Path, message: str, exc: BaseException) -> tuple[Path, BaseException | None]:
    """Write `message` and the traceback of `exc` to the log file; return the file and, when it could not
    be written, the reason (None when it was)."""
    path = configure(db_path)
    handler = _handler()
    assert handler is not None  # configure() installed it
    handler.failure = None
    logging.getLogger(f"{ROOT_LOGGER}.cli").error(message, exc_info=exc)
    handler.flush()
    return path, handler.failure

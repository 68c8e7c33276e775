"""Which browser sessions may upload files, and how much each may have the server hold.

Streamlit accepts a PUT to /_stcore/upload_file/SESSION/FILE from any connected session that sends the XSRF
token of its own cookie: a visitor who never signs in gets a session by opening the page, and every file she
PUTs, under any file id (it need not belong to an uploader that was ever rendered), is held in the server's
memory until her session expires (server.disconnectedSessionTTL after she leaves). server.maxUploadSize bounds
one file; Streamlit offers no bound on how many files, or bytes, a session holds.

The gate closes that: the upload route asks the runtime whether the session is active before it reads any
of the body, and the gate answers "no" for every session whose signed-in user is not an admin (the only
role with an uploader, on the Data page), and for an admin's session that already holds MAX_FILES files or
MAX_SESSION_MB megabytes. A refused upload is answered 400 with nothing read and nothing kept.

It relies on two details of Streamlit's runtime (1.6x: `Runtime.is_active_session`, which only the upload
route calls, and `MemoryUploadedFileManager.file_storage`); tests/test_upload_gate.py runs the real server and
fails if an upgrade moves them.
"""

from __future__ import annotations

import contextlib
import logging
import threading

MAX_FILES = 20  # files one admin session may have the server hold at once (the Data page imports a batch)
MAX_SESSION_MB = 200  # and their total: four files of the largest size `annotator serve` allows (50 MB)

log = logging.getLogger(__name__)
_lock = threading.Lock()
_uploaders: set[str] = set()  # session ids whose user is an admin, as of that session's latest run
_installed = False


def permit(session_id: str, allowed: bool) -> None:
    """Record whether this session's user may upload (called on every script run, after sign-in is checked)."""
    with _lock:
        if allowed:
            _uploaders.add(session_id)
        else:
            _uploaders.discard(session_id)


def may_upload(session_id: str, held: tuple[int, int], *, file_mb: int) -> bool:
    """An admin's session with room for one more file of up to `file_mb` MB; `held` is (files, bytes) the
    server holds for it now."""
    files, size = held
    with _lock:
        admin = session_id in _uploaders
    return admin and files < MAX_FILES and size + file_mb * 2**20 <= MAX_SESSION_MB * 2**20


def install() -> None:
    """Put the gate in front of the upload route of the running server (once per process; no server, no-op)."""
    global _installed
    from streamlit import config
    from streamlit.runtime import Runtime

    with _lock:
        if _installed or not Runtime.exists():
            return
        _installed = True
    runtime = Runtime.instance()
    is_active = runtime.is_active_session
    manager = runtime.uploaded_file_mgr
    storage = getattr(manager, "file_storage", None)
    if storage is None:  # another upload manager than Streamlit's in-memory one: count nothing, still gate
        log.warning("upload gate: the upload manager keeps no file_storage; only roles are checked")

    def held(session_id: str) -> tuple[int, int]:
        with getattr(manager, "_lock", None) or contextlib.nullcontext():
            files = list(storage.get(session_id, {}).values()) if storage is not None else []
        return len(files), sum(len(f.data) for f in files)

    def active_and_may_upload(session_id: str) -> bool:
        file_mb = int(config.get_option("server.maxUploadSize"))
        return is_active(session_id) and may_upload(session_id, held(session_id), file_mb=file_mb)

    runtime.is_active_session = active_and_may_upload  # type: ignore[method-assign]

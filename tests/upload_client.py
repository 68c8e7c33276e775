"""A signed-out visitor of the app, as a script: what a browser tab does before anyone signs in, then uploads.

It asks for the health check, as the page's script does first (the answer sets Streamlit's XSRF cookie), opens the app's websocket (which makes a session,
and runs the script once: the sign-in page), learns the session id from the server's first message, and
PUTs files to /_stcore/upload_file/SESSION/FILE with the XSRF token of its own cookie, under file ids it
makes up. Used by tests/test_upload_gate.py and benchmarks/bench_uploads.py.
"""

from __future__ import annotations

import contextlib
import os
import threading
import urllib.error
import urllib.request
import uuid
from http.cookies import SimpleCookie
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

XSRF_COOKIE = "_streamlit_xsrf"
CUT_OFF = 0  # put(): refused while the body was still being sent


class Visitor:
    """One browser tab that never signs in. Close it to end its websocket (its session then expires)."""

    def __init__(self, base_url: str, *, query: str = ""):
        self.base = base_url.rstrip("/")
        with urllib.request.urlopen(self.base + "/_stcore/health", timeout=30) as answer:  # as the page's script does
            cookies = SimpleCookie("; ".join(answer.headers.get_all("Set-Cookie") or []))
        self.xsrf = cookies[XSRF_COOKIE].value
        self.closing = contextlib.ExitStack()
        self.ws: ClientConnection = self.closing.enter_context(connect(
            self.base.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit", self.xsrf],
            additional_headers={"Cookie": f"{XSRF_COOKIE}={self.xsrf}", "Origin": self.base},
            max_size=None, open_timeout=30))
        rerun = BackMsg()
        rerun.rerun_script.query_string = query
        self.ws.send(rerun.SerializeToString())
        self.session_id = self._session_id()
        # A tab keeps reading: a client that stops is cut off by the server's pings, and its session with it.
        threading.Thread(target=self._drain, name=f"visitor-{self.session_id}", daemon=True).start()

    def _drain(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                self.ws.recv()

    def _session_id(self) -> str:
        """Read the run's messages until it has finished (a sign-in from `query` reruns first): new_session
        carries the id."""
        session_id = None
        while True:
            message = ForwardMsg()
            message.ParseFromString(self.ws.recv(timeout=60))
            kind = message.WhichOneof("type")
            if kind == "new_session":
                session_id = message.new_session.initialize.session_id
            elif kind == "script_finished" and message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                if session_id is None:
                    raise RuntimeError("the run finished without a new_session message")
                return session_id

    def put(self, data: bytes, *, name: str = "x.jsonl", file_id: str | None = None) -> int:
        """PUT one file as the uploader would (multipart, XSRF header); returns the HTTP status, or CUT_OFF
        when the server answered and closed the connection before taking the body."""
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{file_id or 'file'}\"; "
                f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
        body += data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"{self.base}/_stcore/upload_file/{self.session_id}/{file_id or uuid.uuid4().hex}", data=body,
            method="PUT", headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                   "X-Xsrftoken": self.xsrf})
        request.add_header("Cookie", f"{XSRF_COOKIE}={self.xsrf}")
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ConnectionResetError | BrokenPipeError):
                return CUT_OFF
            raise

    def close(self) -> None:
        self.closing.close()


def held_upload_bytes(base_url: str) -> int:
    """What Streamlit's upload manager holds, in bytes, from the server's own metrics endpoint."""
    with urllib.request.urlopen(base_url.rstrip("/") + "/_stcore/metrics?families=cache_memory_bytes",
                                timeout=30) as answer:
        text = answer.read().decode()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("cache_memory_bytes") and "UploadedFileManager" in line)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


def server_pid(launcher_pid: int) -> int:
    """The Streamlit process `annotator serve` started (its only child)."""
    children = Path(f"/proc/{launcher_pid}/task/{launcher_pid}/children").read_text().split()
    return int(children[0]) if children else launcher_pid


def random_bytes(size: int) -> bytes:
    return os.urandom(size)

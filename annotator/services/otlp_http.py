"""The OTLP/HTTP receiver of `annotator collect`: POST /v1/traces and /v1/logs, GET /v1/status.

Standard library `http.server` (ThreadingHTTPServer) rather than a web framework: OTLP/HTTP is one POST per
batch with a small, fixed set of status codes, the senders are a team's own exporters, and the tool then
needs no server dependency. Each request thread has its own SQLite connection; a span is committed to the
staging table before the 200 goes out. An assembler thread builds complete traces in the background.
"""

from __future__ import annotations

import hmac
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from annotator import store
from annotator.services import collect
from annotator.store import staging
from annotator.store.db import DatabaseFileError

STATUS = "/v1/status"
log = logging.getLogger(__name__)


class Receiver(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, db_path: Path, *, host: str = "127.0.0.1", port: int = 4318, token: str | None = None,
                 max_bytes: int = 20_000_000, quiet_s: float = 30.0, scheme: str | None = None,
                 report: Callable[[collect.Assembled], None] | None = None):
        store.open_existing(db_path).conn.close()  # migrate once, before threads open it side by side
        super().__init__((host, port), _Handler)
        self.db_path, self.token, self.max_bytes = db_path, token, max_bytes
        self.quiet_s, self.settle_s, self.scheme = quiet_s, min(1.0, quiet_s), scheme
        self.report = report or (lambda done: None)
        self.local = threading.local()
        self.stopping = threading.Event()
        self.assembler = threading.Thread(target=self._assemble_loop, name="assembler", daemon=True)

    def db(self):
        if not hasattr(self.local, "db"):
            self.local.db = store.open_existing(self.db_path, migrate=False)
        return self.local.db

    def start(self) -> None:
        """Serve in a background thread (tests, embedding); `serve_forever` serves in this one."""
        self.assembler.start()
        threading.Thread(target=self.serve_forever, name="otlp-http", daemon=True).start()

    def run(self) -> None:
        self.assembler.start()
        try:
            self.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()

    def _assemble_loop(self) -> None:
        db = store.open_existing(self.db_path, migrate=False)
        while not self.stopping.wait(0.2):
            for done in collect.assemble_ready(db, now=time.time(), quiet_s=self.quiet_s, settle_s=self.settle_s,
                                               scheme=self.scheme):
                self.report(done)

    def summary(self) -> dict[str, int]:
        return staging.staging_summary(self.db())


class _Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"  # keep-alive: exporters reuse their connection

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # one line per request would drown the per-trace report

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _refuse(self, status: int, message: str) -> None:
        # google.rpc.Status in its JSON form; protobuf senders read only the status code
        self._send(status, json.dumps({"code": {400: 3, 401: 16, 413: 8, 503: 14}.get(status, 13),
                                       "message": message}).encode())

    def _authorised(self) -> bool:
        if self.server.token is None:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.server.token}".encode())

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path != STATUS:
            self._refuse(404, f"no such path {self.path!r} (POST {collect.TRACES}, GET {STATUS})")
        elif not self._authorised():
            self._refuse(401, "missing or wrong bearer token")
        else:
            self._send(200, json.dumps(self.server.summary()).encode())

    def do_POST(self) -> None:  # noqa: N802
        try:
            body = self._read()
            collect.stage_request(self.server.db(), self.path, body, now=time.time(),
                                           content_type=self.headers.get("Content-Type", ""))
        except collect.RequestError as exc:
            self.close_connection = True  # the rest of a refused body may still be on the wire
            self._refuse(exc.status, str(exc))
            return
        except (sqlite3.Error, DatabaseFileError) as exc:  # busy or locked: OTLP exporters retry a 503
            log.warning("collect: request not stored (%s)", exc)
            self._refuse(503, f"the database cannot take the spans now ({exc}); retry")
            return
        except Exception:
            log.exception("collect: request failed")
            self._refuse(500, "internal error (traceback in the log)")
            return
        protobuf = self.headers.get("Content-Type", "").startswith("application/x-protobuf")
        # ExportTraceServiceResponse / ExportLogsServiceResponse with nothing rejected: empty in both encodings
        self._send(200, b"" if protobuf else b"{}", "application/x-protobuf" if protobuf else "application/json")

    def _read(self) -> bytes:
        if self.path not in (collect.TRACES, collect.LOGS):
            raise collect.RequestError(404, f"no such path {self.path!r} (POST {collect.TRACES} or {collect.LOGS})")
        if not self._authorised():
            raise collect.RequestError(401, "missing or wrong bearer token")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise collect.RequestError(400, "a Content-Length header is required")
        if int(length) > self.server.max_bytes:
            raise collect.RequestError(413, f"the request is {int(length)} bytes, over the limit of "
                                            f"{self.server.max_bytes}")
        body = self.rfile.read(int(length))
        return collect.decode_body(body, encoding=self.headers.get("Content-Encoding", ""),
                                   limit=self.server.max_bytes)

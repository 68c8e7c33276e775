"""The web server as a child process that starts and stops like a server.

- A port that cannot be bound is found before the child starts (and again if the child dies while
  starting): one line, exit 1.
- The URL is announced only once `/_stcore/health` answers "ok".
- SIGINT or SIGTERM to this process stops the child (SIGTERM, then SIGKILL after STOP_GRACE_S) and
  ends cleanly; on Linux the child is also sent SIGTERM when this process dies without cleaning up
  (PR_SET_PDEATHSIG), so no orphan keeps serving the port.

The child stays in this process's group, so Ctrl+C in a terminal reaches both at once, and one group
holds everything `serve` started.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import IO

from annotator.core.errors import UserError

STARTUP_TIMEOUT_S = 60.0  # Streamlit starts in 2-10 s; a cold machine with a slow disk may take longer
STOP_GRACE_S = 5.0  # then SIGKILL
POLL_S = 0.1  # how often the health endpoint is asked while the child runs
HEALTH_TIMEOUT_S = 1.0
_PR_SET_PDEATHSIG = 1
_HELD_LINES = 200  # stderr lines kept until the server is up


class ServerError(UserError):
    """The server cannot start or stopped by itself (busy port, bad address, the child died...)."""


def url_for(host: str, port: int) -> str:
    """The address as the user gave it, e.g. http://127.0.0.1:8501/ (IPv6 in brackets)."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def probe_url(host: str, port: int) -> str:
    """Where this machine reaches the server: a wildcard address is asked on the loopback."""
    return url_for({"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host), port)


def check_port_free(host: str, port: int) -> None:
    """Raise ServerError when `host`:`port` cannot be listened on, before anything starts.

    Binds as Streamlit (tornado) does: SO_REUSEADDR, so a port left in TIME_WAIT counts as free, and every
    address the host name resolves to.
    """
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServerError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL and family == socket.AF_INET6:
                    continue  # no IPv6 loopback here; tornado skips it too
                if exc.errno == errno.EADDRINUSE:
                    raise ServerError(f"port {port} on {host} is in use (another server? choose another with "
                                      "--port)") from None
                reason = exc.strerror or str(exc)
                raise ServerError(f"cannot listen on {host}:{port}: {reason[:1].lower() + reason[1:]}") from None


def health_ok(url: str) -> bool:
    """True when `url`/_stcore/health answers "ok" (asked directly, never through an HTTP proxy)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + "_stcore/health", timeout=HEALTH_TIMEOUT_S) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (OSError, ValueError):
        return False


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when this process dies, even by SIGKILL."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


class _StderrTail(threading.Thread):
    """Reads the child's stderr: keeps its last lines (to explain an early death), holds them back while
    the server starts, and passes them on to ours once it is up."""

    def __init__(self, stream: IO[bytes], sink: IO[str]):
        super().__init__(name="server-stderr", daemon=True)
        self.stream, self.sink = stream, sink
        self.recent: collections.deque[str] = collections.deque(maxlen=_HELD_LINES)
        self.forwarding = False
        self.lock = threading.Lock()

    def run(self) -> None:
        for raw in iter(self.stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip()
            with self.lock:
                self.recent.append(line)
                if self.forwarding:
                    self._write(line)

    def _write(self, line: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # our stderr is gone: the server keeps running
            self.sink.write(line + "\n")
            self.sink.flush()

    def start_forwarding(self) -> None:
        with self.lock:
            for line in self.recent:
                self._write(line)
            self.forwarding = True

    def last_line(self) -> str:
        with self.lock:
            return next((line.strip() for line in reversed(self.recent) if line.strip()), "")


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs (previous handlers restored after it)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # only the main thread may handle signals; the caller stops the server itself
        return
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class ServerProcess:
    """One child server: started, watched until healthy, stopped (with escalation) on request."""

    def __init__(self, command: list[str], env: dict[str, str]):
        self.command, self.env = command, env
        self.proc: subprocess.Popen | None = None
        self.tail: _StderrTail | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     preexec_fn=_die_with_parent())  # noqa: PLW1509 (no threads yet: the CLI is single-threaded here)
        self.tail = _StderrTail(self.proc.stderr, sys.stderr)
        self.tail.start()

    def _ended(self, timeout: float) -> int | None:
        """Wait up to `timeout` for the child to end; its exit code, or None while it runs."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def wait_healthy(self, url: str, stop: threading.Event, *, timeout: float = STARTUP_TIMEOUT_S) -> bool:
        """Until `url` is healthy (True) or `stop` is set (False); ServerError when the child dies first
        or the deadline passes."""
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            if health_ok(url):
                self.tail.start_forwarding()
                return True
            code = self._ended(POLL_S)
            if code is not None:
                raise ServerError(f"the server stopped while starting (exit code {code}): "
                                  f"{self.last_words() or 'it said nothing'}")
            if time.monotonic() > deadline:
                said = self.last_words()
                raise ServerError(f"the server did not answer on {url} within {timeout:.0f} s"
                                  + (f" (last said: {said})" if said else ""))
        return False

    def wait(self, stop: threading.Event) -> int | None:
        """Until the child ends (its exit code) or `stop` is set (None)."""
        while not stop.is_set():
            code = self._ended(POLL_S)
            if code is not None:
                return code
        return None

    def stop(self, *, grace: float = STOP_GRACE_S) -> None:
        """SIGTERM the child, SIGKILL it after `grace` seconds; return once it is gone."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self._ended(grace) is None:
                self.proc.kill()
                self.proc.wait()
        if self.tail is not None:
            self.tail.join(timeout=grace)  # the pipe closes with the child

    def last_words(self) -> str:
        if self.tail is not None:
            self.tail.join(timeout=1)  # after an exit, let the reader drain the pipe
        return self.tail.last_line() if self.tail is not None else ""

"""`annotator serve` starts and stops like a server: a signal stops everything it started, a busy port is one
line and exit 1, and the URL is printed only once the server answers its health check."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotator.cli import serve as serve_module
from annotator.cli.main import cli
from annotator.cli.server_process import ServerProcess
from tests.helpers import new_db

# A stand-in server: answers its health check with 503 and gives up after three checks, as a server that
# cannot start would (Streamlit losing the port to another program between our check and its bind).
GIVES_UP = """
import http.server, sys
port, asked = int(sys.argv[1]), []
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        asked.append(self.path)
        self.send_response(503); self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), Health)
while len(asked) < 3:
    server.handle_request()
print("starting...", file=sys.stderr)
print(f"fake: gave up after {len(asked)} health checks", file=sys.stderr)
sys.exit(3)
"""

IGNORES_SIGTERM = """
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", file=sys.stderr, flush=True)
time.sleep(120)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def live_members(group: int) -> list[int]:
    """Processes of a process group that still run (zombies waiting for a reaper do not serve anything)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (name)": state ppid pgrp ...
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


def read_line(stream, timeout: float) -> str:
    """The next line of a pipe, or "" when none comes within `timeout` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


def health(url: str) -> bytes:
    with urllib.request.urlopen(url + "_stcore/health", timeout=5) as response:
        return response.read()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["TERM", "INT", "KILL"])
def test_a_signal_stops_everything_serve_started(tmp_path, sig):
    db, port = new_db(tmp_path / "s.db"), free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(db), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=tmp_path)  # not the checkout: its annotator/ would shadow the installed one
    group = proc.pid  # a new session: its own process group, which holds everything serve starts
    try:
        line = read_line(proc.stdout, timeout=90)
        assert line == f"serving {db} on {url}  (Ctrl+C stops)\n", line if line else proc.stderr.read()
        assert health(url) == b"ok"  # the URL appeared once the server answered
        assert len(live_members(group)) >= 2  # annotator and the Streamlit it started
        os.kill(proc.pid, sig)  # the process the user started, not its group
        # serve gives Streamlit 5 s before it kills it; the margin beyond is for a loaded machine
        assert proc.wait(timeout=30) == (-signal.SIGKILL if sig == signal.SIGKILL else 0)
        if sig == signal.SIGKILL:  # no cleanup ran: the kernel tells the child (PR_SET_PDEATHSIG)
            deadline = time.monotonic() + 10
            while live_members(group) and time.monotonic() < deadline:
                time.sleep(0.05)
        assert live_members(group) == []  # after SIGTERM or SIGINT, gone before serve exits
        assert port_is_free(port)
        if sig != signal.SIGKILL:
            assert "Traceback" not in proc.stderr.read()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        proc.wait(timeout=10)


def test_a_busy_port_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = CliRunner().invoke(cli, ["--db", str(tmp_path / "s.db"), "serve", "--port", str(port)])
    assert done.exit_code == 1
    assert done.stderr.splitlines() == [(f"Error: port {port} on 127.0.0.1 is in use (another server? choose "
                                        "another with --port)")]
    assert done.stdout == ""


def test_no_url_until_the_server_answers_and_its_last_words_when_it_dies(tmp_path, monkeypatch):
    port = free_port()
    monkeypatch.setattr(serve_module, "streamlit_command", lambda host, p: [sys.executable, "-c", GIVES_UP, str(p)])
    done = CliRunner().invoke(cli, ["--db", str(new_db(tmp_path / "s.db")), "serve", "--port", str(port)])
    assert done.exit_code == 1
    assert done.stdout == ""  # the health check never said ok: no URL
    assert done.stderr.splitlines() == [
        "Error: the server stopped while starting (exit code 3): fake: gave up after 3 health checks"]


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period():
    server = ServerProcess([sys.executable, "-c", IGNORES_SIGTERM], dict(os.environ))
    server.start()
    deadline = time.monotonic() + 30
    while server.tail.last_line() != "ready" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.tail.last_line() == "ready"  # its SIGTERM handler is in place
    started = time.monotonic()
    server.stop(grace=0.3)
    assert server.proc.returncode == -signal.SIGKILL
    assert 0.3 <= time.monotonic() - started < 5


def test_the_server_bounds_uploads_and_messages():
    """Streamlit holds uploads in memory; its default (200 MB a file) let signed-out tabs take the server past
    1 GB. The launcher sets both bounds, and Streamlit reads them as the options they name."""
    from streamlit import config

    from annotator.cli.serve import streamlit_command

    command = streamlit_command("127.0.0.1", 8501)
    flags = dict(zip(command[5::2], command[6::2]))
    assert int(flags["--server.maxUploadSize"]) <= 50 and int(flags["--server.maxMessageSize"]) <= 50
    for flag in ("--server.maxUploadSize", "--server.maxMessageSize"):
        assert config.get_option(flag.removeprefix("--")) is not None  # an option this Streamlit knows

"""What a visitor who never signs in can make the app server hold with uploads, and what an admin can.

Starts the real server (`annotator serve` on a database `init` made, with one admin), then, as the
issue's attack did: --sessions signed-out tabs (each fetches the page for its XSRF cookie and opens the
websocket, which makes a session) each PUT --files files of --mb MB to /_stcore/upload_file/SESSION/ID with
the XSRF token of their own cookie, under made-up file ids. Reports the HTTP answers, the bytes Streamlit's
upload manager holds (its own metrics endpoint) and the server's resident memory: before, after the PUTs,
and --linger seconds after the tabs closed (Streamlit drops a closed session's files
server.disconnectedSessionTTL = 120 s after it closed). Then the same for one admin's session.

Run: python benchmarks/bench_uploads.py [--sessions 3] [--files 4] [--mb 49] [--linger 150]
     [--annotator PATH]   (another installation's `annotator`, e.g. a version before the upload gate)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.upload_client import Visitor, held_upload_bytes, random_bytes, rss_mb, server_pid  # noqa: E402

MB = 2**20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_db(annotator: str, folder: Path) -> tuple[Path, str]:
    db = folder / "app.db"
    subprocess.run([annotator, "--db", str(db), "init"], check=True, capture_output=True, cwd=folder)
    added = subprocess.run([annotator, "--db", str(db), "users", "add", "lead", "--role", "admin"], check=True,
                           capture_output=True, text=True, cwd=folder).stdout
    token = next(line.split("token:", 1)[1].strip() for line in added.splitlines() if "token:" in line)
    return db, token


def _serve(annotator: str, db: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    # From the database's folder: run from a checkout, the server would import the checkout's `annotator/`
    # (python -m puts the working directory first on sys.path), not the installation asked for.
    proc = subprocess.Popen([annotator, "--db", str(db), "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, cwd=db.parent)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)  # poll while the server starts
    raise RuntimeError("the server did not answer within 120 s")


def _round(sessions: int, files: int, size_mb: float, url: str, pid: int, query: str, linger: float) -> dict:
    before = rss_mb(pid)
    visitors = [Visitor(url, query=query) for _ in range(sessions)]
    payload = random_bytes(int(size_mb * MB))
    answers = Counter(v.put(payload) for v in visitors for _ in range(files))
    time.sleep(6)  # the metrics endpoint caches its memory figures for a few seconds
    held, after = held_upload_bytes(url), rss_mb(pid)
    for v in visitors:
        v.close()
    deadline = time.monotonic() + linger
    while time.monotonic() < deadline and held_upload_bytes(url) > 0:
        time.sleep(2)  # waiting for Streamlit to expire the closed sessions
    return {"put_answers": dict(answers), "held_mb_after_puts": round(held / MB, 1),
            "rss_mb_before": round(before), "rss_mb_after_puts": round(after),
            "held_mb_after_close": round(held_upload_bytes(url) / MB, 1), "rss_mb_after_close": round(rss_mb(pid))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--mb", type=float, default=49.0, help="size of each file (the server's bound is 50 MB)")
    parser.add_argument("--linger", type=float, default=150.0, help="seconds to wait after the tabs close")
    parser.add_argument("--annotator", default=str(Path(sys.executable).parent / "annotator"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as folder:
        db, token = _make_db(args.annotator, Path(folder))
        proc, url = _serve(args.annotator, db)
        try:
            pid = server_pid(proc.pid)
            Visitor(url).close()  # the first run imports the app's modules: not what the uploads cost
            signed_out = _round(args.sessions, args.files, args.mb, url, pid, "", args.linger)
            admin = _round(1, args.files + 2, args.mb, url, pid, f"token={token}", args.linger)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    print(json.dumps({
        "machine": f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "annotator": args.annotator,
        "signed_out": {"sessions": args.sessions, "files_each": args.files, "mb_each": args.mb, **signed_out},
        "admin": {"sessions": 1, "files": args.files + 2, "mb_each": args.mb, **admin},
    }, indent=2))


if __name__ == "__main__":
    main()

"""Uploads on the real server: a visitor who never signs in cannot make it hold anything; an admin can, within bounds.

Streamlit (1.6x) accepts a file for any connected session and any file id (it checks neither that an uploader
was rendered nor who is signed in) and holds it in memory until the session expires: three signed-out tabs took
the server from 54 MB to 1.35 GB. These tests run `annotator serve` and talk to it as a browser tab would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from annotator import store
from annotator.app import upload_gate
from annotator.core.taxonomy import load_taxonomy
from tests.helpers import wait_until
from tests.upload_client import CUT_OFF, Visitor, held_upload_bytes, random_bytes, rss_mb, server_pid

MB = 2**20
# What a signed-out client may make the server hold: no upload at all, and resident memory within noise
# (30 refused PUTs of 4 MB; before the gate the server kept all 120 MB).
SIGNED_OUT_RSS_GROWTH_MB = 40


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`annotator serve` on a database with an admin and an annotator; yields its URL, tokens and pid."""
    folder = tmp_path_factory.mktemp("uploads")
    db_path = folder / "app.db"
    db = store.connect(db_path, create=True)
    store.save_taxonomy(db, load_taxonomy("mast"))
    tokens = {"lead": store.add_user(db, "lead", "admin"), "alice": store.add_user(db, "alice", "annotator")}
    db.conn.close()
    port = _free_port()
    annotator = Path(sys.executable).parent / "annotator"
    proc = subprocess.Popen([str(annotator), "--db", str(db_path), "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url) or proc.poll() is not None, timeout=120, what="the server to answer")
        assert proc.poll() is None, proc.stderr.read().decode()
        yield {"url": url, "tokens": tokens, "pid": server_pid(proc.pid)}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_a_signed_out_visitor_cannot_make_the_server_hold_uploads(server):
    url = server["url"]
    Visitor(url).close()  # the first run imports the app's modules: not what a visitor makes the server hold
    visitors = [Visitor(url) for _ in range(3)]  # three tabs on the sign-in page
    before = rss_mb(server["pid"])
    try:
        statuses = [v.put(random_bytes(4 * MB)) for v in visitors for _ in range(10)]
        # refused before the body is read: 400, or (the server closing while 4 MB are still on their way) a cut-off
        assert set(statuses) <= {400, CUT_OFF}, statuses
        assert held_upload_bytes(url) == 0
        growth = rss_mb(server["pid"]) - before
        assert growth < SIGNED_OUT_RSS_GROWTH_MB, f"the server grew by {growth:.0f} MB"
    finally:
        for v in visitors:
            v.close()


def test_a_signed_in_annotator_cannot_upload_either(server):
    visitor = Visitor(server["url"], query=f"token={server['tokens']['alice']}")
    try:
        assert visitor.put(b'{"id": "a", "text": "x"}\n') == 400
    finally:
        visitor.close()


def test_an_admin_uploads_up_to_the_bound_of_files(server):
    url = server["url"]
    admin = Visitor(url, query=f"token={server['tokens']['lead']}")
    try:
        statuses = [admin.put(b'{"id": "a", "text": "x"}\n') for _ in range(upload_gate.MAX_FILES + 3)]
        assert statuses == [204] * upload_gate.MAX_FILES + [400] * 3
        wait_until(lambda: held_upload_bytes(url), until=lambda held: held > 0, timeout=30,
                   what="the server to report the admin's files")
    finally:
        admin.close()


@pytest.mark.parametrize(("held", "room"), [((0, 0), True), ((3, 150 * MB), True), ((3, 150 * MB + 1), False),
                                            ((upload_gate.MAX_FILES, 0), False)])
def test_an_admin_session_holds_at_most_the_bound_of_bytes(held, room):
    """With 50 MB files and a 200 MB bound: a fourth file fits after 150 MB, not one byte more."""
    upload_gate.permit("s-admin", True)
    assert upload_gate.MAX_SESSION_MB == 200
    assert upload_gate.may_upload("s-admin", held, file_mb=50) is room
    upload_gate.permit("s-admin", False)
    assert upload_gate.may_upload("s-admin", (0, 0), file_mb=50) is False

"""`judge run --batch` from the command line in a fresh interpreter: a run killed between submitting its
batch and downloading it resumes by the batch id without a second submission, and the API key reaches
the server but never the database, the log or the output."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from batch_server import BatchServer
from helpers import run_annotator, run_cli, wait_until
from judge_helpers import MAST_CODES, MODEL, make_judge_db

SECRET = "sk-test-BATCHSECRET42"


@pytest.fixture
def batch_server():
    server = BatchServer(MAST_CODES).start()
    yield server
    server.stop()


def _submitted(db_path: Path) -> str | None:
    con = sqlite3.connect(db_path, timeout=30)
    try:
        row = con.execute("SELECT batch_id FROM judge_batches WHERE batch_id IS NOT NULL").fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


@pytest.mark.slow
def test_sigkill_between_submit_and_download_then_resume_submits_nothing_twice(batch_server, tmp_path):
    db_path = tmp_path / "kill.db"
    n = 5
    make_judge_db(db_path, [f"segment {i} [[present:1.{i % 5 + 1}]]" for i in range(n)])[0].conn.close()
    batch_server.hold.set()  # the batch waits in_progress until the run is killed
    args = ("judge", "run", "--batch", "--model", MODEL, "--api-base", batch_server.base_url,
            "--poll-interval", "0.05")
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(db_path), *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    batch_id = wait_until(lambda: proc.poll() is not None or _submitted(db_path), timeout=300,
                          what="the batch id stored by the run to kill")
    proc.send_signal(signal.SIGKILL)
    stderr = proc.communicate(timeout=30)[1].decode()
    assert proc.returncode == -signal.SIGKILL and batch_id == "batch_0001", stderr
    (listed,) = json.loads(run_cli("judge", "list", "--json", db=db_path).stdout)
    assert listed["status"] == "interrupted" and listed["batches"][0]["status"] in ("validating", "in_progress")
    assert listed["done"] == 0

    batch_server.hold.clear()
    resumed = run_cli("judge", "run", "--batch", "--resume", str(listed["run_id"]), "--poll-interval", "0.01",
                      db=db_path)
    assert resumed.exit_code == 0, resumed.output
    assert f"{n} judged, 0 cached, 0 failed of {n}" in resumed.stdout
    assert batch_server.batch_creates == 1 and batch_server.uploads == 1 and batch_server.count == 0
    con = sqlite3.connect(db_path)
    assert con.execute("SELECT COUNT(*), COUNT(DISTINCT segment_id) FROM judge_calls WHERE parsed IS NOT NULL"
                       " AND run_id = ?", [listed["run_id"]]).fetchone() == (n, n)
    assert con.execute("SELECT COUNT(DISTINCT segment_id) FROM labels").fetchone()[0] == n
    con.close()
    live = run_cli("judge", "run", "--model", MODEL, "--api-base", batch_server.base_url, db=db_path)
    assert live.exit_code == 0 and f"0 judged, {n} cached" in live.stdout and batch_server.count == 0


def test_api_key_reaches_the_server_but_never_the_database_log_or_output(batch_server, tmp_path):
    db_path = tmp_path / "secret.db"
    make_judge_db(db_path, ["a [[present:1.1]]", "b [[scenario:batchleak]]", "c [[scenario:batchfail]]"])[0].conn.close()
    env = {"OPENAI_API_KEY": SECRET, "LITELLM_LOG": "DEBUG"}
    run = run_annotator("--db", str(db_path), "judge", "run", "--batch", "--model", MODEL, "--api-base",
                        batch_server.base_url, "--poll-interval", "0.01", cwd=tmp_path, env=env, timeout=300)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr  # one line failed: exit 1
    assert batch_server.batch_auth and all(h == f"Bearer {SECRET}" for h in batch_server.batch_auth)  # used...
    listed = run_cli("judge", "list", "--json", db=db_path, env=env)
    outputs = run.stdout + run.stderr + listed.stdout + listed.stderr
    assert "BATCHSECRET42" not in outputs  # ...and shown nowhere
    con = sqlite3.connect(db_path)
    raw = [r[0] for r in con.execute("SELECT raw_response FROM judge_calls WHERE raw_response LIKE '%submitted with%'")]
    assert raw and all("[redacted]" in r for r in raw)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    files = [Path(f"{db_path}{s}") for s in ("", "-wal", "-shm")] + list(tmp_path.glob("annotator-logs/*"))
    for path in files:
        if path.is_file():
            assert b"BATCHSECRET42" not in path.read_bytes(), path

"""`annotator judge run|list` as a user runs them: output, exit codes, secrets, SIGKILL and resume, lazy import."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from judge_helpers import MODEL, llm_server, make_db  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
SECRET = "sk-test-SECRET123"


def annotator(db: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "annotator", "--db", str(db), *args], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def spawn(db: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(db), *args], cwd=REPO, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_run_list_and_dry_run_from_the_command_line(llm_server, tmp_path):
    db_path = tmp_path / "cli.db"
    make_db(db_path, ["a [[present:1.1]]", "b", "c [[scenario:prose]]"])[0].conn.close()
    base = ("judge", "run", "--model", MODEL, "--api-base", llm_server.base_url, "--max-attempts", "2")
    dry = annotator(db_path, *base, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "3 calls to make" in dry.stdout and "estimated cost: n/a" in dry.stdout and llm_server.count == 0
    run = annotator(db_path, *base)
    assert run.returncode == 0, run.stderr
    assert "2 judged, 0 cached, 1 failed of 3" in run.stdout
    assert "invalid answer: no JSON object" in run.stderr  # the failure is named, on stderr
    assert "judge: 3/3 done" in run.stderr  # the progress line
    listed = annotator(db_path, "judge", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)
    assert entry["rater"].startswith(f"judge:{MODEL}@") and (entry["done"], entry["failed"]) == (2, 1)
    assert entry["status"] == "done" and entry["latency_p50_ms"] > 0 and entry["tokens"] > 0
    text = annotator(db_path, "judge", "list")
    assert "2 done, 0 cached, 1 failed of 3" in text.stdout and "p50/p95" in text.stdout


def test_user_errors_are_one_line(tmp_path, llm_server):
    db_path = tmp_path / "e.db"
    make_db(db_path, ["a"])[0].conn.close()
    bad_prompt = annotator(db_path, "judge", "run", "--model", MODEL, "--prompt", str(tmp_path / "nope.md"))
    assert bad_prompt.returncode != 0 and "nope.md" in bad_prompt.stderr
    assert len(bad_prompt.stderr.strip().splitlines()) == 1
    bad_tax = annotator(db_path, "judge", "run", "--model", MODEL, "--taxonomy", "mast@9", "--dry-run")
    assert bad_tax.returncode != 0 and "mast@9" in bad_tax.stderr and "Traceback" not in bad_tax.stderr


def test_api_key_never_reaches_the_database_or_the_output(llm_server, tmp_path):
    db_path = tmp_path / "secret.db"
    make_db(db_path, ["a [[present:1.1]]", "b [[scenario:leak]]", "c [[scenario:err500]]",
                      "d [[scenario:prose]]"])[0].conn.close()
    env = {"OPENAI_API_KEY": SECRET, "LITELLM_LOG": "DEBUG"}
    run = annotator(db_path, "judge", "run", "--model", MODEL, "--api-base", llm_server.base_url,
                    "--max-attempts", "3", "--timeout", "5", env=env)
    assert run.returncode == 0, run.stderr
    assert all(h == f"Bearer {SECRET}" for h in llm_server.auth_headers)  # the key was used...
    listed = annotator(db_path, "judge", "list", "--json", env=env)
    outputs = run.stdout + run.stderr + listed.stdout + listed.stderr
    assert SECRET not in outputs and "SECRET123" not in outputs  # ...and shown nowhere
    con = sqlite3.connect(db_path)
    errors = [r[0] for r in con.execute("SELECT attempt_errors || COALESCE(error, '') || COALESCE(raw_response, '')"
                                        " FROM judge_calls")]
    assert any("[redacted]" in e for e in errors)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{db_path}{suffix}")
        if path.exists():
            assert b"SECRET123" not in path.read_bytes(), path


def _finished(db_path: Path) -> set[int]:
    con = sqlite3.connect(db_path, timeout=30)
    try:
        return {r[0] for r in con.execute("SELECT segment_id FROM judge_calls WHERE parsed IS NOT NULL")}
    except sqlite3.OperationalError:
        return set()
    finally:
        con.close()


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_redoes_no_finished_segment(llm_server, tmp_path):
    db_path = tmp_path / "kill.db"
    n = 40
    make_db(db_path, [f"segment-{i:03d} [[latency:0.25]]" for i in range(n)])[0].conn.close()
    args = ("judge", "run", "--model", MODEL, "--api-base", llm_server.base_url, "--concurrency", "4")
    proc = spawn(db_path, *args)
    deadline = time.monotonic() + 90
    while len(_finished(db_path)) < 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done_before = _finished(db_path)
    assert 10 <= len(done_before) < n
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    listed = json.loads(annotator(db_path, "judge", "list", "--json").stdout)
    assert listed[0]["status"] == "interrupted"
    sent_before = llm_server.count

    rerun = annotator(db_path, *args)
    assert rerun.returncode == 0, rerun.stderr
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    second = {r[0] for r in con.execute("SELECT segment_id FROM judge_calls WHERE run_id = 2")}
    assert second.isdisjoint(done_before)  # nothing finished was redone...
    assert len(done_before) + len(second) == n  # ...and everything else was done once
    assert llm_server.count - sent_before == n - len(done_before)
    labelled = con.execute("SELECT COUNT(DISTINCT segment_id) FROM labels").fetchone()[0]
    assert labelled == n
    con.close()
    again = annotator(db_path, *args)
    assert again.returncode == 0 and f"0 judged, {n} cached" in again.stdout
    assert llm_server.count - sent_before == n - len(done_before)


def test_cli_and_judge_list_do_not_import_litellm(tmp_path):
    db = tmp_path / "lazy.db"
    code = (
        "import sys\n"
        "import annotator.cli.main\n"
        "assert 'litellm' not in sys.modules, 'import annotator.cli.main'\n"
        "from click.testing import CliRunner\n"
        f"for args in (['--help'], ['judge', '--help'], ['judge', 'run', '--help'], ['--db', {str(db)!r}, 'judge', 'list']):\n"
        "    result = CliRunner().invoke(annotator.cli.main.cli, args)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        "    assert 'litellm' not in sys.modules, args\n"
        "import annotator.judge\n"
        "assert 'litellm' not in sys.modules, 'import annotator.judge'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr

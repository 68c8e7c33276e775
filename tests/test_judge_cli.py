"""`annotator judge run|list` as a user runs them: output, exit codes, secrets, SIGKILL and resume, lazy import.

In-process through click's runner, except where a fresh interpreter is the point: a run killed with
SIGKILL, litellm's own debug logging switched on at its import, and the commands that must not import
litellm at all.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import new_db, run_annotator, run_cli, wait_until
from judge_helpers import MODEL, make_judge_db

SECRET = "sk-test-SECRET123"


def test_run_list_and_dry_run_from_the_command_line(llm_server, tmp_path):
    db_path = tmp_path / "cli.db"
    make_judge_db(db_path, ["a [[present:1.1]]", "b", "c [[scenario:prose]]"])[0].conn.close()
    base = ("judge", "run", "--model", MODEL, "--api-base", llm_server.base_url, "--max-attempts", "2")
    dry = run_cli(*base, "--dry-run", db=db_path)
    assert dry.exit_code == 0, dry.output
    assert "3 calls to make" in dry.stdout and "estimated cost: n/a" in dry.stdout and llm_server.count == 0
    run = run_cli(*base, db=db_path)
    assert run.exit_code == 1, run.output  # a call failed after retries
    assert "2 judged, 0 cached, 1 failed of 3" in run.stdout
    assert "invalid answer: no JSON object" in run.stderr  # the failure is named, on stderr
    assert "judge: 3/3 done" in run.stderr  # the progress line
    listed = run_cli("judge", "list", "--json", db=db_path)
    assert listed.exit_code == 0, listed.output
    (entry,) = json.loads(listed.stdout)
    assert entry["rater"].startswith(f"judge:{MODEL}@") and (entry["done"], entry["failed"]) == (2, 1)
    assert entry["status"] == "done" and entry["state"] == "done with 1 failure" and entry["latency_p50_ms"] > 0 and entry["tokens"] > 0
    text = run_cli("judge", "list", db=db_path)
    assert "2 done, 0 cached, 1 failed of 3" in text.stdout and "p50/p95" in text.stdout


def test_user_errors_are_one_line(tmp_path):
    db_path = tmp_path / "e.db"
    make_judge_db(db_path, ["a"])[0].conn.close()
    bad_prompt = run_cli("judge", "run", "--model", MODEL, "--prompt", str(tmp_path / "nope.md"), db=db_path)
    assert bad_prompt.exit_code != 0 and "nope.md" in bad_prompt.stderr
    assert len(bad_prompt.stderr.strip().splitlines()) == 1
    bad_tax = run_cli("judge", "run", "--model", MODEL, "--taxonomy", "mast@9", "--dry-run", db=db_path)
    assert bad_tax.exit_code != 0 and "mast@9" in bad_tax.stderr and "Traceback" not in bad_tax.stderr


def test_api_key_never_reaches_the_database_or_the_output(llm_server, tmp_path):
    """A fresh process, because litellm reads LITELLM_LOG=DEBUG when it is first imported: its debug
    logging (which prints request headers) must be silenced all the same."""
    db_path = tmp_path / "secret.db"
    make_judge_db(db_path, ["a [[present:1.1]]", "b [[scenario:leak]]", "c [[scenario:err500]]",
                            "d [[scenario:prose]]"])[0].conn.close()
    env = {"OPENAI_API_KEY": SECRET, "LITELLM_LOG": "DEBUG"}
    run = run_annotator("--db", str(db_path), "judge", "run", "--model", MODEL, "--api-base", llm_server.base_url,
                        "--max-attempts", "3", "--timeout", "5", cwd=tmp_path, env=env)
    assert run.returncode == 1, run.stderr  # two segments failed after retries: exit 1, no traceback
    assert "Traceback" not in run.stderr
    assert llm_server.auth_headers and all(h == f"Bearer {SECRET}" for h in llm_server.auth_headers)  # used...
    listed = run_cli("judge", "list", "--json", db=db_path, env=env)
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
    make_judge_db(db_path, [f"segment-{i:03d} [[latency:0.25]]" for i in range(n)])[0].conn.close()
    args = ("judge", "run", "--model", MODEL, "--api-base", llm_server.base_url, "--concurrency", "4")
    proc = subprocess.Popen([sys.executable, "-m", "annotator", "--db", str(db_path), *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    wait_until(lambda: proc.poll() is not None or len(_finished(db_path)) >= 10, timeout=120,
               what="ten segments judged by the run to kill")  # (or the run ended: the asserts below say so)
    proc.send_signal(signal.SIGKILL)
    stderr = proc.communicate(timeout=30)[1].decode()
    assert proc.returncode == -signal.SIGKILL, stderr
    done_before = _finished(db_path)
    assert 10 <= len(done_before) < n
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    listed = json.loads(run_cli("judge", "list", "--json", db=db_path).stdout)
    assert listed[0]["status"] == "interrupted"
    sent_before = llm_server.count

    rerun = run_cli(*args, db=db_path)
    assert rerun.exit_code == 0, rerun.output
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    second = {r[0] for r in con.execute("SELECT segment_id FROM judge_calls WHERE run_id = 2")}
    assert second.isdisjoint(done_before)  # nothing finished was redone...
    assert len(done_before) + len(second) == n  # ...and everything else was done once
    assert llm_server.count - sent_before == n - len(done_before)
    labelled = con.execute("SELECT COUNT(DISTINCT segment_id) FROM labels").fetchone()[0]
    assert labelled == n
    con.close()
    again = run_cli(*args, db=db_path)
    assert again.exit_code == 0 and f"0 judged, {n} cached" in again.stdout
    assert llm_server.count - sent_before == n - len(done_before)


def test_cli_and_judge_list_do_not_import_litellm(tmp_path):
    db = new_db(tmp_path / "lazy.db")
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
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr

"""Errors that tell users from bugs: a user error is one line and exit 1; a bug is one line naming the log
file (which holds its traceback) and exit 2; the log never holds a key."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys

import pytest
from app_helpers import MAIN
from click.testing import CliRunner
from helpers import new_db

from annotator import store
from annotator.cli.main import cli
from annotator.core.errors import UserError
from annotator.core.taxonomy import load_taxonomy
from annotator.services import logs

SECRET = "sk-test-0123456789abcdefSECRET"


@pytest.fixture(autouse=True)
def _own_log_file():
    """Each test starts without a log handler and leaves none behind for other tests."""
    yield
    logger = logging.getLogger(logs.ROOT_LOGGER)
    for handler in list(logger.handlers):
        if isinstance(handler, logs._LogFile):
            logger.removeHandler(handler)
            handler.close()


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_a_bug_exits_2_with_one_line_naming_the_log_that_holds_its_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    def broken(db):
        raise RuntimeError(f"boom while counting (key {SECRET})")

    monkeypatch.setattr(store, "database_stats", broken)
    db = tmp_path / "data" / "a.db"
    db.parent.mkdir()
    done = invoke("--db", str(new_db(db)), "stats")
    log_file = tmp_path / "data" / "annotator-logs" / "annotator.log"
    assert done.exit_code == 2
    assert lines(done.stderr) == [(f"internal error: RuntimeError: boom while counting (key [redacted]) "
                                  f"(traceback in {log_file})")]
    text = log_file.read_text()
    assert "Traceback (most recent call last)" in text and 'raise RuntimeError(f"boom while counting' in text
    assert SECRET not in text and SECRET not in done.stderr


def test_sql_that_fails_is_a_bug_not_a_user_error(tmp_path, monkeypatch):
    def broken(db):
        raise sqlite3.OperationalError("no such table: nothing")

    monkeypatch.setattr(store, "database_stats", broken)
    done = invoke("--db", str(new_db(tmp_path / "a.db")), "stats")
    assert done.exit_code == 2 and lines(done.stderr)[0].startswith("internal error: OperationalError: no such table")


def test_debug_lets_the_bug_raise(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "database_stats", lambda db: 1 / 0)
    done = invoke("--db", str(new_db(tmp_path / "a.db")), "stats", env={"ANNOTATOR_DEBUG": "1"})
    assert isinstance(done.exception, ZeroDivisionError)


def test_when_the_log_cannot_be_written_the_line_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "database_stats", lambda db: 1 / 0)
    (tmp_path / logs.LOG_DIR).write_text("a file where the log folder would go")
    done = invoke("--db", str(new_db(tmp_path / "a.db")), "stats")
    assert done.exit_code == 2
    (line,) = lines(done.stderr)
    assert line.startswith("internal error: ZeroDivisionError: division by zero (no log: cannot write ")
    assert "ANNOTATOR_DEBUG=1" in line


@pytest.mark.parametrize("args, message", [
    (["taxonomy", "show", "nothere"], "no taxonomy 'nothere'"),  # StoreError
    (["import", "{tmp}/missing.jsonl"], "missing.jsonl: no such file"),  # IngestError
    (["export", "segments", "--out", "{tmp}/no/such/folder/s.csv"], "s.csv: cannot write: no such file or directory"),
    (["import"], "Missing argument 'PATHS...' (see 'annotator import --help')"),  # click's usage error
    (["stats", "--bogus"], "No such option '--bogus'"),
])
def test_user_errors_exit_1_with_one_line(tmp_path, args, message):
    db = new_db(tmp_path / "a.db")
    done = CliRunner().invoke(cli, ["--db", str(db), *[a.format(tmp=tmp_path) for a in args]], prog_name="annotator")
    assert done.exit_code == 1, done.output
    (line,) = lines(done.stderr)
    assert line.startswith("Error: ") and message in line, line
    assert not (tmp_path / logs.LOG_DIR).exists()  # nothing to log for a user's mistake


def test_a_file_that_is_not_a_database_is_named(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database " * 100)
    done = invoke("--db", str(notes), "stats")
    assert done.exit_code == 1
    assert lines(done.stderr) == [f"Error: {notes}: not an annotator database (the file is not SQLite)"]


def test_a_locked_database_is_named(tmp_path, monkeypatch):
    path = tmp_path / "busy.db"
    store.connect(path).conn.close()
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")  # another program writing, for longer than we wait
    monkeypatch.setattr("annotator.store.db.BUSY_TIMEOUT_S", 0.05)
    try:
        done = invoke("--db", str(path), "users", "add", "alice")
    finally:
        holder.rollback()
        holder.close()
    assert done.exit_code == 1
    (line,) = lines(done.stderr)
    assert line.startswith(f"Error: {path}: the database is locked by another program"), line


def test_every_error_class_a_user_can_cause_is_a_user_error():
    from annotator.core.taxonomy import TaxonomyError
    from annotator.ingest import IngestError
    from annotator.judge import PromptError
    from annotator.services.annotate import AnnotateError
    from annotator.services.report import NoLabelsError

    for cls in (TaxonomyError, IngestError, PromptError, AnnotateError, NoLabelsError, store.StoreError,
                store.DatabaseFileError):
        assert issubclass(cls, UserError), cls
    for cls in (TaxonomyError, IngestError, PromptError, store.StoreError):
        assert issubclass(cls, ValueError), cls  # existing `except ValueError` clauses still catch them


def test_a_failed_background_judge_run_leaves_its_traceback_in_the_log_and_no_key(tmp_path, monkeypatch):
    from annotator.judge import JudgeOptions, run_progress, service, start_run_thread, wait_run

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    path = tmp_path / "judge.db"
    db = store.connect(path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    log_file = logs.configure(path)  # what the app does when it starts

    def broken_plan(db, options):
        raise RuntimeError(f"planner broke on a request with api_key={SECRET}")

    monkeypatch.setattr(service, "plan_run", broken_plan)
    run_id = start_run_thread(path, JudgeOptions(model="openai/test-model", api_base="http://127.0.0.1:9/v1"))
    assert wait_run(run_id, timeout=30)
    progress = run_progress(db, run_id)
    assert progress["status"] == "error" and progress["error"].startswith("RuntimeError: planner broke")
    text = log_file.read_text()
    assert f"judge run {run_id} failed: internal error" in text
    assert "Traceback (most recent call last)" in text and "in broken_plan" in text
    assert SECRET not in text and SECRET not in progress["error"]


def test_the_console_script_exits_2_on_a_bug(tmp_path):
    """One real process: the exit code a shell sees (ZeroDivisionError forced through a sitecustomize)."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import annotator.store as s\ns.database_stats = lambda db: 1 / 0\n")
    env = {"PYTHONPATH": str(hook), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "annotator", "--db", str(new_db(tmp_path / "a.db")), "stats"],
                          capture_output=True, text=True, env=env, timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    (line,) = lines(done.stderr)
    assert line == (f"internal error: ZeroDivisionError: division by zero "
                    f"(traceback in {tmp_path / logs.LOG_DIR / logs.LOG_FILE})")


def test_a_page_that_fails_in_the_server_leaves_its_traceback_in_the_log(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from annotator.services import annotate

    path = tmp_path / "annotator.db"  # $ANNOTATOR_DB (conftest)
    token = store.add_user(store.connect(path), "alice", "annotator")

    def broken(*args, **kwargs):
        raise RuntimeError("the annotate view broke")

    monkeypatch.setattr(annotate, "load_view", broken)
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.query_params["token"] = token
    at.run()
    assert at.exception  # Streamlit still shows it on the page
    text = (tmp_path / logs.LOG_DIR / logs.LOG_FILE).read_text()
    assert "ERROR annotator.app: page 'Annotate' failed" in text
    assert "Traceback (most recent call last)" in text and "RuntimeError: the annotate view broke" in text

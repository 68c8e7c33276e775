"""`--format langsmith`: LangSmith runs and feedback; dotted_order places runs whose ids are missing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from helpers import run_cli
from tracefile_fixtures import (
    FINAL,
    import_ok,
    langsmith_feedback,
    langsmith_runs,
    refused_in_one_line,
    turns_of,
    write_json,
    write_lines,
)

from annotator.ingest.langsmith import parse_dotted_order

# From the runs' story: the user's task; the planner's model gets its system prompt and calls search; the
# tool answers the planner; the planner's note opens the writer's prompt; the writer answers.
EXPECTED = [("user", None), ("system", "planner"), ("planner", "search"), ("search", "planner"),
            ("planner", None), ("writer", None)]




def test_runs_and_feedback_become_turns_and_labels(tmp_path):
    db = tmp_path / "a.db"
    result = import_ok(db, write_lines(tmp_path / "runs.jsonl", langsmith_runs() + langsmith_feedback()))
    assert "langsmith, 1 new of 1 traces, 2 labels added (segments: turn)" in result.output
    assert "1 scores or feedback whose name is not a mode" in result.output  # "correctness"
    turns = turns_of(db)
    assert [(s, r) for _, s, r, _ in turns] == EXPECTED
    assert '[tool call call_1] search({"q": "Rome sights"})' in turns[2][3]
    assert sum(FINAL in text for *_, text in turns) == 1
    con = sqlite3.connect(db)
    assert con.execute("SELECT format, framework, llm FROM traces").fetchall() == [
        ("langsmith", "LangSmith", "gpt-4o-mini")]
    labels = con.execute("SELECT r.name, r.kind, m.code, l.value FROM labels l JOIN raters r ON r.id = l.rater_id"
                         " JOIN modes m ON m.id = l.mode_id ORDER BY r.name").fetchall()
    assert labels == [("judge:langsmith-model", "judge", "2.6", 0), ("langsmith:ana", "human", "1.3", 1)]


def test_dotted_order_alone_places_every_run(tmp_path):
    runs = langsmith_runs()
    for run in runs:
        del run["trace_id"], run["parent_run_id"], run["start_time"]
    db = tmp_path / "a.db"
    import_ok(db, write_json(tmp_path / "runs.json", {"runs": runs}), "--format", "langsmith")
    assert [(s, r) for _, s, r, _ in turns_of(db)] == EXPECTED


def test_dotted_order_parts_are_time_and_run_id():
    run_id = "1b64098b-4ab7-43f6-afee-992304f198d8"
    child = "809ed3a2-0172-4f4d-8a02-a64e9b7a0f8a"
    parsed = parse_dotted_order(f"20230915T223155647000Z{run_id}.20230915T223155649123Z{child}")
    root_s = datetime(2023, 9, 15, 22, 31, 55, tzinfo=UTC).timestamp()
    assert parsed == [(int(root_s) * 10**9 + 647_000_000, run_id), (int(root_s) * 10**9 + 649_123_000, child)]
    with pytest.raises(ValueError):
        parse_dotted_order("yesterday" + run_id)


def test_threads_group_traces_into_sessions_and_reimport_adds_nothing(tmp_path):
    runs = langsmith_runs(1, "thread-a") + langsmith_runs(2, "thread-a") + langsmith_runs(3, "thread-b")
    path = write_json(tmp_path / "runs.json", runs)
    assert "3 new of 3 traces" in import_ok(tmp_path / "a.db", path).output
    db = tmp_path / "b.db"
    assert "2 new of 2 traces" in import_ok(db, path, "--group", "session").output
    assert {row[0] for row in turns_of(db)} == {"thread-a", "thread-b"}
    assert "0 new of 2 traces" in import_ok(db, path, "--group", "session").output


def _cycle(runs):
    runs[1]["parent_run_id"] = runs[2]["id"]  # planner under its own LLM call
    runs[1]["dotted_order"] = None
    return "cycle"


def _duplicate(runs):
    runs[3]["id"] = runs[2]["id"]
    runs[3]["dotted_order"] = None
    return f"duplicate span id {runs[2]['id']}"


def _foreign_dotted_order(runs):
    runs[2]["dotted_order"] = runs[3]["dotted_order"]
    return "dotted_order ends with run"


def _wrong_type(runs):
    runs[4]["start_time"] = [2025]
    return "field 'start_time' must be a time, not a list"


def _no_content(runs):
    del runs[3]  # a tool run is content of its own (the call)
    for run in runs:
        run["inputs"] = run["outputs"] = None
    return "no message content"


@pytest.mark.parametrize("spoil", [_cycle, _duplicate, _foreign_dotted_order, _wrong_type, _no_content])
def test_bad_runs_are_one_line_and_change_nothing(tmp_path, spoil):
    db = tmp_path / "a.db"
    import_ok(db, write_lines(tmp_path / "good.jsonl", langsmith_runs(9)))
    runs = langsmith_runs()
    expect = spoil(runs)
    path = write_lines(tmp_path / "bad.jsonl", runs)
    refused_in_one_line(db, path, expect)


def test_a_truncated_file_names_the_line(tmp_path):
    path = write_lines(tmp_path / "runs.jsonl", langsmith_runs())
    text = path.read_text()
    path.write_text(text[: len(text) - 40])
    result = run_cli("import", str(path), "--format", "langsmith", db=tmp_path / "a.db")
    assert result.exit_code == 1 and "line 6: malformed JSON" in result.stderr, result.stderr

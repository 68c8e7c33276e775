"""`--format langfuse`: Langfuse traces with observations and scores, as the public API returns them or as
JSON Lines; one trace per trace id (or per session), one turn per new message, tool run or delegation."""

from __future__ import annotations

import copy
import json
import sqlite3

import pytest
from helpers import run_cli
from tracefile_fixtures import FINAL, import_ok, langfuse_trace, refused_in_one_line, turns_of, write_json, write_lines

# What happened, read from the fixture's story: the user asks; the planner's model gets its system prompt,
# calls search; the tool answers the planner; the planner delegates to the writer; the writer answers.
EXPECTED = [("user", None), ("system", "planner"), ("planner", "search"), ("search", "planner"),
            ("planner", "writer"), ("writer", "planner")]




def test_a_trace_with_its_observations_and_scores(tmp_path):
    db = tmp_path / "a.db"
    result = import_ok(db, write_json(tmp_path / "trace.json", langfuse_trace()))  # --format auto
    assert "langfuse, 1 new of 1 traces, 2 labels added (segments: turn)" in result.output
    assert "1 scores or feedback whose name is not a mode" in result.output  # "helpfulness"
    turns = turns_of(db)
    assert [(s, r) for _, s, r, _ in turns] == EXPECTED
    assert "Plan a day in Rome." in turns[0][3]
    assert '[tool call call_1] search({"q": "Rome sights"})' in turns[2][3]
    assert "Colosseum, Vatican" in turns[3][3] and FINAL in turns[5][3]
    assert sum(FINAL in text for *_, text in turns) == 1  # the planner's and the trace's output repeat it
    con = sqlite3.connect(db)
    assert con.execute("SELECT external_id, format, framework, llm FROM traces").fetchall() == [
        ("lf-trace-1", "langfuse", "Langfuse", "gpt-4o-mini")]
    labels = con.execute("SELECT r.name, r.kind, m.code, l.value FROM labels l JOIN raters r ON r.id = l.rater_id"
                         " JOIN modes m ON m.id = l.mode_id ORDER BY m.code").fetchall()
    assert labels == [("langfuse:ana", "human", "1.1", 0), ("langfuse:ana", "human", "1.3", 1)]


def test_json_lines_of_loose_observations_and_scores_in_any_order(tmp_path):
    trace = langfuse_trace()
    loose = [*reversed(trace.pop("observations")), *trace.pop("scores"), trace]
    db = tmp_path / "a.db"
    import_ok(db, write_lines(tmp_path / "loose.jsonl", loose))
    assert [(s, r) for _, s, r, _ in turns_of(db)] == EXPECTED


def test_an_api_list_response_and_sessions(tmp_path):
    traces = [langfuse_trace("t-a", "sess-1"), langfuse_trace("t-b", "sess-1"), langfuse_trace("t-c", None)]
    traces[1]["observations"][0]["input"] = "Plan a day in Florence."
    traces[1]["input"] = "Plan a day in Florence."
    path = write_json(tmp_path / "list.json", {"data": traces, "meta": {"page": 1, "totalItems": 3}})
    by_trace, by_session = tmp_path / "a.db", tmp_path / "b.db"
    assert "3 new of 3 traces" in import_ok(by_trace, path, "--format", "langfuse").output
    assert "2 new of 2 traces" in import_ok(by_session, path, "--group", "session").output
    ids = {row[0] for row in turns_of(by_session)}
    assert ids == {"sess-1", "t-c"}


def test_importing_the_same_export_twice_adds_nothing(tmp_path):
    db, path = tmp_path / "a.db", write_json(tmp_path / "trace.json", langfuse_trace())
    import_ok(db, path)
    again = import_ok(db, path)
    assert "0 new of 1 traces, 0 labels added" in again.output
    assert len(turns_of(db)) == len(EXPECTED)


def test_a_missing_parent_is_repaired_and_reported(tmp_path):
    trace = langfuse_trace()
    trace["observations"][2]["parentObservationId"] = "gone"  # the search tool's parent
    db = tmp_path / "a.db"
    result = import_ok(db, write_json(tmp_path / "trace.json", trace))
    assert "1 spans whose parent is not in the trace, attached to the trace's root" in result.output
    # attached to the trace's root (which acts for no agent), so it follows the planner's span
    assert [s for _, s, _, _ in turns_of(db)].count("search") == 1


# --------------------------------------------------------------------------------------------------
# Bad input: one line naming the file, the record and the reason; the database unchanged


def _duplicate(trace: dict) -> str:
    trace["observations"][3]["id"] = "o2"
    return "duplicate span id o2"


def _cycle(trace: dict) -> str:
    trace["observations"][0]["parentObservationId"] = "o4"  # planner inside writer inside planner
    return "cycle"


def _no_content(trace: dict) -> str:
    trace["input"] = trace["output"] = None
    for o in trace["observations"]:
        o["input"] = o["output"] = None
        o["type"] = "GENERATION"
    return "no message content"


def _wrong_time(trace: dict) -> str:
    trace["observations"][1]["startTime"] = {"seconds": 2}
    return "field 'startTime' must be a time, not an object"


def _wrong_id(trace: dict) -> str:
    trace["observations"][1]["parentObservationId"] = ["o1"]
    return "field 'parentObservationId' must be text, not a list"


@pytest.mark.parametrize("spoil", [_duplicate, _cycle, _no_content, _wrong_time, _wrong_id])
def test_bad_exports_are_one_line_and_change_nothing(tmp_path, spoil):
    db = tmp_path / "a.db"
    import_ok(db, write_json(tmp_path / "good.json", langfuse_trace("other")))
    trace = copy.deepcopy(langfuse_trace())
    expect = spoil(trace)
    path = write_json(tmp_path / "bad.json", trace)
    refused_in_one_line(db, path, expect, "--format", "langfuse")


def test_a_truncated_export_is_one_line(tmp_path):
    text = json.dumps({"data": [langfuse_trace("t-a"), langfuse_trace("t-b")]}, indent=2)
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    result = run_cli("import", str(path), "--format", "langfuse", db=tmp_path / "a.db")
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "truncated" in result.stderr

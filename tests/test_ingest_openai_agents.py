"""`--format openai-agents`: OpenAI Agents SDK trace and span records; response spans carry no text."""

from __future__ import annotations

import sqlite3

import pytest
from helpers import run_cli
from tracefile_fixtures import agents_records, import_ok, refused_in_one_line, turns_of, write_json, write_lines

# The story: triage gets its system prompt and the user's question, calls the transfer tool, hands off to the
# weather agent; the weather agent runs get_weather, gets its own system prompt, and answers.
EXPECTED = [("system", "triage"), ("user", "triage"), ("triage", "transfer_to_weather"), ("triage", "weather"),
            ("get_weather", "weather"), ("system", "weather"), ("weather", None)]




def test_agents_generations_tools_and_a_handoff(tmp_path):
    db = tmp_path / "a.db"
    result = import_ok(db, write_lines(tmp_path / "trace.jsonl", agents_records()))
    assert "openai-agents, 1 new of 1 traces" in result.output and "segments: turn" in result.output
    turns = turns_of(db)
    assert [(s, r) for _, s, r, _ in turns] == EXPECTED
    assert "[handoff] to weather" in turns[3][3]
    assert '[tool call] get_weather({"city": "Paris"})' in turns[4][3] and "sunny, 21 C" in turns[4][3]
    assert "Sunny, 21 C in Paris." in turns[6][3]
    assert sum("Weather in Paris?" in text for *_, text in turns) == 1  # the second prompt repeats it
    con = sqlite3.connect(db)
    assert con.execute("SELECT external_id, framework, llm FROM traces").fetchall() == [
        ("trace_0123456789abcdef0123456789abcdef", "OpenAI Agents SDK", "gpt-4o-mini")]
    tags = dict(con.execute("SELECT key, value FROM trace_tags").fetchall())
    assert tags["workflow_name"] == "Agent workflow" and tags["session.id"] == "conv-1"


def test_response_spans_are_reported_not_invented(tmp_path):
    db = tmp_path / "a.db"
    result = import_ok(db, write_lines(tmp_path / "trace.jsonl", agents_records(responses=True)))
    assert "2 response spans, which the OpenAI Agents SDK exports without message text" in result.output
    assert [(s, r) for _, s, r, _ in turns_of(db)] == [("triage", "weather"), ("get_weather", "weather")]


def test_only_response_spans_is_no_content_with_the_reason(tmp_path):
    records = [r for r in agents_records(responses=True) if r.get("span_data", {}).get("type") != "function"]
    records = [r for r in records if r.get("span_data", {}).get("type") != "handoff"]
    result = run_cli("import", str(write_lines(tmp_path / "t.jsonl", records)), db=tmp_path / "a.db")
    assert result.exit_code == 1 and "no message content" in result.stderr and "response spans" in result.stderr


def test_the_ingest_payload_and_sessions(tmp_path):
    records = (agents_records("trace_a" * 5, "conv-1") + agents_records("trace_b" * 5, "conv-1")
               + agents_records("trace_c" * 5, None))
    path = write_json(tmp_path / "payload.json", {"data": records})
    assert "3 new of 3 traces" in import_ok(tmp_path / "a.db", path, "--format", "openai-agents").output
    db = tmp_path / "b.db"
    assert "2 new of 2 traces" in import_ok(db, path, "--group", "session").output
    assert "0 new of 2 traces" in import_ok(db, path, "--group", "session").output


def test_a_missing_parent_is_reported(tmp_path):
    records = agents_records()
    records[5]["parent_id"] = "span_gone"
    result = import_ok(tmp_path / "a.db", write_lines(tmp_path / "t.jsonl", records))
    assert "1 spans whose parent is not in the trace, attached to the trace's root" in result.output


def _duplicate(records):
    records[3]["id"] = records[2]["id"]
    return f"duplicate span id {records[2]['id']}"


def _cycle(records):
    records[1]["parent_id"] = records[2]["id"]
    return "cycle"


def _bad_span_data(records):
    records[2]["span_data"] = "generation"
    return "field 'span_data' must be an object, not text"


def _bad_time(records):
    records[4]["started_at"] = True
    return "field 'started_at' must be a time, not true/false"


def _not_a_record(records):
    records[3] = {"object": "response", "id": "resp_1"}
    return "not an OpenAI Agents trace or span record"


@pytest.mark.parametrize("spoil", [_duplicate, _cycle, _bad_span_data, _bad_time, _not_a_record])
def test_bad_records_are_one_line_and_change_nothing(tmp_path, spoil):
    db = tmp_path / "a.db"
    import_ok(db, write_lines(tmp_path / "good.jsonl", agents_records("trace_other")))
    records = agents_records()
    expect = spoil(records)
    path = write_lines(tmp_path / "bad.jsonl", records)
    refused_in_one_line(db, path, expect, "--format", "openai-agents")

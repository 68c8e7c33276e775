"""`--format ag2-log`: AG2 runtime-logging SQLite databases, read into one trace per session, one segment
per message or tool run, with speaker, recipient and time."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from ag2_fixture import Ag2Log, ts, two_agent_log
from helpers import db_fingerprint, run_cli


def _turns(db: Path, external_id: str | None = None) -> list[dict]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            'SELECT t.external_id, t.text, s.start, s."end", s.speaker, s.recipient, s.meta FROM segments s '
            "JOIN traces t ON t.id = s.trace_id WHERE s.scheme = 'turn' ORDER BY t.id, s.idx").fetchall()
    finally:
        con.close()
    return [{"trace": r[0], "text": r[1][r[2]:r[3]], "speaker": r[4], "recipient": r[5],
             "meta": json.loads(r[6]) if r[6] else {}}
            for r in rows if external_id is None or r[0] == external_id]


def _import(db: Path, path: Path, *args: str):
    result = run_cli("import", str(path), *args, db=db)
    assert result.exit_code == 0, result.output
    return result


def test_a_two_agent_chat_becomes_one_turn_per_message_and_tool_run(tmp_path):
    db = tmp_path / "a.db"
    result = _import(db, two_agent_log(tmp_path / "log.db"))  # --format auto, --segment turn by default
    assert "ag2-log, 1 new of 1 traces" in result.output and "segments: turn" in result.output
    turns = _turns(db)
    assert [(t["speaker"], t["recipient"], t["meta"]["kind"]) for t in turns] == [
        ("user_proxy", "assistant", "message"),
        ("assistant", "user_proxy", "tool_call"),
        ("get_weather", "user_proxy", "tool"),
        ("user_proxy", "assistant", "tool_result"),
        ("assistant", "user_proxy", "message"),
    ]
    assert "What is the weather in Paris?" in turns[0]["text"]
    assert '[tool call call_1] get_weather({"city": "Paris"})' in turns[1]["text"]
    assert '{"city": "Paris"}' in turns[2]["text"] and "sunny, 21 C" in turns[2]["text"]
    assert "It is sunny in Paris. TERMINATE" in turns[4]["text"]
    assert [t["meta"]["started_at"] for t in turns] == [ts(1), ts(2), ts(2.5), ts(3), ts(4)]
    con = sqlite3.connect(db)
    assert con.execute("SELECT external_id, format, framework, llm FROM traces").fetchall() == [
        ("0f6b4c1e-session-a", "ag2-log", "AG2", "gpt-4o-mini")]


def test_importing_the_same_log_twice_adds_nothing(tmp_path):
    db, log = tmp_path / "a.db", two_agent_log(tmp_path / "log.db")
    _import(db, log, "--format", "ag2-log")
    again = _import(db, log, "--format", "ag2-log")
    assert "0 new of 1 traces" in again.output
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM traces").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM segments WHERE scheme = 'turn'").fetchone()[0] == 5
    con.close()


def test_rows_are_read_in_time_order_not_insertion_order(tmp_path):
    log = Ag2Log(tmp_path / "log.db")
    log.agent("s1", "alice", at=0)
    log.agent("s1", "bob", at=0)
    log.received("s1", "bob", "alice", "second", at=5)
    log.received("s1", "alice", "bob", "first", at=2)
    log.received("s1", "bob", "alice", "third", at=9)
    db = tmp_path / "a.db"
    _import(db, log.close())
    assert [(t["speaker"], t["text"].split("\n")[1]) for t in _turns(db)] == [
        ("bob", "first"), ("alice", "second"), ("alice", "third")]


def test_a_group_chat_keeps_each_message_once_said_by_its_author(tmp_path):
    log = Ag2Log(tmp_path / "log.db")
    for name, cls in (("planner", "AssistantAgent"), ("coder", "AssistantAgent"),
                      ("chat_manager", "GroupChatManager")):
        log.agent("g", name, cls, at=0)
    log.received("g", "chat_manager", "planner", "Plan: write the function", at=1)
    # the manager relays the planner's message to the other member
    log.received("g", "coder", "chat_manager", {"content": "Plan: write the function", "name": "planner"}, at=1.1)
    log.received("g", "chat_manager", "coder", "def f(): pass", at=2)
    log.received("g", "planner", "chat_manager", {"content": "def f(): pass", "name": "coder"}, at=2.1)
    db = tmp_path / "a.db"
    _import(db, log.close())
    assert [(t["speaker"], t["recipient"]) for t in _turns(db)] == [
        ("planner", "chat_manager"), ("coder", "chat_manager")]


def test_each_session_is_its_own_trace_and_rows_follow_their_agents(tmp_path):
    log = Ag2Log(tmp_path / "log.db")
    log.agent("first", "a", at=0)
    log.agent("first", "b", at=0)
    log.agent("second", "c", at=10)
    log.agent("second", "d", at=10)
    log.received("first", "b", "a", "hello b", at=1)
    log.received("second", "d", "c", "hello d", at=11)
    log.received("first", "a", "b", "late reply in the first session", at=12)  # its agent says where it goes
    db = tmp_path / "a.db"
    result = _import(db, log.close())
    assert "2 new of 2 traces" in result.output
    assert [(t["trace"], t["speaker"]) for t in _turns(db)] == [("first", "a"), ("first", "b"), ("second", "c")]


def test_a_reused_agent_id_goes_to_the_session_running_at_that_time(tmp_path):
    log = Ag2Log(tmp_path / "log.db")
    log.agent("early", "x", at=0, agent_id=99)
    log.agent("early", "y", at=0, agent_id=98)
    log.agent("later", "x", at=20, agent_id=99)
    log.agent("later", "y", at=20, agent_id=98)
    log.received("early", "x", "y", "in the early session", at=5)
    log.received("later", "x", "y", "in the later session", at=25)
    db = tmp_path / "a.db"
    _import(db, log.close())
    assert [(t["trace"], t["text"].split("\n")[1]) for t in _turns(db)] == [
        ("early", "in the early session"), ("later", "in the later session")]


def test_segment_trace_is_still_possible(tmp_path):
    db = tmp_path / "a.db"
    _import(db, two_agent_log(tmp_path / "log.db"), "--segment", "trace")
    assert _turns(db) == []


# --------------------------------------------------------------------------------------------------
# Bad input: one line naming the file and the row, the database unchanged


def _bad_json_state(log: Ag2Log) -> str:
    log.raw_event(log.ids[("s", "b")], "b", '{"message": "cut', ts(1))
    return "events row 1: column 'json_state' is not valid JSON"


def _number_timestamp(log: Ag2Log) -> str:
    log.raw_event(log.ids[("s", "b")], "b", json.dumps({"message": "hi", "sender": "a"}), 12345)
    return "events row 1: column 'timestamp' must be text, not a number"


def _sender_object(log: Ag2Log) -> str:
    log.raw_event(log.ids[("s", "b")], "b", json.dumps({"message": "hi", "sender": {"n": 1}}), ts(1))
    return "events row 1: json_state 'sender' must be text, not an object"


def _no_messages(log: Ag2Log) -> str:
    log.raw_event(log.ids[("s", "b")], "b", json.dumps({"message": "", "sender": "a"}), ts(1))
    log.raw_event(log.ids[("s", "b")], "b", json.dumps({"reply": "x"}), ts(2), name="reply_func_executed")
    return "no message content"


@pytest.mark.parametrize("corrupt", [_bad_json_state, _number_timestamp, _sender_object, _no_messages])
def test_bad_rows_are_one_line_and_change_nothing(tmp_path, corrupt):
    db = tmp_path / "a.db"
    _import(db, two_agent_log(tmp_path / "good.db"))
    before = db_fingerprint(db)
    log = Ag2Log(tmp_path / "bad.db")
    log.agent("s", "a", at=0)
    log.agent("s", "b", at=0)
    expect = corrupt(log)
    path = log.close()
    result = run_cli("import", str(path), db=db)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and expect in lines[0], result.stderr
    assert db_fingerprint(db) == before


def test_a_truncated_log_is_refused_in_one_line(tmp_path):
    good = two_agent_log(tmp_path / "good.db")
    cut = tmp_path / "cut.db"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    db = tmp_path / "a.db"
    result = run_cli("import", str(cut), "--format", "ag2-log", db=db)
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(cut) in result.stderr and "SQLite" in result.stderr


def test_another_sqlite_database_is_not_taken_for_a_log(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE notes (id INTEGER, body TEXT)")
    for args in ([], ["--format", "ag2-log"]):
        result = run_cli("import", str(other), *args, db=tmp_path / "a.db")
        assert result.exit_code == 1 and "not an AG2 runtime log" in result.stderr, result.stderr


def test_the_log_file_itself_is_not_changed(tmp_path):
    log = two_agent_log(tmp_path / "log.db")
    copy = tmp_path / "copy.db"
    shutil.copy(log, copy)
    _import(tmp_path / "a.db", log)
    assert log.read_bytes() == copy.read_bytes()

"""Reader for AG2 / AutoGen 0.2 runtime logs: the SQLite database `autogen.runtime_logging.start()` writes.

Tables read (AG2's SqliteLogger):
    events(id, event_name, source_id, source_name, agent_class_name, json_state, timestamp)
        "received_message" rows: source_name received json_state.message from json_state.sender
    function_calls(source_id, source_name, function_name, args, returns, timestamp)    tools an agent ran
    agents(agent_id, session_id, name, class, timestamp)                               who is in which session
    chat_completions(session_id, source_name, request, response, start_time, ...)      the model(s) used

One trace per logging session, its turns in time order. Events and function calls carry no session id:
they belong to the session that registered their agent (`agents.agent_id` = `source_id`); an agent id
known in several sessions (Python reuses object ids) goes to the latest of them that started before the row.
A group chat manager relays each message to every member: those copies are left out (the speaker's own
message to the manager is kept), so each message appears once, said by its author.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from annotator.core.turns import render_messages
from annotator.ingest.records import TraceRecord, fail, kind_of
from annotator.store.spill import Spill

SQLITE_MAGIC = b"SQLite format 3\x00"
REQUIRED_TABLES = ("events",)
SESSION_TABLES = ("agents", "chat_completions")
NO_SESSION = ""
FRAMEWORK = "AG2"


def is_ag2_log(path: Path) -> bool:
    """An SQLite database with AG2's `events` table and one of its session tables."""
    tables = _tables(path)
    return all(t in tables for t in REQUIRED_TABLES) and any(t in tables for t in SESSION_TABLES)


def _connect(path: Path) -> sqlite3.Connection:
    # Read-only, so a log being written by a running system is never changed by the import.
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True)


def _tables(path: Path) -> set[str]:
    try:
        with _closing(_connect(path)) as con:
            return {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise fail(path, f"not a readable SQLite database ({exc})") from None


class _closing:
    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def __enter__(self) -> sqlite3.Connection:
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


@dataclass
class _Session:
    session_id: str
    started: str
    models: dict[str, None] = field(default_factory=dict)  # ordered set


@dataclass
class _Log:
    """What the small tables say: sessions, which agent ids are in which, which names are group chat managers."""

    path: Path
    sessions: dict[str, _Session]
    agent_sessions: dict[int, list[str]]
    managers: set[str]
    spill: Spill | None = None  # each session's messages, parked on disk until its trace is built

    def add(self, source_id: object, when: str, order: tuple, message: dict) -> None:
        assert self.spill is not None
        session = self.session_of(source_id, when)
        self.spill.add(session.session_id, json.dumps([order, message]).encode())

    @cached_property
    def ordered(self) -> list[_Session]:
        return sorted(self.sessions.values(), key=lambda s: s.started)

    def session_of(self, source_id: object, timestamp: str) -> _Session:
        ordered = self.ordered
        known = self.agent_sessions.get(source_id) if isinstance(source_id, int) else None
        candidates = [s for s in ordered if known is None or s.session_id in known] or ordered
        starts = [s.started for s in candidates]
        at = bisect.bisect_right(starts, timestamp)
        return candidates[max(at - 1, 0)]


def _text(path: Path, value: object, where: str, column: str, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise fail(path, f"column {column!r} must be text, not {kind_of(value)}", record=where)
    return value


def _json(path: Path, value: object, where: str, column: str) -> object:
    raw = _text(path, value, where, column, optional=True)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise fail(path, f"column {column!r} is not valid JSON ({exc.msg} at column {exc.colno})",
                   record=where) from None


def _read_sessions(path: Path, con: sqlite3.Connection, tables: set[str]) -> _Log:
    sessions: dict[str, _Session] = {}
    agent_sessions: dict[int, list[str]] = {}
    managers: set[str] = set()
    if "agents" in tables:
        for rowid, agent_id, session_id, name, cls, stamp in con.execute(
                "SELECT rowid, agent_id, session_id, name, class, timestamp FROM agents ORDER BY timestamp, rowid"):
            where = f"agents row {rowid}"
            session = _text(path, session_id, where, "session_id")
            sessions.setdefault(session, _Session(session, _text(path, stamp, where, "timestamp")))
            if isinstance(agent_id, int):
                agent_sessions.setdefault(agent_id, []).append(session)
            if isinstance(cls, str) and cls.endswith("GroupChatManager") and isinstance(name, str):
                managers.add(name)
    if "chat_completions" in tables:
        _read_completions(path, con, sessions)
    return _Log(path, sessions, agent_sessions, managers)


def _read_completions(path: Path, con: sqlite3.Connection, sessions: dict[str, _Session]) -> None:
    """Sessions seen only through their LLM calls, and the models each session used (metadata, not turns)."""
    for rowid, session_id, request, response, start in con.execute(
            "SELECT rowid, session_id, request, response, start_time FROM chat_completions "
            "ORDER BY start_time, rowid"):
        where = f"chat_completions row {rowid}"
        session = _text(path, session_id, where, "session_id")
        entry = sessions.setdefault(session, _Session(session, _text(path, start, where, "start_time")))
        entry.started = min(entry.started, _text(path, start, where, "start_time"))
        model = _model(_json(path, response, where, "response")) or _model(_json(path, request, where, "request"))
        if model:
            entry.models[model] = None


def _model(document: object) -> str | None:
    if isinstance(document, dict) and isinstance(document.get("model"), str) and document["model"].strip():
        return document["model"].strip()
    return None


# --------------------------------------------------------------------------------------------------
# Messages


def _content(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p.get("text") if isinstance(p, dict) else p for p in value]
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)  # type: ignore[arg-type]
    return json.dumps(value, ensure_ascii=False)


def _calls(message: dict) -> list[str]:
    """Tool calls (and the older single function_call) as lines '[tool call ID] name(arguments)'."""
    calls = message.get("tool_calls") or []
    if isinstance(message.get("function_call"), dict):
        calls = [*calls, {"function": message["function_call"]}] if isinstance(calls, list) else calls
    lines = []
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        ident = f" {call['id']}" if isinstance(call.get("id"), str) else ""
        lines.append(f"[tool call{ident}] {_content(function.get('name'))}({_content(function.get('arguments'))})")
    return lines


def _message_text(message: object) -> tuple[str, str | None, str]:
    """(text, role, kind) of what an agent received: a string, or a message dict with content/tool calls."""
    if isinstance(message, str):
        return message, None, "message"
    if not isinstance(message, dict):
        return _content(message), None, "message"
    role = message.get("role") if isinstance(message.get("role"), str) else None
    body = _content(message.get("content"))
    responses = message.get("tool_responses")
    if not body.strip() and isinstance(responses, list):
        body = "\n".join(_content(r.get("content")) for r in responses if isinstance(r, dict))
    calls = _calls(message)
    text = "\n".join(([body] if body.strip() else []) + calls)
    kind = "tool_call" if calls else "tool_result" if role in ("tool", "function") or responses else "message"
    return text, role, kind


def _received(log: _Log, con: sqlite3.Connection) -> None:
    path = log.path
    for rowid, source_id, receiver, state, stamp in con.execute(
            "SELECT id, source_id, source_name, json_state, timestamp FROM events "
            "WHERE event_name = 'received_message' ORDER BY timestamp, id"):
        where = f"events row {rowid}"
        when = _text(path, stamp, where, "timestamp")
        payload = _json(path, state, where, "json_state")
        if not isinstance(payload, dict):
            raise fail(path, "column 'json_state' must hold an object with 'message' and 'sender'", record=where)
        sender = payload.get("sender")
        if sender is not None and not isinstance(sender, str):
            raise fail(path, f"json_state 'sender' must be text, not {kind_of(sender)}", record=where)
        if sender in log.managers:
            continue  # a group chat manager's copy of a member's message
        text, role, kind = _message_text(payload.get("message"))
        if not text.strip():
            continue
        recipient = _text(path, receiver, where, "source_name", optional=True) or None
        meta = {"kind": kind, "started_at": when, "record": where}
        log.add(source_id, when, (when, 0, rowid),
                {"name": sender, "role": role, "recipient": recipient, "content": text, "meta": meta})


def _function_calls(log: _Log, con: sqlite3.Connection) -> None:
    """Each tool run: said by the tool, to the agent that ran it, with its arguments and result."""
    path = log.path
    for rowid, source_id, agent, name, args, returns, stamp in con.execute(
            "SELECT rowid, source_id, source_name, function_name, args, returns, timestamp FROM function_calls "
            "ORDER BY timestamp, rowid"):
        where = f"function_calls row {rowid}"
        when = _text(path, stamp, where, "timestamp")
        tool = _text(path, name, where, "function_name")
        text = (f"[tool call] {tool}({_text(path, args, where, 'args', optional=True)})\n"
                f"[result] {_text(path, returns, where, 'returns', optional=True)}")
        meta = {"kind": "tool", "started_at": when, "record": where}
        log.add(source_id, when, (when, 1, rowid),
                {"name": tool, "role": "tool", "content": text, "meta": meta,
                 "recipient": _text(path, agent, where, "source_name", optional=True) or None})


def read(path: Path) -> Iterator[TraceRecord]:
    """One TraceRecord per logging session that holds messages, in the order the sessions started."""
    tables = _tables(path)
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing or not any(t in tables for t in SESSION_TABLES):
        raise fail(path, "an SQLite database, but not an AG2 runtime log (no 'events' table with 'agents' "
                   "or 'chat_completions')")
    with Spill() as spill:
        try:
            with _closing(_connect(path)) as con:
                log = _read_sessions(path, con, tables)
                log.spill = spill
                if not log.sessions:
                    log.sessions[NO_SESSION] = _Session(NO_SESSION, "")
                _received(log, con)
                if "function_calls" in tables:
                    _function_calls(log, con)
        except sqlite3.DatabaseError as exc:  # a truncated or damaged file fails on the first page it cannot read
            raise fail(path, f"damaged SQLite database ({exc})") from None
        yield from _records(path, log, spill)


def _records(path: Path, log: _Log, spill: Spill) -> Iterator[TraceRecord]:
    """One trace per session that holds messages: memory holds one session's messages at a time."""
    index = 0
    held = set(spill.ordered_keys())
    for session in log.ordered:
        if session.session_id not in held:
            continue
        items = sorted((json.loads(blob) for blob in spill.items(session.session_id)), key=lambda item: item[0])
        text, turns = render_messages([message for _, message in items])
        models = ", ".join(session.models) or None
        yield TraceRecord(index=index, external_id=session.session_id or path.name, text=text, turns=turns,
                          framework=FRAMEWORK, llm=models, locator=f"session {session.session_id or '(none)'}")
        index += 1
    if index == 0:
        raise fail(path, "no message content: no 'received_message' events in any session "
                   "(was runtime logging started before the chat?)")

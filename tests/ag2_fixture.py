"""AG2 runtime-log databases written by the tests, with the tables and columns AG2's SqliteLogger creates
(autogen/logger/sqlite_logger.py: chat_completions, agents, events, function_calls; the others are left out)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE chat_completions(id INTEGER PRIMARY KEY, invocation_id TEXT, client_id INTEGER, wrapper_id INTEGER,
    session_id TEXT, source_name TEXT, request TEXT, response TEXT, is_cached INTEGER, cost REAL,
    start_time DATETIME DEFAULT CURRENT_TIMESTAMP, end_time DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE agents(id INTEGER PRIMARY KEY, agent_id INTEGER, wrapper_id INTEGER, session_id TEXT, name TEXT,
    class TEXT, init_args TEXT, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP, UNIQUE(agent_id, session_id));
CREATE TABLE events(event_name TEXT, source_id INTEGER, source_name TEXT, agent_module TEXT DEFAULT NULL,
    agent_class_name TEXT DEFAULT NULL, id INTEGER PRIMARY KEY, json_state TEXT,
    timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE function_calls(source_id INTEGER, source_name TEXT, function_name TEXT, args TEXT DEFAULT NULL,
    returns TEXT DEFAULT NULL, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);
"""


def ts(second: float) -> str:
    """A timestamp as AG2 writes it (UTC, microseconds), `second` seconds after 10:00:00."""
    whole = int(second)
    return f"2025-03-01 10:{whole // 60:02d}:{whole % 60:02d}.{round((second - whole) * 1e6):06d}"


@dataclass
class Ag2Log:
    """Builds one log database; agents are registered per session with their Python-id-like numbers."""

    path: Path
    ids: dict[tuple[str, str], int] = field(default_factory=dict)  # (session, name) -> agent_id

    def __post_init__(self) -> None:
        with sqlite3.connect(self.path) as con:
            con.executescript(SCHEMA)
        self.con = sqlite3.connect(self.path)

    def agent(self, session: str, name: str, cls: str = "ConversableAgent", *, at: float = 0.0,
              agent_id: int | None = None) -> int:
        agent_id = agent_id or 140_000_000 + len(self.ids) * 16
        self.ids[(session, name)] = agent_id
        self.con.execute("INSERT INTO agents (agent_id, wrapper_id, session_id, name, class, init_args, timestamp)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)", (agent_id, 7, session, name, cls, "{}", ts(at)))
        return agent_id

    def received(self, session: str, receiver: str, sender: str, message: object, *, at: float,
                 cls: str = "ConversableAgent") -> None:
        state = json.dumps({"message": message, "sender": sender, "valid": True})
        self.raw_event(self.ids[(session, receiver)], receiver, state, ts(at), cls=cls)

    def raw_event(self, source_id: object, receiver: object, state: object, stamp: object, *,
                  name: str = "received_message", cls: str = "ConversableAgent") -> None:
        self.con.execute("INSERT INTO events (source_id, source_name, event_name, agent_module, agent_class_name,"
                         " json_state, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (source_id, receiver, name, "autogen.agentchat", cls, state, stamp))

    def function(self, session: str, agent: str, name: str, args: dict, returns: object, *, at: float) -> None:
        self.con.execute("INSERT INTO function_calls (source_id, source_name, function_name, args, returns,"
                         " timestamp) VALUES (?, ?, ?, ?, ?, ?)",
                         (self.ids[(session, agent)], agent, name, json.dumps(args), json.dumps(returns), ts(at)))

    def completion(self, session: str, agent: str, model: str, reply: str, *, at: float) -> None:
        request = {"messages": [{"role": "user", "content": "..."}], "model": model}
        response = {"id": "chatcmpl-1", "model": model, "object": "chat.completion",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]}
        self.con.execute("INSERT INTO chat_completions (invocation_id, client_id, wrapper_id, session_id, request,"
                         " response, is_cached, cost, start_time, end_time, source_name)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         ("inv", 1, 7, session, json.dumps(request), json.dumps(response), 0, 0.0, ts(at),
                          ts(at + 0.5), agent))

    def close(self) -> Path:
        self.con.commit()
        self.con.close()
        return self.path


def two_agent_log(path: Path, session: str = "0f6b4c1e-session-a") -> Path:
    """user_proxy asks assistant; assistant calls a tool that user_proxy runs; assistant answers."""
    log = Ag2Log(path)
    log.agent(session, "user_proxy", "UserProxyAgent", at=0)
    log.agent(session, "assistant", "AssistantAgent", at=0.1)
    log.received(session, "assistant", "user_proxy", "What is the weather in Paris?", at=1)
    log.completion(session, "assistant", "gpt-4o-mini", "", at=1.2)
    log.received(session, "user_proxy", "assistant", {
        "content": None, "role": "assistant",
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}, at=2)
    log.function(session, "user_proxy", "get_weather", {"city": "Paris"}, "sunny, 21 C", at=2.5)
    log.received(session, "assistant", "user_proxy", {
        "role": "tool", "content": "sunny, 21 C",
        "tool_responses": [{"tool_call_id": "call_1", "role": "tool", "content": "sunny, 21 C"}]}, at=3)
    log.received(session, "user_proxy", "assistant", {"content": "It is sunny in Paris. TERMINATE",
                                                      "role": "assistant"}, at=4)
    return log.close()

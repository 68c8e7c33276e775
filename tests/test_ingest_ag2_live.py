"""End to end: a real two-agent AG2 conversation, logged by AG2's own runtime logging to SQLite against the
local OpenAI-compatible test server, imported with `--format auto`; every turn and speaker is checked
against the messages the agents actually exchanged (their chat history), not against the reader."""

from __future__ import annotations

import sqlite3

import pytest
from helpers import run_cli
from judge_helpers import MAST_CODES
from llm_server import LLMServer

autogen = pytest.importorskip("autogen", reason="the test extra installs ag2 (its `autogen` package)")


@pytest.fixture
def prose_server():
    server = LLMServer(MAST_CODES, default_scenario="prose").start()
    yield server
    server.stop()


def _agents(server: LLMServer, monkeypatch):
    # The OpenAI client reads its address from the environment: AG2 0.14's SQLite logger cannot serialise a
    # `base_url` given in the config (it becomes a pydantic Url, and log_new_wrapper raises TypeError).
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    config = {"config_list": [{"model": "test-model", "api_key": "sk-test"}],
              "cache_seed": None, "timeout": 30}
    writer = autogen.AssistantAgent("writer", llm_config=config, system_message="You write.")
    critic = autogen.AssistantAgent("critic", llm_config=config, system_message="You criticise.")
    return writer, critic


def test_a_real_ag2_chat_log_imports_with_every_turn_and_speaker(prose_server, tmp_path, monkeypatch):
    log = tmp_path / "runtime.db"
    session = autogen.runtime_logging.start(config={"dbname": str(log)})
    try:
        writer, critic = _agents(prose_server, monkeypatch)
        writer.initiate_chat(critic, message="Draft a two-line poem about rivers.", max_turns=2)
    finally:
        autogen.runtime_logging.stop()
    said = [(m["name"], m["content"]) for m in writer.chat_messages[critic]]
    assert len(said) == 4 and prose_server.count == 3  # the opening message, then three LLM replies

    db = tmp_path / "a.db"
    result = run_cli("import", str(log), db=db)
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(db)
    trace = con.execute("SELECT id, external_id, text, llm FROM traces").fetchall()
    assert len(trace) == 1 and trace[0][1] == session and trace[0][3] == "test-model"
    text = trace[0][2]
    turns = con.execute('SELECT speaker, recipient, start, "end" FROM segments WHERE scheme = \'turn\' '
                        "ORDER BY idx").fetchall()
    other = {"writer": "critic", "critic": "writer"}
    assert [(s, r) for s, r, _, _ in turns] == [(name, other[name]) for name, _ in said]
    for (_, content), (_, _, start, end) in zip(said, turns):
        assert content in text[start:end]

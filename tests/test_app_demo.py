"""`annotator demo` sets up accounts and hands alice segments; `serve` runs Streamlit safely."""

from __future__ import annotations

import json

import pytest

from annotator import store
from annotator.cli_serve import server_env, streamlit_command


@pytest.fixture
def demo(monkeypatch):
    pytest.importorskip("annotator.segments", reason="the importers need annotator.segments (merged from main)")
    from annotator import demo

    return demo


@pytest.fixture
def demo_file(tmp_path, monkeypatch, demo):
    path = tmp_path / "traces.jsonl"
    lines = [{"id": f"d{i}", "messages": [{"name": "Planner", "role": "assistant", "content": f"plan {i}"},
                                          {"name": "Coder", "role": "assistant", "content": f"code {i}"}],
              "metadata": {"framework": "Demo"},
              "labels": {"ann_a": {"1.1": i % 2}, "ann_b": {"1.1": 1}}} for i in range(15)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    monkeypatch.setattr(demo, "DEMO_TRACES", path)
    return path


def test_demo_gives_alice_segments_to_label(tmp_path, demo, demo_file):
    accounts = demo.build_demo(tmp_path / "demo.db", base_url="http://127.0.0.1:9999/")
    assert [(a.name, a.role) for a in accounts] == list(demo.DEMO_ACCOUNTS)
    assert all(a.link == f"http://127.0.0.1:9999/?token={a.token}" for a in accounts)
    db = store.connect(tmp_path / "demo.db")
    alice = store.user_for_token(db, accounts[0].token)
    progress = store.rater_progress(db, alice.rater_id)
    assert progress.assigned == demo.DEMO_HANDED_OUT and progress.done == 0
    assert store.get_settings(db).k == demo.DEMO_K


def test_serve_is_local_headless_and_sends_no_statistics(tmp_path):
    command = " ".join(streamlit_command("127.0.0.1", 8765))
    for flag in ("--server.address 127.0.0.1", "--server.headless true", "--browser.gatherUsageStats false",
                 "--server.port 8765"):
        assert flag in command
    env = server_env(tmp_path / "x.db")
    assert env["ANNOTATOR_DB"] == str((tmp_path / "x.db").resolve())
